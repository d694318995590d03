//! Making a path exist: Ansible's most used form of its xml module ("make
//! sure this element is there"), on a lossless document.
//!
//! Each step of the path is looked for below the one before; a missing one
//! is created from the step itself: its name, an attribute for each
//! `[@name='value']`, a child for each `[child='value']`, and its text from
//! `[.='value']` or `[text()='value']`. It goes after the last sibling of
//! its name, else last, laid out like its neighbours (as any insert).

use crate::document::Document;
use crate::edit::Place;
use crate::error::{Error, ErrorKind};
use crate::fragment::NewElement;
use crate::path::{NameTest, Path, Predicate};

impl Document {
    /// Makes `path` exist (from the root element; a path starting with `/`
    /// names the root element first), creating each missing step from its
    /// name and predicates; returns whether anything was added. The
    /// document is applied after each element added, so that the next step
    /// can be found below it.
    ///
    /// # Errors
    /// A path with a step that cannot be created (`//`, `*`, a position, an
    /// attribute test without a value); a step that matches several
    /// elements; an absolute path whose first step is not the root element.
    ///
    /// # Examples
    /// ```
    /// use xmlsplice::Document;
    /// let mut doc = Document::parse("<business>\n  <name>Tasty</name>\n</business>")?;
    /// assert!(doc.ensure_path("owner[@dob='1976-04-12']/name/last[.='Smith']")?);
    /// assert!(!doc.ensure_path("owner[@dob='1976-04-12']/name/last[.='Smith']")?);
    /// assert_eq!(
    ///     String::from_utf8(doc.render()?).unwrap(),
    ///     "<business>\n  <name>Tasty</name>\n  <owner dob=\"1976-04-12\">\n    <name>\n      <last>Smith</last>\n    </name>\n  </owner>\n</business>"
    /// );
    /// # Ok::<(), xmlsplice::Error>(())
    /// ```
    pub fn ensure_path(&mut self, path: &str) -> Result<bool, Error> {
        // XPath's last steps that name no element: `/@name`, `/@name='v'`
        // (the attribute, on the element before), `/text()='v'` (the
        // element's text).
        match last_step(path) {
            Some((element, tail)) if tail.starts_with('@') => {
                let (name, value) = match tail[1..].split_once('=') {
                    Some((name, value)) => (name.trim(), Some(unquote(path, value.trim())?)),
                    None => (tail[1..].trim(), None),
                };
                let mut added = self.ensure_path(element)?;
                let el = self.select_one(element)?;
                if value.is_some() || self.attribute(el, name).is_none() {
                    added |= self.set_attribute(el, name, value.as_deref().unwrap_or(""))?;
                }
                return Ok(added);
            }
            Some((element, tail)) if tail.starts_with("text()") => {
                let value = tail["text()".len()..].trim_start();
                let Some(literal) = value.strip_prefix('=') else {
                    return self.ensure_path(element);
                };
                return self.ensure_path(&format!("{element}[.={}]", literal.trim()));
            }
            _ => {}
        }
        let parsed = Path::parse(path)?;
        let cannot = |reason: String| {
            Error::new(ErrorKind::InvalidPath {
                path: path.to_string(),
                reason,
                column: None,
            })
        };
        let steps = parsed.steps();
        let mut skip = 0;
        // The path so far, to find the element again after each apply
        // (which ends every handle).
        let mut so_far = String::new();
        if parsed.is_from_document() {
            let first = &steps[0];
            if !first.is_child()
                || self
                    .select(format!("/{}", first.text()).as_str())?
                    .is_empty()
            {
                return Err(cannot(format!(
                    "its first step does not match the root element <{}>",
                    self.name(self.root())
                )));
            }
            so_far = format!("/{}", first.text());
            skip = 1;
        } else if steps[0].is_self() {
            so_far = ".".to_string();
            skip = 1;
        }
        let mut added = false;
        for (i, step) in steps.iter().enumerate().skip(skip) {
            let Some(new) = step.to_new_element() else {
                return Err(cannot(format!(
                    "step {} ({}) cannot be created: only a name, [@attribute='value'], \
                     [child='value'] and [.='value'] can",
                    i + 1,
                    step.text()
                )));
            };
            let parent_path = if so_far.is_empty() {
                ".".to_string()
            } else {
                so_far.clone()
            };
            let here = if so_far.is_empty() {
                step.text().to_string()
            } else {
                format!("{so_far}/{}", step.text())
            };
            match self.select(here.as_str())?.len() {
                1 => {}
                0 => {
                    let parent = self.select_one(parent_path.as_str())?;
                    let name = step
                        .local_name()
                        .expect("a creatable step names its element");
                    let place = match self.select((parent, name))?.last() {
                        Some(&last) => Place::After(last),
                        None => Place::LastChild(parent),
                    };
                    self.insert(place, &new)?;
                    self.apply()?;
                    added = true;
                }
                _ => {
                    // The engine's own message, every match's place with it.
                    self.select_one(here.as_str())?;
                }
            }
            so_far = here;
        }
        Ok(added)
    }
}

