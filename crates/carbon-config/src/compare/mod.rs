//! Two homes' configuration compared setting by setting: what `diff` shows
//! and what `capture --baseline` turns into edits.
//!
//! Every file under `repository/conf` is compared. XML files are compared
//! element by element ([`align`]): siblings are paired by what names them,
//! never by position, and each difference carries a path in the
//! [`xmlsplice::Path`] syntax that selects the element in either file, so
//! that it can be made again as a `[[raw]]` edit on another home, even one
//! of a newer version whose files moved things around. TOML files
//! (`deployment.toml`) are compared key by key, and so is DAS's
//! spark-defaults.conf; any other file by its bytes. The jars of `repository/components/lib` are compared by name and
//! content.
//!
//! Layout, comments and namespace prefixes are not settings: two homes
//! whose files differ only in them are equal here.

mod align;
mod walk;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::{CarbonHome, Result};

/// One difference between two homes, from the first (`before`) to the
/// second (`after`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The file, relative to the homes.
    pub file: PathBuf,
    /// What differs in it.
    #[serde(flatten)]
    pub kind: DifferenceKind,
}

/// What differs in one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The file is in one home only.
    OnlyIn {
        /// `before` or `after`.
        side: Side,
    },
    /// A setting of an XML file.
    Xml(XmlDifference),
    /// A key of a TOML file (`deployment.toml`), dotted
    /// (`clustering.members`), with its values as TOML (`None`: absent).
    Toml {
        /// The key.
        key: String,
        /// Its value in the first home.
        before: Option<String>,
        /// Its value in the second home.
        after: Option<String>,
    },
    /// A key of spark-defaults.conf (`key value` lines); `None`: absent.
    Property {
        /// The key.
        key: String,
        /// Its value in the first home.
        before: Option<String>,
        /// Its value in the second home.
        after: Option<String>,
    },
    /// Another file whose bytes differ, or an XML or TOML file one side
    /// cannot parse.
    Content {
        /// Why it is compared as bytes, when it should have been parsed.
        unreadable: Option<String>,
    },
}

/// Which of the two homes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The first home.
    Before,
    /// The second home.
    After,
}

/// A difference in one XML file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct XmlDifference {
    /// The element, in the path syntax: a path that selects it in the file
    /// it is in (both, unless it was added or removed).
    pub path: String,
    /// Whether `path` selects that element alone: false when siblings that
    /// nothing tells apart hold the same, or a value holds both quotes.
    pub exact: bool,
    /// What differs.
    #[serde(flatten)]
    pub change: Change,
}

/// What differs about one element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Its text, trimmed (empty: none).
    Text {
        /// In the first home.
        before: String,
        /// In the second.
        after: String,
    },
    /// An attribute, named as a path takes it (`{uri}local` when in a
    /// namespace); `None` where it is absent.
    Attribute {
        /// Its name.
        name: String,
        /// In the first home.
        before: Option<String>,
        /// In the second.
        after: Option<String>,
    },
    /// The element is in the second home only.
    Added {
        /// Its markup, as the second home's file writes it.
        markup: String,
        /// The path of the element it is in.
        parent: String,
        /// Where it stands among its siblings.
        place: Place,
    },
    /// The element is in the first home only.
    Removed {
        /// Its markup, as the first home's file writes it.
        markup: String,
        /// The second home holds it commented out, where it stood.
        commented_out: bool,
    },
    /// The files' root elements differ: nothing in them is compared.
    Root {
        /// The first home's root element.
        before: String,
        /// The second home's.
        after: String,
    },
}

/// Where an added element stands among its siblings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// First.
    First,
    /// Just after the sibling this path selects.
    After(String),
    /// After a sibling no path selects alone: last, as near as can be said.
    Last,
}

/// Every difference between the configuration of `before` and `after`,
/// file by file in path order.
///
/// # Errors
/// A file that cannot be read (not one that cannot be parsed: that is a
/// [`DifferenceKind::Content`] difference).
pub fn compare_homes(before: &CarbonHome, after: &CarbonHome) -> Result<Vec<Difference>> {
    walk::compare(before, &BTreeMap::new(), after, None)
}

