//! `[[raw]]` edits, checked where the recipe can point at them: the action
//! and the keys it takes, prefixes, attribute names, markup and the path.
//! A mistake here is an error at its line before any file is read; found
//! only when applied, it would be reported against the file the edit was
//! to go into.

use carbon_config::raw::{IfMissing, RawAction, RawOptions, RawPlace, Select};
use xmlsplice::XML_NAMESPACE;

use super::Translate;
use crate::error::{closest, RecipeError};
use crate::model::{Raw, Text};
use crate::step::Step;

/// What an action takes besides `file`, `path`, `action` and `namespaces`.
struct Takes {
    action: &'static str,
    /// Its own keys; any other is an error (`remove` with an `attribute`
    /// would delete the element, `insert` with a `value` drop it).
    own: &'static [&'static str],
    /// Whether `match = "all"` applies (`ensure` and `set_children` make
    /// one element what the recipe says).
    every_match: bool,
    /// Whether `if_missing` applies: not where absent is already done
    /// (`remove`, `comment_out`, `remove_attribute`), nor to `ensure`, which
    /// creates what is missing.
    if_missing: bool,
}

const ACTIONS: [Takes; 9] = [
    Takes::new("set_attribute", &["attribute", "value"], true, true),
    Takes::new("remove_attribute", &["attribute"], true, false),
    Takes::new("set_text", &["value"], true, true),
    Takes::new("insert", &["markup", "place", "key"], true, true),
    Takes::new("remove", &[], true, false),
    Takes::new("comment_out", &[], true, false),
    Takes::new("uncomment", &[], true, true),
    Takes::new("ensure", &[], false, false),
    Takes::new("set_children", &["markup"], false, true),
];

impl Takes {
    const fn new(
        action: &'static str,
        own: &'static [&'static str],
        every_match: bool,
        if_missing: bool,
    ) -> Takes {
        Takes {
            action,
            own,
            every_match,
            if_missing,
        }
    }
}