/// Checks a path for [`Document::ensure_path`]: the path syntax, and a
/// last step that may also be `@name`, `@name='v'` or `text()='v'`.
///
/// # Errors
/// As [`Path::parse`], for the path without such a last step.
pub fn check_ensure_path(path: &str) -> Result<(), Error> {
    match last_step(path) {
        Some((element, tail)) if tail.starts_with('@') => {
            if let Some((_, value)) = tail.split_once('=') {
                unquote(path, value.trim())?;
            }
            check_ensure_path(element)
        }
        Some((element, tail)) if tail.starts_with("text()") => check_ensure_path(element),
        _ => Path::parse(path).map(|_| ()),
    }
}

/// The element path and attribute name of a path whose last step is an
/// attribute, XPath's `…/rating/@subjective`; `None` for any other path.
///
/// # Examples
/// ```
/// let split = xmlsplice::attribute_step("/business/rating[@a='x/y']/@subjective");
/// assert_eq!(split, Some(("/business/rating[@a='x/y']", "subjective")));
/// assert_eq!(xmlsplice::attribute_step("/business/rating"), None);
/// ```
pub fn attribute_step(path: &str) -> Option<(&str, &str)> {
    let (element, tail) = last_step(path)?;
    let name = tail.strip_prefix('@')?;
    (!name.is_empty() && !name.contains('=')).then_some((element, name))
}

/// The path before its last step, and that step, split at the last `/`
/// outside brackets, quotes and namespace URIs; `None` for a path of one step.
///
/// # Examples
/// ```
/// let split = xmlsplice::last_step("/registry/mount[@path='/_system/config']");
/// assert_eq!(split, Some(("/registry", "mount[@path='/_system/config']")));
/// ```
pub fn last_step(path: &str) -> Option<(&str, &str)> {
    let (mut depth, mut quote, mut split) = (0usize, None, None);
    for (i, c) in path.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            // A namespace URI (`{http://…}name`) holds slashes of its own.
            (None, '{') => quote = Some('}'),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '/') if depth == 0 => split = Some(i),
            _ => {}
        }
    }
    let at = split.filter(|&at| at > 0 && !path[..at].ends_with('/'))?;
    Some((&path[..at], &path[at + 1..]))
}

/// A quoted value's text (`'v'` or `"v"`).
fn unquote(path: &str, quoted: &str) -> Result<String, Error> {
    let inner = quoted
        .strip_prefix('\'')
        .and_then(|q| q.strip_suffix('\''))
        .or_else(|| quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')));
    inner.map(String::from).ok_or_else(|| {
        Error::new(ErrorKind::InvalidPath {
            path: path.to_string(),
            reason: format!("a value must be quoted with ' or \": {quoted}"),
            column: None,
        })
    })
}

impl crate::path::Step {
    /// The element this step would create, when it can create one.
    fn to_new_element(&self) -> Option<NewElement> {
        if !self.is_child() || self.has_position() {
            return None;
        }
        let (namespace, local) = match self.name_test() {
            NameTest::Local(local) => (None, local),
            NameTest::Qualified { namespace, local } => (Some(namespace), local),
            NameTest::Any => return None,
        };
        let mut new = NewElement::new(local.as_str());
        if let Some(namespace) = namespace {
            new = new.attribute("xmlns", namespace.as_str());
        }
        for predicate in self.predicates() {
            new = match predicate {
                Predicate::Attribute {
                    name: NameTest::Local(name),
                    value: Some(value),
                } => new.attribute(name.as_str(), value.as_str()),
                Predicate::ChildText {
                    name: NameTest::Local(name),
                    value,
                } => new.text_child(name.as_str(), value.as_str()),
                Predicate::OwnText(value) => new.text(value.as_str()),
                _ => return None,
            };
        }
        Some(new)
    }
}