/// [`compare_homes`], with `before` as `edited` would leave it: each file
/// there (relative to the home) in place of `before`'s own. Capture
/// compares a home with its baseline once the typed tables are planned on
/// it, so that only what they do not make is left to `[[raw]]` edits.
/// XML is parsed through `trees` when given: comparing many homes with
/// one baseline parses the baseline's files once.
///
/// # Errors
/// As [`compare_homes`].
pub fn compare_edited(
    before: &CarbonHome,
    edited: &BTreeMap<PathBuf, Vec<u8>>,
    after: &CarbonHome,
    trees: Option<&xmlsplice::TreeCache>,
) -> Result<Vec<Difference>> {
    walk::compare(before, edited, after, trees)
}

/// `markup` with the indentation its lines after the first share removed
/// (the first starts at its `<`): an element as it reads on its own.
pub fn dedented(markup: &str) -> String {
    let common = markup
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut lines = markup.lines();
    let mut out = lines.next().unwrap_or_default().to_string();
    for line in lines {
        out.push('\n');
        out.push_str(line.get(common..).unwrap_or(line.trim_start()));
    }
    out
}

/// The differences between two versions of one XML file.
pub fn compare_xml(
    before: &xmlsplice::Document,
    after: &xmlsplice::Document,
) -> Vec<XmlDifference> {
    align::compare_documents(before, after)
}

impl Difference {
    /// Whether the values of this difference are a secret's: an attribute,
    /// element or key named as one, an element a secret's name names
    /// (`Property[@name='password']`), as [`crate::secrets`] judges names,
    /// or a value that holds one ([`crate::secrets::holds_secret`]: a URL's
    /// `user:password`).
    pub fn is_secret(&self) -> bool {
        let holds = |v: Option<&String>| v.is_some_and(|v| crate::secrets::holds_secret(v));
        let values_hold = match &self.kind {
            DifferenceKind::Xml(XmlDifference {
                change: Change::Text { before, after },
                ..
            }) => holds(Some(before)) || holds(Some(after)),
            DifferenceKind::Xml(XmlDifference {
                change: Change::Attribute { before, after, .. },
                ..
            })
            | DifferenceKind::Toml { before, after, .. }
            | DifferenceKind::Property { before, after, .. } => {
                holds(before.as_ref()) || holds(after.as_ref())
            }
            _ => false,
        };
        values_hold || self.named_secret()
    }

    /// Whether a name says the values are a secret's.
    fn named_secret(&self) -> bool {
        match &self.kind {
            DifferenceKind::Xml(x) => {
                let (element, key) = last_step_names(&x.path);
                let named = |n: &str| crate::secrets::is_secret_name(n.as_bytes());
                match &x.change {
                    // An attribute by its own name (a password element's
                    // `svns:secretAlias` names the secret, it is none), or
                    // the value of a property a secret's name names.
                    Change::Attribute { name, .. } => {
                        let local = name.rsplit(['}', ':']).next().unwrap_or(name);
                        named(local) || key.is_some_and(named)
                    }
                    _ => named(element) || key.is_some_and(named),
                }
            }
            DifferenceKind::Toml { key, .. } => {
                crate::secrets::names_a_secret(key.trim_matches('"'))
                    || crate::secrets::is_secret_key(key)
            }
            DifferenceKind::Property { key, .. } => crate::secrets::names_a_secret(key),
            DifferenceKind::OnlyIn { .. } | DifferenceKind::Content { .. } => false,
        }
    }