impl Translate<'_> {
    /// One `[[raw]]` edit as its step.
    pub(super) fn raw(&self, r: &Raw) -> Result<Step, RecipeError> {
        let takes = self.raw_action(r)?;
        let options = self.raw_options(r, takes)?;
        let bound = self.raw_namespaces(r)?;
        let bound: Vec<(&str, &str)> = bound.iter().map(|(p, u)| (*p, u.as_str())).collect();
        let action = match takes.action {
            "set_attribute" => RawAction::SetAttribute {
                name: self.raw_attribute(r, &bound)?,
                value: self.raw_needs(r, &r.value, "value")?,
            },
            "remove_attribute" => RawAction::RemoveAttribute {
                name: self.raw_attribute(r, &bound)?,
            },
            "set_text" => RawAction::SetText(self.raw_needs(r, &r.value, "value")?),
            "insert" => self.raw_insert(r)?,
            "remove" => RawAction::Remove,
            "comment_out" => RawAction::CommentOut,
            "uncomment" => RawAction::Uncomment,
            "ensure" => RawAction::Ensure,
            "set_children" => RawAction::SetChildren(self.raw_markup(r, Elements::Any)?),
            other => unreachable!("{other} is in ACTIONS"),
        };
        let written = self.x(&r.path)?;
        let path = xmlsplice::expand_prefixes(&written, &bound).map_err(|e| {
            self.error(
                r.path.span(),
                format!("{e} (bind it in the edit's `namespaces`)"),
            )
        })?;
        // `remove` of XPath's `…/@name` removes that attribute.
        let (path, action) = match (action, xmlsplice::attribute_step(&path)) {
            (RawAction::Remove, Some((element, name))) => {
                if xmlsplice::is_namespace_declaration(name) {
                    return Err(self.error(
                        r.path.span(),
                        "a namespace declaration is not an attribute to remove",
                    ));
                }
                xmlsplice::check_name(written_name(name))
                    .map_err(|e| self.error(r.path.span(), e.to_string()))?;
                let name = name.to_string();
                (element.to_string(), RawAction::RemoveAttribute { name })
            }
            (action, _) => (path, action),
        };
        let checked = match action {
            // `ensure` also takes XPath's last steps `/@name='v'`, `/text()='v'`.
            RawAction::Ensure => xmlsplice::check_ensure_path(&path),
            _ => xmlsplice::Path::parse(&path).map(|_| ()),
        };
        checked.map_err(|e| {
            let e = xmlsplice::error_as_written(e, &written, &bound);
            self.error(r.path.span(), e.to_string())
        })?;
        Ok(Step::Raw {
            file: self.x(&r.file)?,
            path,
            action,
            options,
        })
    }

    /// The action, known (else a hint at the closest), with only keys it
    /// takes.
    fn raw_action(&self, r: &Raw) -> Result<&'static Takes, RecipeError> {
        let action = r.action.get_ref().as_str();
        let Some(takes) = ACTIONS.iter().find(|t| t.action == action) else {
            let names: Vec<&str> = ACTIONS.iter().map(|t| t.action).collect();
            let hint = closest(action, &names)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(self.error(
                r.action.span(),
                format!("unknown raw action {action:?}{hint}"),
            ));
        };
        for (key, given) in [
            ("attribute", &r.attribute),
            ("value", &r.value),
            ("markup", &r.markup),
            ("place", &r.place),
            ("key", &r.key),
        ] {
            if let (Some(t), false) = (given, takes.own.contains(&key)) {
                let own = if takes.own.is_empty() {
                    "no key of its own".to_string()
                } else {
                    let keys: Vec<String> = takes.own.iter().map(|k| format!("`{k}`")).collect();
                    keys.join(", ")
                };
                return Err(self.error(
                    t.span(),
                    format!("`{key}` does not apply to action {action} (it takes {own})"),
                ));
            }
        }
        if let (Some(t), false) = (&r.if_missing, takes.if_missing) {
            let why = if action == "ensure" {
                "it creates what is missing"
            } else {
                "an element that is not there is already done"
            };
            return Err(self.error(
                t.span(),
                format!("`if_missing` does not apply to action {action} ({why})"),
            ));
        }
        Ok(takes)
    }

    /// `match` and `if_missing`.
    fn raw_options(&self, r: &Raw, takes: &Takes) -> Result<RawOptions, RecipeError> {
        let select = match self.x_opt(&r.matches)?.as_deref() {
            None | Some("one") => Select::One,
            Some("all") if takes.every_match => Select::All,
            Some("all") => {
                let t = r.matches.as_ref().expect("match all was given");
                return Err(self.error(
                    t.span(),
                    format!(
                        "action {} edits one element; match = \"all\" does not apply",
                        takes.action
                    ),
                ));
            }
            Some(other) => {
                let t = r.matches.as_ref().expect("a match was given");
                return Err(self.error(
                    t.span(),
                    format!("unknown match {other:?} (expected one or all)"),
                ));
            }
        };
        let if_missing = match self.x_opt(&r.if_missing)?.as_deref() {
            None | Some("error") => IfMissing::Error,
            Some("skip") => IfMissing::Skip,
            Some(other) => {
                let t = r.if_missing.as_ref().expect("an if_missing was given");
                return Err(self.error(
                    t.span(),
                    format!("unknown if_missing {other:?} (expected error or skip)"),
                ));
            }
        };
        Ok(RawOptions { select, if_missing })
    }

    /// `namespaces`: each prefix an XML name, each URI one a name can hold.
    fn raw_namespaces<'r>(&self, r: &'r Raw) -> Result<Vec<(&'r str, String)>, RecipeError> {
        let mut bound = Vec::with_capacity(r.namespaces.len());
        for (prefix, uri) in &r.namespaces {
            if prefix.contains(':') || xmlsplice::check_name(prefix).is_err() {
                return Err(self.error(
                    uri.span(),
                    format!("namespaces: {prefix:?} is not a prefix (an XML name without ':')"),
                ));
            }
            let uri_text = self.x(uri)?;
            // Reserved by XML itself: `xml` is always bound to its own
            // namespace, `xmlns` to none.
            let reserved = match prefix.as_str() {
                "xmlns" => true,
                "xml" => uri_text != XML_NAMESPACE,
                _ => false,
            };
            if reserved {
                return Err(self.error(
                    uri.span(),
                    format!(
                        "namespaces: the prefix {prefix:?} is XML's own (`xml` is always \
                         {XML_NAMESPACE}, `xmlns` declares namespaces)"
                    ),
                ));
            }
            if uri_text.is_empty() || uri_text.contains(['{', '}']) {
                return Err(self.error(
                    uri.span(),
                    format!("namespaces: {uri_text:?} is not a namespace URI"),
                ));
            }
            bound.push((prefix.as_str(), uri_text));
        }
        Ok(bound)
    }

    /// `field` expanded; an error at the action when it is not given.
    fn raw_needs(&self, r: &Raw, field: &Option<Text>, what: &str) -> Result<String, RecipeError> {
        match field {
            Some(t) => self.x(t),
            None => Err(self.error(
                r.action.span(),
                format!("action {} needs `{what}`", r.action.get_ref()),
            )),
        }
    }

    /// `attribute`, as it goes into the file: a prefix bound in
    /// `namespaces` names the namespace (`{uri}local`); any other is the
    /// prefix as written in the file. Checked as an XML name here (the
    /// engine refuses it too).
    fn raw_attribute(&self, r: &Raw, bound: &[(&str, &str)]) -> Result<String, RecipeError> {
        let name = self.raw_needs(r, &r.attribute, "attribute")?;
        let name = match name.split_once(':') {
            Some((prefix, local)) if !name.starts_with('{') => {
                match bound.iter().find(|(p, _)| *p == prefix) {
                    Some((_, uri)) => format!("{{{uri}}}{local}"),
                    None => name,
                }
            }
            _ => name,
        };
        let t = r.attribute.as_ref().expect("an attribute was given");
        if xmlsplice::is_namespace_declaration(&name) {
            return Err(self.error(
                t.span(),
                "a namespace declaration is not an attribute to set or remove",
            ));
        }
        xmlsplice::check_name(written_name(&name))
            .map_err(|e| self.error(t.span(), e.to_string()))?;
        Ok(name)
    }

    /// `insert`: its place, markup and key.
    fn raw_insert(&self, r: &Raw) -> Result<RawAction, RecipeError> {
        let place = match self.x_opt(&r.place)?.as_deref() {
            None | Some("last_child") => RawPlace::LastChild,
            Some("first_child") => RawPlace::FirstChild,
            Some("before") => RawPlace::Before,
            Some("after") => RawPlace::After,
            Some(other) => {
                let t = r.place.as_ref().expect("a place was given");
                return Err(self.error(
                    t.span(),
                    format!(
                        "unknown place {other:?} (expected first_child, last_child, before or \
                         after)"
                    ),
                ));
            }
        };
        let key = match &r.key {
            Some(t) => {
                let key = self.x(t)?;
                xmlsplice::check_name(key.strip_prefix('@').unwrap_or(&key))
                    .map_err(|e| self.error(t.span(), format!("key: {e}")))?;
                Some(key)
            }
            None => None,
        };
        // A key identifies one element; without one, several are inserted
        // in order.
        let elements = if key.is_some() {
            Elements::One
        } else {
            Elements::AtLeastOne
        };
        let markup = self.raw_markup(r, elements)?;
        Ok(RawAction::Insert { place, markup, key })
    }

    /// `markup`: elements alone, well-formed, as many as `elements` says.
    fn raw_markup(&self, r: &Raw, elements: Elements) -> Result<String, RecipeError> {
        let Some(t) = &r.markup else {
            return self.raw_needs(r, &None, "markup");
        };
        let markup = self.x_markup(t)?;
        let fail = |message: String| Err(self.error(t.span(), message));
        // A declaration or a DOCTYPE belongs to a document, not to what
        // goes into one.
        let lower = markup.to_ascii_lowercase();
        let declaration = lower
            .match_indices("<?xml")
            .any(|(at, _)| lower[at + 5..].starts_with(|c: char| c.is_whitespace() || c == '?'));
        if declaration || markup.contains("<!DOCTYPE") {
            return fail(
                "markup holds an XML declaration or a DOCTYPE; give the elements alone".into(),
            );
        }
        // Prefixes the markup uses may be bound where it goes (`svns:` in a
        // datasources file): declared here, checked where it goes.
        let declarations: String = prefixes(&markup)
            .into_iter()
            .map(|p| format!(" xmlns:{p}=\"urn:carbon-patch:prefix\""))
            .collect();
        let wrapper = format!("<c{declarations}>");
        let count = match xmlsplice::Document::parse(format!("{wrapper}{markup}</c>").as_bytes()) {
            Ok(wrapped) => {
                let children = wrapped.children(wrapped.root());
                // Nothing but elements: a comment or text beside them would
                // be dropped, or refused only where the markup goes.
                let mut outside =
                    wrapped.text()[wrapper.len()..wrapped.text().len() - 4].to_string();
                for &child in children.iter().rev() {
                    let range = wrapped.range(child);
                    outside
                        .replace_range(range.start - wrapper.len()..range.end - wrapper.len(), "");
                }
                if !outside.trim().is_empty() {
                    return fail(format!(
                        "markup holds {:?} outside its elements; a comment or text goes inside one",
                        outside.trim()
                    ));
                }
                children.len()
            }
            Err(wrapped) => {
                // The markup's own line and column, where one element
                // parsed alone gives them.
                let e = xmlsplice::Document::parse(markup.as_bytes())
                    .err()
                    .unwrap_or(wrapped);
                return fail(format!("markup is not {}: {e}", elements.described()));
            }
        };
        match (elements, count) {
            (Elements::One | Elements::AtLeastOne, 0) => fail("markup holds no element".into()),
            (Elements::One, 2..) => fail(format!(
                "markup holds {count} elements; a key identifies one element"
            )),
            _ => Ok(markup),
        }
    }
}

