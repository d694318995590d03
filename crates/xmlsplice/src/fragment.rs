//! Markup fragments: new elements to insert, built or written by hand, and
//! the checks that make them safe to splice in.
//!
//! A fragment is parsed on its own before it is staged, inside a wrapper
//! element that declares the namespaces in scope where it will go, so that a
//! bad fragment is reported against the fragment and not as a broken
//! document later.

use std::fmt::Write as _;

use roxmltree::Node;

use crate::cache::TreeCache;
use crate::document::parsing_options;
use crate::encoding::Encoding;
use crate::error::{Error, ErrorKind, TextPos};
use crate::escape;

/// A new element, built up in code, with every value escaped.
///
/// Build fragments this way rather than with `format!`: a password holding
/// `<` or `&` then stays a password instead of becoming markup.
///
/// # Examples
/// ```
/// use xmlsplice::NewElement;
/// let member = NewElement::new("member")
///     .text_child("hostName", "10.0.0.1")
///     .text_child("port", "4000");
/// assert_eq!(
///     member.to_markup()?,
///     "<member>\n    <hostName>10.0.0.1</hostName>\n    <port>4000</port>\n</member>"
/// );
/// let mount = NewElement::new("mount").attribute("path", "/_system/config").text("a&b");
/// assert_eq!(mount.to_markup()?, "<mount path=\"/_system/config\">a&amp;b</mount>");
/// # Ok::<(), xmlsplice::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewElement {
    name: String,
    attributes: Vec<(String, String)>,
    text: Option<String>,
    children: Vec<NewElement>,
}

impl NewElement {
    /// An empty element called `name` (a qualified name, `prefix:local`, is
    /// allowed where the prefix is declared).
    pub fn new(name: impl Into<String>) -> NewElement {
        NewElement {
            name: name.into(),
            ..NewElement::default()
        }
    }

    /// Adds an attribute; attributes are written in the order added.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> NewElement {
        self.attributes.push((name.into(), value.into()));
        self
    }

    /// Sets the element's text. An element holds text or children, not both:
    /// text set here is written before any children.
    pub fn text(mut self, value: impl Into<String>) -> NewElement {
        self.text = Some(value.into());
        self
    }

    /// Adds a child element.
    pub fn child(mut self, child: NewElement) -> NewElement {
        self.children.push(child);
        self
    }

    /// Adds a child element holding only `value`: `<name>value</name>`.
    pub fn text_child(self, name: impl Into<String>, value: impl Into<String>) -> NewElement {
        self.child(NewElement::new(name).text(value))
    }

    /// The element as markup: children on their own lines, indented by four
    /// spaces a level (insertion re-indents it to match the file).
    ///
    /// # Errors
    /// A value holding a character XML does not allow; a name that is not
    /// an XML name.
    pub fn to_markup(&self) -> Result<String, Error> {
        let mut out = String::with_capacity(256);
        self.write(&mut out, 0)?;
        Ok(out)
    }

    fn write(&self, out: &mut String, depth: usize) -> Result<(), Error> {
        let utf8 = Encoding::Utf8 { bom: false };
        crate::name::check_name(&self.name)?;
        out.push('<');
        out.push_str(&self.name);
        for (name, value) in &self.attributes {
            crate::name::check_name(name)?;
            let value = escape::attribute(value, '"', utf8)?;
            let _ = write!(out, " {name}=\"{value}\"");
        }
        if self.text.is_none() && self.children.is_empty() {
            out.push_str("/>");
            return Ok(());
        }
        out.push('>');
        if let Some(text) = &self.text {
            out.push_str(&escape::text(text, utf8)?);
        }
        if !self.children.is_empty() {
            for child in &self.children {
                new_line(out, depth + 1);
                child.write(out, depth + 1)?;
            }
            new_line(out, depth);
        }
        let _ = write!(out, "</{}>", self.name);
        Ok(())
    }
}

/// A line break and `depth` levels of four-space indentation (the layout
/// re-indents it to the document's own).
fn new_line(out: &mut String, depth: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n("    ", depth));
}

/// Something that can be inserted: markup written as a string, or a
/// [`NewElement`].
pub trait IntoMarkup {
    /// The markup text.
    fn into_markup(self) -> Result<String, Error>;
}

impl IntoMarkup for &str {
    fn into_markup(self) -> Result<String, Error> {
        Ok(self.to_string())
    }
}

impl IntoMarkup for String {
    fn into_markup(self) -> Result<String, Error> {
        Ok(self)
    }
}