    /// This difference as it may be shown: a secret's values masked
    /// ([`crate::secrets::MASK`]), and in markup every secret the file
    /// holds ([`crate::secrets::mask`]).
    pub fn masked(&self) -> Difference {
        use crate::secrets::{mask, Secrets, MASK};
        let secret = self.is_secret();
        let hide = |v: &Option<String>| v.as_ref().map(|_| MASK.to_string());
        let mut shown = self.clone();
        if let DifferenceKind::Xml(x) = &mut shown.kind {
            x.mask_paths();
        }
        match &mut shown.kind {
            DifferenceKind::Xml(x) => match &mut x.change {
                Change::Text { before, after } if secret => {
                    *before = MASK.to_string();
                    *after = MASK.to_string();
                }
                Change::Attribute { before, after, .. } if secret => {
                    (*before, *after) = (hide(before), hide(after));
                }
                Change::Added { markup, .. } | Change::Removed { markup, .. } => {
                    *markup = mask(markup, &Secrets::default());
                }
                _ => {}
            },
            DifferenceKind::Toml { before, after, .. }
            | DifferenceKind::Property { before, after, .. }
                if secret =>
            {
                (*before, *after) = (hide(before), hide(after));
            }
            _ => {}
        }
        shown
    }
}

impl XmlDifference {
    /// Every path shown with its secrets masked ([`mask_path`]): its
    /// element's, and for an element added, its parent's and the sibling
    /// it follows.
    fn mask_paths(&mut self) {
        let mask = |p: &mut String| *p = mask_path(p).into_owned();
        mask(&mut self.path);
        if let Change::Added { parent, place, .. } = &mut self.change {
            mask(parent);
            if let Place::After(previous) = place {
                mask(previous);
            }
        }
    }
}

/// `path` with the value of each test that names a secret, or holds one,
/// masked: `user[@username='admin' and @password='********']`. Paths are
/// shown, and a test that tells siblings apart may be a password; a path
/// that comes back changed holds one.
pub fn mask_path(path: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let bytes = path.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let quote = bytes[i + 1];
        if bytes[i] != b'=' || (quote != b'\'' && quote != b'"') {
            i += 1;
            continue;
        }
        let start = i + 2;
        let Some(len) = path[start..].find(quote as char) else {
            break;
        };
        let name_start = path[..i]
            .rfind(['[', ' ', '(', '@', '}', ':'])
            .map_or(0, |at| at + 1);
        let (name, value) = (&path[name_start..i], &path[start..start + len]);
        if crate::secrets::is_secret_name(name.as_bytes()) || crate::secrets::holds_secret(value) {
            out.push_str(&path[copied..start]);
            out.push_str(crate::secrets::MASK);
            copied = start + len;
        }
        i = start + len + 1;
    }
    if copied == 0 {
        return Cow::Borrowed(path);
    }
    out.push_str(&path[copied..]);
    Cow::Owned(out)
}

/// The local name of a path's last element step, and the value of its
/// `[@name='…']` or `[@key='…']` test, if it has one.
fn last_step_names(path: &str) -> (&str, Option<&str>) {
    let step = xmlsplice::last_step(path).map_or(path.trim_start_matches('/'), |(_, s)| s);
    // A name in a namespace: `{uri}local`.
    let step = match step.strip_prefix('{').and_then(|s| s.split_once('}')) {
        Some((_, rest)) => rest,
        None => step,
    };
    let name = step.split('[').next().unwrap_or(step);
    let key = ["[@name=", "[@key="].iter().find_map(|test| {
        let rest = &step[step.find(test)? + test.len()..];
        let quote = rest.chars().next()?;
        let inner = &rest[1..];
        Some(&inner[..inner.find(quote)?])
    });
    (name, key)
}

#[cfg(test)]
mod tests {
    use super::mask_path;

    #[test]
    fn a_path_shows_no_secret_in_its_tests() {
        for (path, shown) in [
            (
                "/tomcat-users/user[@username='admin' and @password='pw' and @roles='a']",
                "/tomcat-users/user[@username='admin' and @password='********' and @roles='a']",
            ),
            ("/a/b[Password=\"p'w\"]/c", "/a/b[Password=\"********\"]/c"),
            ("/a/b[@p:secret='s']", "/a/b[@p:secret='********']"),
            (
                "/ds[url='jdbc:mysql://u:TopSecret@db:3306/c']",
                "/ds[url='********']",
            ),
            ("/Server/HostName", "/Server/HostName"),
            ("/a/b[@name='password']", "/a/b[@name='password']"),
            ("/a/b[@name='x=\"y']", "/a/b[@name='x=\"y']"),
        ] {
            assert_eq!(mask_path(path), shown, "{path}");
        }
    }
}
