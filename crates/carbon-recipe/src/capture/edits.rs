//! One home's differences from its baseline as recipe entries: `[[raw]]`
//! edits keyed by name, `lib` files, and notes for what no edit can make.

use std::path::{Path, PathBuf};

use carbon_config::compare::{
    dedented, mask_path, Change, Difference, DifferenceKind, Place, Side, XmlDifference,
};

use super::secrets::Variables;

/// A recipe entry made from one difference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Entry {
    /// A `[[raw]]` edit: its keys in the order they are written.
    Raw(RawEdit),
    /// A jar for `lib`, where the captured home holds it.
    Lib(PathBuf),
    /// A `[spark]` key and its value.
    Spark(String, String),
    /// What cannot be made by an edit, said in a comment.
    Note(String),
    /// A typed table (`[server]`, `[[datasource]]`, …).
    Table(super::typed::Table),
}

/// A `[[raw]]` edit's keys and values, as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RawEdit {
    pub keys: Vec<(&'static str, String)>,
}

impl RawEdit {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The path of the element an insert adds; `None` for other edits.
    pub fn inserts(&self) -> Option<&str> {
        (self.get("action") == Some("insert")).then(|| self.get("added").unwrap_or_default())
    }
}

const LIB: &str = "repository/components/lib";

/// The entries that make `differences` (from a baseline to `home`) on
/// the baseline; secrets become references to `variables`.
pub(crate) fn entries(
    home: &Path,
    differences: &[Difference],
    variables: &mut Variables,
) -> Vec<Entry> {
    let mut out = Vec::new();
    for d in differences {
        let file = d.file.to_string_lossy().into_owned();
        match &d.kind {
            DifferenceKind::OnlyIn { side: Side::After } if d.file.starts_with(LIB) => {
                // Absolute: the recipe may be written anywhere.
                let path = home.join(&d.file);
                out.push(Entry::Lib(std::path::absolute(&path).unwrap_or(path)));
            }
            DifferenceKind::OnlyIn { side: Side::After } => out.push(Entry::Note(format!(
                "{file} is in the home only: copy it into the new home"
            ))),
            DifferenceKind::OnlyIn { side: Side::Before } => out.push(Entry::Note(format!(
                "{file} is in the baseline only: the home has none"
            ))),
            DifferenceKind::Content { unreadable } => out.push(Entry::Note(match unreadable {
                Some(why) => format!("{file} differs and cannot be read by setting ({why})"),
                None if d.file.starts_with(LIB) => {
                    format!("{file} differs from the baseline's: copy it into the new home")
                }
                None => format!("{file} differs, and is no XML file: carry it over by hand"),
            })),
            DifferenceKind::Property {
                key,
                after: Some(after),
                ..
            } => out.push(Entry::Spark(
                key.clone(),
                if d.is_secret() {
                    variables.reference(&file, key, after)
                } else {
                    literal(after)
                },
            )),
            DifferenceKind::Property {
                key, after: None, ..
            } => out.push(Entry::Note(format!(
                "{file}: {key} is set in the baseline only (a [spark] key cannot be removed)"
            ))),
            DifferenceKind::Toml { key, .. } => out.push(Entry::Note(format!(
                "{file}: {key} differs (TOML files are not captured)"
            ))),
            DifferenceKind::Xml(x) if !x.exact => out.push(left_for_a_person(
                &file,
                x,
                " (no path selects that element alone: make it by hand)",
            )),
            // A recipe holds no secret but through a variable, and a path
            // has none: the element is left for a person.
            DifferenceKind::Xml(x) if written_path_holds_secret(x) => out.push(left_for_a_person(
                &file,
                x,
                " (the path tells the element by a secret: make it by hand)",
            )),
            DifferenceKind::Xml(x) => {
                let secret = d.is_secret();
                out.push(match xml_edit(&file, x, secret, variables) {
                    Ok(edit) => Entry::Raw(edit),
                    Err(why) => left_for_a_person(&file, x, &format!(": {why}")),
                });
            }
        }
    }
    out
}

/// A note that `x`, in `file`, is not captured, and why: its path is shown
/// masked.
fn left_for_a_person(file: &str, x: &XmlDifference, why: &str) -> Entry {
    Entry::Note(format!(
        "{file}: {} at {}{why}",
        describe(&x.change),
        mask_path(&x.path)
    ))
}

