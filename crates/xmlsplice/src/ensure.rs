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
        check_ensure_path(path)?;
        match split_value_step(path)? {
            Some((element, ValueStep::Attribute { name, value })) => {
                let mut added = self.ensure_path(element)?;
                let el = self.select_one(element)?;
                // `@name` alone asks that it exists, whatever its value.
                if value.is_some() || self.attribute_by_name(el, name).is_none() {
                    added |= self.set_attribute(el, name, value.as_deref().unwrap_or(""))?;
                }
                return Ok(added);
            }
            Some((element, ValueStep::Text(None))) => return self.ensure_path(element),
            Some((element, ValueStep::Text(Some(value)))) => {
                let quote = if value.contains('\'') { '"' } else { '\'' };
                return self.ensure_path(&format!("{element}[.={quote}{value}{quote}]"));
            }
            None => {}
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
            if self.select(steps[0].text())?.is_empty() {
                return Err(cannot(format!(
                    "its first step ({}) does not match the context element <{}>",
                    steps[0].text(),
                    self.name(self.root())
                )));
            }
            so_far = steps[0].text().to_string();
            skip = 1;
        }
        let mut added = false;
        for (i, step) in steps.iter().enumerate().skip(skip) {
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
                    let scope: Vec<(Option<String>, String)> = self
                        .namespaces_in_scope(parent)
                        .into_iter()
                        .map(|(prefix, uri)| (prefix.map(String::from), uri.to_string()))
                        .collect();
                    let Some(new) = step.to_new_element(&scope) else {
                        return Err(cannot(format!(
                            "step {} ({}) names an attribute or child in a namespace that no \
                             prefix is bound to there",
                            i + 1,
                            step.text()
                        )));
                    };
                    if self
                        .element_text(parent)
                        .is_some_and(|text| !text.trim().is_empty())
                    {
                        return Err(cannot(format!(
                            "step {} ({}) would go into <{}>, which holds text: an element \
                             holds text or elements, not both",
                            i + 1,
                            step.text(),
                            self.name(parent)
                        )));
                    }
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

/// Checks a path for [`Document::ensure_path`]: the path syntax, a last
/// step that may also be `@name`, `@name='v'` or `text()='v'`, and text
/// values that can be found again once created.
///
/// # Errors
/// As [`Path::parse`]; a last step `@name` or `text()` followed by anything
/// but `='value'`; a text value with spaces around it (texts are compared
/// trimmed, so the element created would not be found again).
pub fn check_ensure_path(path: &str) -> Result<(), Error> {
    let element = match split_value_step(path)? {
        Some((element, ValueStep::Text(Some(value)))) => {
            padded_text(path, &value)?;
            element
        }
        Some((element, _)) => element,
        None => path,
    };
    let parsed = Path::parse(element)?;
    let steps = parsed.steps();
    // The root (`/business`) or the context (`.`) is found, never created.
    let found =
        usize::from((parsed.is_from_document() && steps[0].is_child()) || steps[0].is_self());
    for (i, step) in steps.iter().enumerate() {
        for predicate in step.predicates() {
            if let Predicate::OwnText(value) | Predicate::ChildText { value, .. } = predicate {
                padded_text(path, value)?;
            }
        }
        if i >= found {
            let last = i + 1 == steps.len();
            if let Some(reason) = step.cannot_create(last) {
                return Err(Error::new(ErrorKind::InvalidPath {
                    path: path.to_string(),
                    reason: format!("step {} ({}) {reason}", i + 1, step.text()),
                    column: None,
                }));
            }
        }
    }
    Ok(())
}

/// Refuses a text value with spaces around it: predicates compare text
/// trimmed (`<name>\n  Bob\n</name>` is `[name='Bob']`), so an element
/// created with ` Bob ` would not be found again and be added on each run.
fn padded_text(path: &str, value: &str) -> Result<(), Error> {
    if value.trim() == value {
        return Ok(());
    }
    Err(Error::new(ErrorKind::InvalidPath {
        path: path.to_string(),
        reason: format!(
            "{value:?} has spaces around it; texts are compared trimmed, so what ensure \
             created would not be found again: write {:?}",
            value.trim()
        ),
        column: None,
    }))
}

/// What a last step that names no element asks for.
#[derive(Debug, PartialEq, Eq)]
enum ValueStep<'p> {
    /// `@name` (exists) or `@name='v'`.
    Attribute {
        name: &'p str,
        value: Option<String>,
    },
    /// `text()` (the element exists) or `text()='v'`.
    Text(Option<String>),
}