impl IntoMarkup for &String {
    fn into_markup(self) -> Result<String, Error> {
        Ok(self.clone())
    }
}

impl IntoMarkup for &NewElement {
    fn into_markup(self) -> Result<String, Error> {
        self.to_markup()
    }
}

impl IntoMarkup for NewElement {
    fn into_markup(self) -> Result<String, Error> {
        self.to_markup()
    }
}

const WRAPPER: &str = "xmlsplice-scope";

/// The start tag of an element that declares every namespace in scope at
/// `scope`, so that markup parsed inside it means what it will mean there.
pub(crate) fn scope_start_tag(scope: Node) -> String {
    let mut tag = format!("<{WRAPPER}");
    for ns in scope.namespaces() {
        let uri =
            escape::attribute(ns.uri(), '"', Encoding::Utf8 { bom: false }).unwrap_or_default();
        match ns.name() {
            Some("xml") => {}
            Some(prefix) => {
                let _ = write!(tag, " xmlns:{prefix}=\"{uri}\"");
            }
            None => {
                let _ = write!(tag, " xmlns=\"{uri}\"");
            }
        }
    }
    tag.push('>');
    tag
}

pub(crate) fn scope_end_tag() -> String {
    format!("</{WRAPPER}>")
}

/// Parses `markup` where it would stand below `scope` and hands its one
/// element to `inspect`.
///
/// # Errors
/// When the markup does not parse, or is not exactly one element (whitespace
/// around it aside); positions are within `markup`.
pub(crate) fn parse_in_scope<T>(
    markup: &str,
    scope: Node,
    inspect: impl FnOnce(Node, usize) -> Result<T, Error>,
) -> Result<T, Error> {
    let head = scope_start_tag(scope);
    let wrapped = format!("{head}{markup}{}", scope_end_tag());
    let doc =
        roxmltree::Document::parse_with_options(&wrapped, parsing_options()).map_err(|e| {
            let at = crate::error::offset_of(&e, &wrapped)
                .saturating_sub(head.len())
                .min(markup.len());
            Error::at(
                ErrorKind::InvalidFragment(crate::error::strip_position(&e.to_string())),
                TextPos::of_offset(markup, at),
            )
        })?;
    let mut elements = doc.root_element().children().filter(|c| !is_blank(*c));
    match (elements.next(), elements.next()) {
        (Some(element), None) if element.is_element() => inspect(element, head.len()),
        (None, _) => Err(Error::new(ErrorKind::InvalidFragment(
            "no element in it".into(),
        ))),
        _ => Err(Error::new(ErrorKind::InvalidFragment(
            "expected exactly one element and nothing else around it".into(),
        ))),
    }
}

fn is_blank(node: Node) -> bool {
    node.is_text() && node.text().is_some_and(|t| t.trim().is_empty())
}

/// Checks `markup` as an element to insert below `scope` and makes it fit the
/// document's encoding: characters the encoding cannot hold become character
/// references in text and attribute values; anywhere else they are refused.
///
/// The answer depends on nothing but the markup, the namespaces in scope and
/// the encoding, so with a `cache` a fleet checks each fragment it inserts on
/// every node (a shared datasource, the same members) once.
pub(crate) fn prepare(
    markup: &str,
    scope: Node,
    encoding: Encoding,
    cache: Option<&TreeCache>,
) -> Result<String, Error> {
    let Some(cache) = cache else {
        return check_and_encode(markup, scope, encoding);
    };
    let key = FragmentKey {
        scope: scope_start_tag(scope),
        markup,
        encoding,
    };
    cache.prepared(&key, || check_and_encode(markup, scope, encoding))
}

/// What [`prepare`]'s answer depends on.
pub(crate) struct FragmentKey<'a> {
    /// The wrapper's start tag: the namespaces in scope.
    pub scope: String,
    pub markup: &'a str,
    pub encoding: Encoding,
}