/// Whether the path an edit for `x` would write tells an element by a
/// secret: an insert's parent (the sibling it follows is then not named:
/// it goes last), any other edit's element. An inserted element's own path
/// is not written.
fn written_path_holds_secret(x: &XmlDifference) -> bool {
    let path = match &x.change {
        Change::Added { parent, .. } => parent,
        _ => &x.path,
    };
    holds_secret(path)
}

fn holds_secret(path: &str) -> bool {
    matches!(mask_path(path), std::borrow::Cow::Owned(_))
}

/// A difference in words, for a note.
fn describe(change: &Change) -> String {
    match change {
        Change::Text { .. } => "a text".into(),
        Change::Attribute { name, .. } => format!("the attribute {name}"),
        Change::Added { .. } => "an element added".into(),
        Change::Removed { .. } => "an element removed".into(),
        Change::Root { before, after } => format!("the root element <{before}> is <{after}>"),
    }
}

/// The `[[raw]]` edit that makes `x` on the baseline's file.
fn xml_edit(
    file: &str,
    x: &XmlDifference,
    secret: bool,
    variables: &mut Variables,
) -> Result<RawEdit, String> {
    let mut keys = vec![("file", file.to_string())];
    let value = |v: &str, variables: &mut Variables| {
        if secret {
            variables.reference(file, &x.path, v)
        } else {
            literal(v)
        }
    };
    match &x.change {
        Change::Text { after, .. } => {
            keys.push(("path", x.path.clone()));
            keys.push(("action", "set_text".into()));
            keys.push(("value", value(after, variables)));
        }
        Change::Attribute {
            name,
            after: Some(after),
            ..
        } => {
            keys.push(("path", x.path.clone()));
            keys.push(("action", "set_attribute".into()));
            keys.push(("attribute", name.clone()));
            keys.push(("value", value(after, variables)));
        }
        Change::Attribute {
            name, after: None, ..
        } => {
            keys.push(("path", x.path.clone()));
            keys.push(("action", "remove_attribute".into()));
            keys.push(("attribute", name.clone()));
        }
        Change::Added {
            markup,
            parent,
            place,
        } => {
            let (path, place) = match place {
                Place::First => (parent.clone(), "first_child"),
                Place::After(previous) if !holds_secret(previous) => (previous.clone(), "after"),
                Place::After(_) | Place::Last => (parent.clone(), "last_child"),
            };
            keys.push(("path", path));
            keys.push(("action", "insert".into()));
            keys.push(("place", place.into()));
            keys.push((
                "markup",
                variables.markup(file, &x.path, &dedented(markup))?,
            ));
            if let Some(key) = insert_key(&x.path) {
                keys.push(("key", key));
            }
            // Not written: what later edits of the same node may depend on.
            keys.push(("added", x.path.clone()));
        }
        Change::Removed { commented_out, .. } => {
            keys.push(("path", x.path.clone()));
            let action = if *commented_out {
                "comment_out"
            } else {
                "remove"
            };
            keys.push(("action", action.into()));
        }
        Change::Root { .. } => return Err("a whole file's root cannot be edited".into()),
    }
    Ok(RawEdit { keys })
}

/// What identifies an inserted element among its neighbours, from its
/// path's last step: `@name` for `parameter[@name='x']`, `name` for
/// `datasource[name='x']`; none for one told apart by all it holds.
fn insert_key(path: &str) -> Option<String> {
    let step = xmlsplice::last_step(path).map_or(path, |(_, s)| s);
    let test = step.split_once('[')?.1.strip_suffix(']')?;
    let (name, value) = test.split_once('=')?;
    let single = value.len() >= 2
        && (value.starts_with('\'') || value.starts_with('"'))
        && value[1..value.len() - 1].find(&value[..1]).is_none()
        && !test.contains('[');
    single.then(|| name.to_string())
}

/// A value from a home, as a recipe string that holds it literally: `${`
/// is WSO2's placeholder far more often than a recipe variable.
pub(crate) fn literal(value: &str) -> String {
    value.replace("${", "$${")
}