/// How many elements a markup may hold.
#[derive(Clone, Copy)]
enum Elements {
    One,
    AtLeastOne,
    Any,
}

impl Elements {
    fn described(self) -> &'static str {
        match self {
            Elements::One => "one well-formed XML element",
            Elements::AtLeastOne | Elements::Any => "well-formed XML elements",
        }
    }
}

/// The prefixes `markup` writes names with (`<p:a`, `</p:a`, ` p:b=`),
/// but `xml` and `xmlns`, which need no declaration.
fn prefixes(markup: &str) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    let bytes = markup.as_bytes();
    for (at, _) in markup.match_indices(':') {
        let start = markup[..at]
            .rfind(|c: char| !(c.is_alphanumeric() || "_-.".contains(c) || !c.is_ascii()))
            .map_or(0, |i| i + 1);
        let prefix = &markup[start..at];
        let before = start.checked_sub(1).map(|i| bytes[i]);
        let starts_a_name = matches!(before, Some(b'<' | b'/' | b' ' | b'\t' | b'\n' | b'\r'));
        if !prefix.is_empty()
            && starts_a_name
            && xmlsplice::check_name(prefix).is_ok()
            && !matches!(prefix, "xml" | "xmlns")
            && !found.contains(&prefix)
        {
            found.push(prefix);
        }
    }
    found
}

/// An attribute name as it will be written: `{uri}local` is named by its
/// namespace, and written as `local` with the prefix bound there.
fn written_name(name: &str) -> &str {
    match name.strip_prefix('{').and_then(|rest| rest.split_once('}')) {
        Some((_, local)) if !local.contains(':') => local,
        _ => name,
    }
}