fn check_and_encode(markup: &str, scope: Node, encoding: Encoding) -> Result<String, Error> {
    parse_in_scope(markup, scope, |element, head| {
        if markup.chars().all(|c| encoding.can_encode(c)) {
            return Ok(markup.trim().to_string());
        }
        // Byte ranges (within `markup`) where a character reference is allowed.
        let mut allowed: Vec<std::ops::Range<usize>> = Vec::new();
        for node in element.descendants() {
            if node.is_text() {
                let r = node.range();
                allowed.push(r.start - head..r.end - head);
            }
            for attr in node.attributes() {
                let r = attr.range_value();
                allowed.push(r.start - head..r.end - head);
            }
        }
        let mut out = String::with_capacity(markup.len() + 16);
        for (at, ch) in markup.char_indices() {
            if encoding.can_encode(ch) {
                out.push(ch);
            } else if allowed.iter().any(|r| r.contains(&at)) {
                let _ = write!(out, "&#{};", ch as u32);
            } else {
                return Err(Error::at(
                    ErrorKind::Unencodable {
                        ch,
                        encoding: encoding.name(),
                    },
                    TextPos::of_offset(markup, at),
                ));
            }
        }
        Ok(out.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_doc() -> roxmltree::Document<'static> {
        roxmltree::Document::parse(r#"<root xmlns="urn:d" xmlns:svns="urn:s"><in/></root>"#)
            .unwrap()
    }

    #[test]
    fn fragments_see_the_namespaces_in_scope() {
        let doc = scope_doc();
        let scope = doc.root_element().first_child().unwrap();
        let out = check_and_encode(
            "<password svns:secretAlias='a'>x</password>",
            scope,
            Encoding::Latin1,
        )
        .unwrap();
        assert_eq!(out, "<password svns:secretAlias='a'>x</password>");
        let err = check_and_encode("<p other:x='1'/>", scope, Encoding::Latin1).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidFragment(_)), "{err}");
    }

    #[test]
    fn fragments_must_be_one_element() {
        let doc = scope_doc();
        let scope = doc.root_element();
        for bad in ["", "text", "<a/><b/>", "<a/> tail", "<a>", "<!-- c -->"] {
            assert!(
                check_and_encode(bad, scope, Encoding::Latin1).is_err(),
                "{bad:?}"
            );
        }
        assert_eq!(
            check_and_encode("\n  <a/>\n", scope, Encoding::Latin1).unwrap(),
            "<a/>"
        );
    }

    #[test]
    fn fragment_errors_point_into_the_fragment() {
        let doc = scope_doc();
        let err = check_and_encode("<a>\n  <b></c>\n</a>", doc.root_element(), Encoding::Latin1)
            .unwrap_err();
        assert_eq!(err.position().map(|p| p.line), Some(2), "{err}");
    }

    #[test]
    fn unencodable_characters_become_references_where_allowed() {
        let doc = scope_doc();
        let scope = doc.root_element();
        let out = check_and_encode(
            "<a b='\u{20AC}'>caf\u{e9} \u{20AC}</a>",
            scope,
            Encoding::Latin1,
        )
        .unwrap();
        assert_eq!(out, "<a b='&#8364;'>caf\u{e9} &#8364;</a>");
        let err = check_and_encode("<a\u{20AC}/>", scope, Encoding::Latin1).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Unencodable { .. }));
    }

    #[test]
    fn built_elements_nest_and_escape() {
        let el = NewElement::new("a")
            .attribute("q", "x\"y")
            .child(NewElement::new("b").child(NewElement::new("c")));
        assert_eq!(
            el.to_markup().unwrap(),
            "<a q=\"x&quot;y\">\n    <b>\n        <c/>\n    </b>\n</a>"
        );
        assert!(NewElement::new("a").text("\u{1}").to_markup().is_err());
    }

    #[test]
    fn a_cache_answers_a_fragment_checked_before_and_never_an_error() {
        let doc = scope_doc();
        let scope = doc.root_element();
        let cache = TreeCache::new(1 << 20);
        let euro = "<a b='\u{20AC}'/>";
        for _ in 0..2 {
            assert_eq!(
                prepare(euro, scope, Encoding::Latin1, Some(&cache)).unwrap(),
                "<a b='&#8364;'/>"
            );
            // The encoding is part of what the answer depends on.
            assert_eq!(
                prepare(euro, scope, Encoding::Utf8 { bom: false }, Some(&cache)).unwrap(),
                euro
            );
            // So are the namespaces in scope.
            let inner = scope.first_child().unwrap();
            assert!(prepare("<p svns:x='1'/>", inner, Encoding::Latin1, Some(&cache)).is_ok());
            let bare = roxmltree::Document::parse("<r/>").unwrap();
            assert!(prepare(
                "<p svns:x='1'/>",
                bare.root_element(),
                Encoding::Latin1,
                Some(&cache)
            )
            .is_err());
        }
        assert_eq!(cache.fragments_kept(), 3, "an error is not kept");
    }
}