/// Splits off a last step `@name`, `@name='v'`, `text()` or `text()='v'`,
/// read strictly: anything else after the name or `text()` is an error at
/// its column, never part of a value (`@a='x' and @b='y'`, `text()!='v'`).
fn split_value_step(path: &str) -> Result<Option<(&str, ValueStep<'_>)>, Error> {
    let Some((element, tail)) = last_step(path) else {
        return Ok(None);
    };
    let offset = path.len() - tail.len();
    let fail = |at: usize, reason: String| {
        Error::new(ErrorKind::InvalidPath {
            path: path.to_string(),
            reason,
            column: Some(path[..offset + at].chars().count() + 1),
        })
    };
    // After the name: nothing, or `=` and one quoted value.
    let value_after = |rest: &str, at: usize| -> Result<Option<String>, Error> {
        let trimmed = rest.trim_start();
        let at = at + rest.len() - trimmed.len();
        if trimmed.is_empty() {
            return Ok(None);
        }
        let Some(quoted) = trimmed.strip_prefix('=') else {
            return Err(fail(
                at,
                format!("expected ='value' or the end, found {trimmed:?}"),
            ));
        };
        let quoted = quoted.trim();
        let inner = [('\'', '\''), ('"', '"')]
            .iter()
            .find_map(|&(open, close)| {
                let body = quoted.strip_prefix(open)?.strip_suffix(close)?;
                (!body.contains(open)).then_some(body)
            });
        match inner {
            Some(body) => Ok(Some(body.to_string())),
            None => Err(fail(
                at + 1,
                format!(
                    "expected one value quoted with ' or \" and nothing after it, found {quoted:?}"
                ),
            )),
        }
    };
    if let Some(rest) = tail.strip_prefix('@') {
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        let local = match name.strip_prefix('{').and_then(|r| r.split_once('}')) {
            Some((_, local)) => local,
            None => name,
        };
        if let Some(reason) = crate::name::qname_problem(local) {
            return Err(fail(
                1,
                format!("{name:?} is not an attribute name: {reason}"),
            ));
        }
        if crate::name::is_namespace_declaration(name) {
            return Err(fail(
                1,
                "a namespace declaration is not an attribute: name what it declares by its URI"
                    .into(),
            ));
        }
        let value = value_after(&rest[name_end..], 1 + name_end)?;
        return Ok(Some((element, ValueStep::Attribute { name, value })));
    }
    if let Some(rest) = tail.strip_prefix("text()") {
        let value = value_after(rest, "text()".len())?;
        return Ok(Some((element, ValueStep::Text(value))));
    }
    Ok(None)
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

impl crate::path::Step {
    /// Why `ensure` could not create this step so that the path finds it
    /// again (`last`: no element step follows it); `None` when it can.
    fn cannot_create(&self, last: bool) -> Option<String> {
        if !self.is_child() || matches!(self.name_test(), NameTest::Any) || self.has_position() {
            return Some(
                "cannot be created: only a name, [@attribute='value'], [child='value'] and \
                 [.='value'] can (no //, *, . or position)"
                    .into(),
            );
        }
        let mut texts: Vec<&str> = Vec::new();
        let mut attributes: Vec<(&NameTest, &str)> = Vec::new();
        let mut children = false;
        for predicate in self.predicates() {
            match predicate {
                Predicate::Attribute { value: None, .. } => {
                    return Some("cannot be created: [@attribute] needs a value".into())
                }
                Predicate::Attribute {
                    name,
                    value: Some(value),
                } => {
                    if attributes.iter().any(|(n, v)| *n == name && v != value) {
                        return Some("gives one attribute two values".into());
                    }
                    attributes.push((name, value));
                }
                Predicate::OwnText(value) => {
                    if texts.iter().any(|t| t != value) {
                        return Some("gives its text two values".into());
                    }
                    texts.push(value);
                }
                Predicate::ChildText { .. } => children = true,
                Predicate::Position(_) => {}
            }
        }
        if !texts.is_empty() && (children || !last) {
            return Some(
                "would hold both text and elements, and its text would not be found again: \
                 an element with [.='value'] must be the path's last"
                    .into(),
            );
        }
        None
    }

    /// The element this step would create below an element with the
    /// namespaces `scope` in scope, when it can create one. A name in a
    /// namespace is written unprefixed where that is the default namespace,
    /// with a prefix bound to it there, or else with a default namespace
    /// declared on it.
    fn to_new_element(&self, scope: &[(Option<String>, String)]) -> Option<NewElement> {
        if !self.is_child() || self.has_position() {
            return None;
        }
        let default = |scope: &[(Option<String>, String)]| {
            scope
                .iter()
                .find(|(prefix, _)| prefix.is_none())
                .map(|(_, uri)| uri.clone())
        };
        let prefixed = |uri: &str, local: &str| {
            scope.iter().find_map(|(prefix, bound)| {
                Some(format!("{}:{local}", prefix.as_ref()?)).filter(|_| bound == uri)
            })
        };
        let mut default_below = default(scope);
        let mut new = match self.name_test() {
            NameTest::Local(local) => NewElement::new(local.as_str()),
            NameTest::Qualified { namespace, local } => {
                if default_below.as_deref() == Some(namespace.as_str()) {
                    NewElement::new(local.as_str())
                } else if let Some(written) = prefixed(namespace, local) {
                    NewElement::new(written)
                } else {
                    default_below = Some(namespace.clone());
                    NewElement::new(local.as_str()).attribute("xmlns", namespace.as_str())
                }
            }
            NameTest::Any => return None,
        };
        for predicate in self.predicates() {
            new = match predicate {
                Predicate::Attribute {
                    name: NameTest::Local(name),
                    value: Some(value),
                } => new.attribute(name.as_str(), value.as_str()),
                Predicate::Attribute {
                    name: NameTest::Qualified { namespace, local },
                    value: Some(value),
                } => new.attribute(prefixed(namespace, local)?, value.as_str()),
                Predicate::ChildText {
                    name: NameTest::Local(name),
                    value,
                } => new.text_child(name.as_str(), value.as_str()),
                Predicate::ChildText {
                    name: NameTest::Qualified { namespace, local },
                    value,
                } => {
                    let written = if default_below.as_deref() == Some(namespace.as_str()) {
                        local.clone()
                    } else {
                        prefixed(namespace, local)?
                    };
                    new.text_child(written, value.as_str())
                }
                Predicate::OwnText(value) => new.text(value.as_str()),
                _ => return None,
            };
        }
        Some(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ensured(xml: &str, path: &str) -> String {
        let mut doc = Document::parse(xml).unwrap();
        doc.ensure_path(path).unwrap();
        let once = String::from_utf8(doc.render().unwrap()).unwrap();
        let mut again = Document::parse(once.as_str()).unwrap();
        assert!(
            !again.ensure_path(path).unwrap(),
            "{path} again changed {once}"
        );
        once
    }

    #[test]
    fn an_attribute_step_by_namespace_keeps_the_value_it_has() {
        let xml = r#"<b xmlns:attr="urn:attr"><rating attr:subjective="true">10</rating></b>"#;
        assert_eq!(ensured(xml, "/b/rating/@{urn:attr}subjective"), xml);
        assert_eq!(
            ensured(xml, "/b/rating/@{urn:attr}subjective='false'"),
            r#"<b xmlns:attr="urn:attr"><rating attr:subjective="false">10</rating></b>"#
        );
    }

    #[test]
    fn created_elements_in_a_namespace_declare_it_once() {
        let xml = "<business xmlns=\"urn:b\" xmlns:o=\"urn:o\">\n  <name>x</name>\n</business>";
        assert_eq!(
            ensured(xml, "/{urn:b}business/{urn:w}owner/{urn:w}name"),
            "<business xmlns=\"urn:b\" xmlns:o=\"urn:o\">\n  <name>x</name>\n  \
             <owner xmlns=\"urn:w\">\n    <name/>\n  </owner>\n</business>"
        );
        // In scope already: unprefixed where it is the default, else by the
        // prefix bound to it, children and attributes alike.
        assert_eq!(
            ensured(
                xml,
                "/{urn:b}business/{urn:b}owner[{urn:b}name='x']/{urn:o}pet[@{urn:o}kind='cat']"
            ),
            "<business xmlns=\"urn:b\" xmlns:o=\"urn:o\">\n  <name>x</name>\n  \
             <owner>\n    <name>x</name>\n    <o:pet o:kind=\"cat\"/>\n  </owner>\n</business>"
        );
    }

    #[test]
    fn last_steps_that_name_no_element_are_read_strictly() {
        for (path, column) in [
            ("/business/name/text()!='Other'", 22),
            ("/business/rating/@subjective='false' and @x='1'", 30),
            ("/business/rating/@subjective 'x'", 30),
            ("/business/rating/@a b", 21),
        ] {
            let error = check_ensure_path(path).unwrap_err();
            match error.kind() {
                ErrorKind::InvalidPath { column: at, .. } => {
                    assert_eq!(*at, Some(column), "{path}: {error}")
                }
                other => panic!("{path}: {other:?}"),
            }
            let mut doc = Document::parse("<business><rating/><name/></business>").unwrap();
            assert!(doc.ensure_path(path).is_err(), "{path}");
        }
        for fine in [
            "/business/rating/@subjective=\"it's\"",
            "/business/rating/@subjective = 'x and @y=1'",
            "/business/name/text() = 'Other'",
            "/business/rating/@{urn:a}x",
        ] {
            assert!(check_ensure_path(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn steps_ensure_could_not_find_again_are_refused_before_anything_is_read() {
        for (path, reason) in [
            ("//beers/beer[.='x']", "cannot be created"),
            ("/business/owner[@id]", "[@attribute] needs a value"),
            ("/business/*", "cannot be created"),
            ("/business/beer[2]", "cannot be created"),
            (
                "/business/o1[@a='1'][@a='2']",
                "gives one attribute two values",
            ),
            ("/business/o3[.='x' and .='y']", "gives its text two values"),
            (
                "/business/o2[.='x'][c='y']",
                "would hold both text and elements",
            ),
            ("/business/o6[.='x']/y", "would hold both text and elements"),
            ("/business/owner[@xmlns='urn:o']", "a namespace declaration"),
            ("/business/name/@xmlns='urn:o'", "a namespace declaration"),
        ] {
            let error = check_ensure_path(path).unwrap_err();
            assert!(error.to_string().contains(reason), "{path}: {error}");
        }
        // Text on the element an attribute step names is its own.
        assert!(check_ensure_path("/business/beer[.='x' and @o='CZ']/@color='blonde'").is_ok());
        assert!(check_ensure_path("/business/o[.='x'][.='x']").is_ok());
    }

    #[test]
    fn ensure_finds_its_context_and_never_mixes_text_and_elements() {
        let xml = "<business type=\"bar\"><rating>10</rating></business>";
        let mut doc = Document::parse(xml).unwrap();
        let error = doc.ensure_path(".[@type='nope']/owner").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("does not match the context element"),
            "{error}"
        );
        assert!(doc.ensure_path(".[@type='bar']/owner").unwrap());
        let error = doc.ensure_path("/business/rating/extra").unwrap_err();
        assert!(error.to_string().contains("which holds text"), "{error}");
    }

    #[test]
    fn text_values_with_spaces_around_them_are_refused() {
        for path in [
            "/business/owner[name=' Bob ']",
            "/business/beers/beer[.=' Guinness']",
            "/business/name/text()='x '",
        ] {
            let error = check_ensure_path(path).unwrap_err();
            assert!(
                error.to_string().contains("compared trimmed"),
                "{path}: {error}"
            );
        }
        assert!(check_ensure_path("/business/owner[@note=' a ']").is_ok());
    }
}
