//! Staging edits on a [`Document`].
//!
//! Each edit works out the smallest span of the text it must change and the
//! text that replaces it, laid out like its surroundings (see `layout`). Edits
//! that set a value compare it with the current one first and stage nothing
//! when they are equal: setting a value it already has is not a change, even
//! if we would have spelled it differently (`&#x41;` and `A` are one value).

use roxmltree::{Node, NodeId};

use crate::commented::{self, Commented};
use crate::document::{Document, Element};
use crate::error::{Error, ErrorKind};
use crate::fragment::{self, IntoMarkup};
use crate::layout;
use crate::name::XML_NAMESPACE;
use crate::path::text_content;
use crate::splice::Splice;

/// Where [`Document::insert`] puts a new element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Before the element's first child node.
    FirstChild(Element),
    /// After the element's last child node.
    LastChild(Element),
    /// Just before the element, as its sibling.
    Before(Element),
    /// Just after the element, as its sibling.
    After(Element),
}

/// The splice that gives `node` (in `text`) the text `value`; `None` when it
/// already holds it. Refused for an element holding anything but text.
fn text_splice(
    text: &str,
    node: Node,
    range: std::ops::Range<usize>,
    value: &str,
    encoding: crate::encoding::Encoding,
) -> Result<Option<(std::ops::Range<usize>, String)>, ErrorKind> {
    if let Some(other) = node.children().find(|c| !c.is_text()) {
        let what = if other.is_element() {
            "child elements"
        } else {
            "comments or processing instructions"
        };
        return Err(ErrorKind::Unsupported(format!(
            "<{}> holds {what}; setting its text would remove them",
            node.tag_name().name()
        )));
    }
    if text_content(node) == value {
        return Ok(None);
    }
    let escaped = crate::escape::text(value, encoding).map_err(|e| e.kind().clone())?;
    let tags = Tags::of(text, range);
    Ok(Some(if tags.self_closing {
        let qname = &text[tags.qname.clone()];
        (
            tags.slash_start(text)..tags.start_tag_end,
            format!(">{escaped}</{qname}>"),
        )
    } else {
        (tags.start_tag_end..tags.end_tag_start, escaped)
    }))
}

/// Byte offsets of an element's tags.
struct Tags {
    /// Just after the `>` of the start tag.
    start_tag_end: usize,
    /// Where the end tag's `<` is; the end of the element when self-closing.
    end_tag_start: usize,
    /// Whether the element is written `<a/>`.
    self_closing: bool,
    /// The element's name as written, prefix included.
    qname: std::ops::Range<usize>,
}

impl Tags {
    /// The tags of the element at `range` of `text`.
    fn of(text: &str, range: std::ops::Range<usize>) -> Tags {
        let bytes = text.as_bytes();
        let name_start = range.start + 1;
        let name_len = text[name_start..]
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .unwrap_or(0);
        // Scan for the start tag's `>`, stepping over quoted values (which
        // may hold `>`, in namespace declarations as well as attributes).
        let mut i = name_start + name_len;
        let mut quote = None;
        while i < range.end {
            match (quote, bytes[i]) {
                (None, b'>') => break,
                (None, q @ (b'"' | b'\'')) => quote = Some(q),
                (Some(q), b) if b == q => quote = None,
                _ => {}
            }
            i += 1;
        }
        let start_tag_end = i + 1;
        let self_closing = bytes[i - 1] == b'/';
        let end_tag_start = if self_closing {
            range.end
        } else {
            text[..range.end].rfind('<').expect("an end tag")
        };
        Tags {
            start_tag_end,
            end_tag_start,
            self_closing,
            qname: name_start..name_start + name_len,
        }
    }

    /// Where the `/>` of a self-closing tag starts, less the spaces before it.
    fn slash_start(&self, text: &str) -> usize {
        text[..self.start_tag_end - 2].trim_end().len()
    }
}

/// Where the text's lines start and end, for laying out new text: from
/// the document's line index, never a scan of a line that may be the whole
/// file.
impl Document {
    /// The line ending used at `pos` ([`layout::line_ending_at`]).
    fn line_ending_at(&self, pos: usize) -> &'static str {
        layout::line_ending_at(self.text(), self.lines(), pos)
    }

    /// The line ending that ends the line before the one holding `pos`.
    fn eol_before_line(&self, pos: usize) -> &'static str {
        match self.lines().line_start(pos) {
            0 => self.line_ending_at(pos),
            // Compare bytes: the character before the line feed may be multi-byte.
            s if s >= 2 && self.text().as_bytes()[s - 2] == b'\r' => "\r\n",
            _ => "\n",
        }
    }

    /// Where the line holding `pos` ends (before its line ending), when what
    /// follows `pos` on it is only whitespace and comments. A comment on an
    /// element's line is about that element, so a sibling inserted after it
    /// goes after the comment, and the element's line stays as it was.
    fn end_of_own_line(&self, pos: usize) -> Option<usize> {
        let text = self.text();
        let newline = self.lines().newline_from(pos)?;
        let line_end = if newline > pos && text.as_bytes()[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        let mut rest = &text[pos..line_end];
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                return Some(line_end);
            }
            let comment = rest.strip_prefix("<!--")?;
            rest = &comment[comment.find("-->")? + 3..];
        }
    }

    /// The indentation that starts the line holding `pos`.
    fn line_indent(&self, pos: usize) -> &str {
        let line = &self.text()[self.lines().line_start(pos)..pos];
        &line[..line.len() - line.trim_start_matches([' ', '\t', '\u{A0}']).len()]
    }
}

fn is_blank_text(node: &Node) -> bool {
    node.is_text() && node.text().is_some_and(|t| t.trim().is_empty())
}

impl Document {
    /// The node behind `element`, if it may be edited in place.
    fn editable(&self, element: Element) -> Result<Node<'_, '_>, Error> {
        let node = self.node(element);
        let root_start = self.range_of(self.rox().root_element()).start;
        let start = self.range_of(node).start;
        if start < root_start {
            return Err(Error::at(
                ErrorKind::Unsupported(
                    "this element comes from an entity declared in the DTD; it has no text of its own to edit".into(),
                ),
                self.pos(start),
            ));
        }
        Ok(node)
    }

    /// The node whose text encloses a change to `node` as a whole: its parent
    /// element, or the document node for the root element.
    fn owner_of(node: Node) -> NodeId {
        node.parent().map_or(node.id(), |p| p.id())
    }

    fn stage(
        &mut self,
        range: std::ops::Range<usize>,
        text: String,
        owner: NodeId,
        what: &'static str,
    ) -> Result<(), Error> {
        self.stage_keyed(range, text, owner, what, None)
    }

    fn stage_keyed(
        &mut self,
        range: std::ops::Range<usize>,
        text: String,
        owner: NodeId,
        what: &'static str,
        key: Option<(NodeId, String)>,
    ) -> Result<(), Error> {
        let splice = Splice {
            range,
            text,
            owner,
            what,
            key,
        };
        let Document { tree, edits, .. } = self;
        edits.stage(splice, tree.borrow_owner().original())
    }

    /// The indent unit below `parent` given a child indented with `child`:
    /// the difference between the two when the child's extends the parent's,
    /// else the file's unit.
    fn unit_below(&self, parent: Node, child: &str) -> String {
        let text = self.text();
        match layout::indentation_before(text, self.range_of(parent).start) {
            Some(outer) if child.len() > outer.len() && child.starts_with(outer) => {
                child[outer.len()..].to_string()
            }
            _ => self.indent_unit().to_string(),
        }
    }

    /// Checks `name`, to be written into the text: an XML name
    /// ([`crate::check_name`]) that the document's encoding can hold (no
    /// character reference can stand in a name).
    fn check_written_name(&self, name: &str) -> Result<(), Error> {
        crate::name::check_name(name)?;
        match name.chars().find(|&c| !self.encoding.can_encode(c)) {
            Some(ch) => Err(Error::new(ErrorKind::Unencodable {
                ch,
                encoding: self.encoding.name(),
            })),
            None => Ok(()),
        }
    }

    /// Reads an attribute name as given: as written (`svns:secretAlias`), or
    /// by its namespace (`{http://…}secretAlias`), whatever prefix the file
    /// binds to it.
    ///
    /// `{}local` is the attribute in no namespace, which is written without
    /// a prefix; the XML namespace's URI is always bound to `xml`
    /// (`xml:lang`). The namespace of declarations is refused: an `xmlns`
    /// attribute changes what every name below it means, not a setting.
    fn attribute_name<'n>(&self, name: &'n str) -> Result<AttributeName<'n>, Error> {
        let wanted = AttributeName::read(name);
        if crate::name::is_namespace_declaration(name) {
            return Err(Error::new(ErrorKind::InvalidName {
                name: name.to_string(),
                reason: "namespace declarations are not attributes to set or remove".into(),
            }));
        }
        match wanted {
            AttributeName::InNamespace { local, .. } => self.check_written_name(local)?,
            AttributeName::NoNamespace(local) => self.check_written_name(local)?,
            AttributeName::Xml(local) => self.check_written_name(local)?,
            AttributeName::Written(written) => self.check_written_name(written)?,
        }
        Ok(wanted)
    }

    /// Whether `attr` is the attribute `name` names.
    fn is_attribute(&self, attr: &roxmltree::Attribute, name: &AttributeName) -> bool {
        match name {
            AttributeName::Written(written) => self.written_name(attr) == *written,
            AttributeName::NoNamespace(local) => {
                attr.namespace().is_none() && attr.name() == *local
            }
            AttributeName::Xml(local) => {
                attr.namespace() == Some(XML_NAMESPACE) && attr.name() == *local
            }
            AttributeName::InNamespace { uri, local } => {
                attr.namespace() == Some(*uri) && attr.name() == *local
            }
        }
    }

    /// The value of attribute `name` of `element`: `name` as written
    /// (`svns:secretAlias`) or by its namespace (`{http://…}secretAlias`,
    /// `{}local` for none), whatever prefix the file binds.
    ///
    /// # Examples
    /// ```
    /// use xmlsplice::Document;
    /// let doc = Document::parse(r#"<a xmlns:n="urn:n" n:x="1" y="2"/>"#)?;
    /// let root = doc.root();
    /// assert_eq!(doc.attribute_by_name(root, "{urn:n}x"), Some("1"));
    /// assert_eq!(doc.attribute_by_name(root, "n:x"), Some("1"));
    /// assert_eq!(doc.attribute_by_name(root, "{}y"), Some("2"));
    /// assert_eq!(doc.attribute_by_name(root, "{urn:other}x"), None);
    /// # Ok::<(), xmlsplice::Error>(())
    /// ```
    pub fn attribute_by_name(&self, element: Element, name: &str) -> Option<&str> {
        let wanted = AttributeName::read(name);
        self.node(element)
            .attributes()
            .find(|a| self.is_attribute(a, &wanted))
            .map(|a| a.value())
    }

    /// Sets attribute `name` of `element` to `value`, keeping the quote
    /// character it has. `name` is as written, with its prefix if any
    /// (`svns:secretAlias`), or `{uri}local`: then a prefix already bound
    /// to `uri` there is used, or a new one declared beside it. A new
    /// attribute goes after the last one, with the quotes the tag already uses.
    ///
    /// Returns whether anything changed.
    pub fn set_attribute(
        &mut self,
        element: Element,
        name: &str,
        value: &str,
    ) -> Result<bool, Error> {
        let wanted = self.attribute_name(name)?;
        let node = self.editable(element)?;
        let text = self.text();
        // A prefix this edit declares: the declaration and its key.
        let mut declaration = None;
        let (range, new) = match node.attributes().find(|a| self.is_attribute(a, &wanted)) {
            Some(attr) if attr.value() == value => return Ok(false),
            Some(attr) => {
                let range = self.value_range(&attr);
                let quote = text[..range.start].chars().next_back().unwrap_or('"');
                (
                    range,
                    crate::escape::attribute(value, quote, self.encoding)?,
                )
            }
            None => {
                let last = node.attributes().next_back();
                let quote = last
                    .and_then(|a| text[..self.value_range(&a).start].chars().next_back())
                    .unwrap_or('"');
                let tags = Tags::of(text, self.range_of(node));
                let close = if tags.self_closing { 2 } else { 1 };
                let at = text[..tags.start_tag_end - close].trim_end().len();
                let escaped = crate::escape::attribute(value, quote, self.encoding)?;
                // A tag that puts its last attribute on a line of its own gets
                // the new one on the next line, aligned with it.
                let separator = match last
                    .and_then(|a| layout::indentation_before(text, self.attr_range(&a).start))
                {
                    Some(indent) => format!("{}{indent}", self.line_ending_at(at)),
                    None => " ".to_string(),
                };
                let written = match wanted {
                    AttributeName::Written(written) | AttributeName::NoNamespace(written) => {
                        written.to_string()
                    }
                    AttributeName::Xml(local) => format!("xml:{local}"),
                    AttributeName::InNamespace { uri, local } => {
                        let bound = node
                            .namespaces()
                            .find(|ns| ns.uri() == uri && ns.name().is_some())
                            .and_then(|ns| ns.name());
                        match bound {
                            Some(prefix) => format!("{prefix}:{local}"),
                            None => {
                                // None in scope: a prefix of its own, declared
                                // on this element once, however many
                                // attributes in that namespace are staged.
                                let staged: Vec<(&str, &str)> = self
                                    .edits
                                    .keys_of(node.id())
                                    .filter_map(|k| k.strip_prefix("xmlns ")?.split_once(' '))
                                    .collect();
                                match staged.iter().find(|(_, u)| *u == uri) {
                                    Some((prefix, _)) => format!("{prefix}:{local}"),
                                    None => {
                                        let taken: Vec<&str> = node
                                            .namespaces()
                                            .filter_map(|ns| ns.name())
                                            .chain(staged.iter().map(|(p, _)| *p))
                                            .collect();
                                        let prefix = (0..)
                                            .map(|i| format!("ns{i}"))
                                            .find(|p| !taken.contains(&p.as_str()))
                                            .expect("a free prefix");
                                        let escaped_uri =
                                            crate::escape::attribute(uri, quote, self.encoding)?;
                                        declaration = Some((
                                            format!(
                                                "{separator}xmlns:{prefix}={quote}{escaped_uri}{quote}"
                                            ),
                                            format!("xmlns {prefix} {uri}"),
                                        ));
                                        format!("{prefix}:{local}")
                                    }
                                }
                            }
                        }
                    }
                };
                (
                    at..at,
                    format!("{separator}{written}={quote}{escaped}{quote}"),
                )
            }
        };
        let owner = node.id();
        if let Some((text, key)) = declaration {
            let range = range.start..range.start;
            self.stage_keyed(range, text, owner, "declare namespace", Some((owner, key)))?;
        }
        let key = Some((owner, name.to_string()));
        self.stage_keyed(range, new, owner, "set attribute", key)?;
        Ok(true)
    }

    /// Removes attribute `name` (as written, or `{uri}local` whatever its
    /// prefix) and the space before it.
    ///
    /// Returns whether anything changed.
    pub fn remove_attribute(&mut self, element: Element, name: &str) -> Result<bool, Error> {
        let wanted = self.attribute_name(name)?;
        let node = self.editable(element)?;
        let text = self.text();
        let Some(attr) = node.attributes().find(|a| self.is_attribute(a, &wanted)) else {
            return Ok(false);
        };
        let range = self.attr_range(&attr);
        let start = text[..range.start].trim_end().len();
        let owner = node.id();
        self.stage(start..range.end, String::new(), owner, "remove attribute")?;
        Ok(true)
    }

    /// Sets the text of `element`, escaped, replacing the text (and CDATA)
    /// it holds. Works on `<a/>` and `<a></a>` too.
    ///
    /// Returns whether anything changed: an element that already holds this
    /// value, however it is spelled, is left alone.
    ///
    /// # Errors
    /// When the element holds child elements, comments or processing
    /// instructions, which setting its text would destroy.
    pub fn set_text(&mut self, element: Element, value: &str) -> Result<bool, Error> {
        let node = self.editable(element)?;
        let range = self.range_of(node);
        let start = range.start;
        let splice = text_splice(self.text(), node, range, value, self.encoding)
            .map_err(|kind| Error::at(kind, self.pos(start)))?;
        let Some((range, new)) = splice else {
            return Ok(false);
        };
        let owner = node.id();
        self.stage(range, new, owner, "set text")?;
        Ok(true)
    }

    /// Inserts a new element at `place`, laid out like its neighbours: the
    /// indentation of its siblings (or its parent's plus the file's indent
    /// unit) and the line ending used at that place. When the neighbours
    /// share a line, the new element joins it.
    ///
    /// # Examples
    /// ```
    /// use xmlsplice::{Document, NewElement, Place};
    /// let mut doc = Document::parse("<r>\r\n\t<members>\r\n\t\t<m>a</m>\r\n\t</members>\r\n</r>")?;
    /// let members = doc.select_one("members")?;
    /// doc.insert(Place::LastChild(members), NewElement::new("m").text("b"))?;
    /// assert_eq!(
    ///     String::from_utf8(doc.render()?).unwrap(),
    ///     "<r>\r\n\t<members>\r\n\t\t<m>a</m>\r\n\t\t<m>b</m>\r\n\t</members>\r\n</r>"
    /// );
    /// # Ok::<(), xmlsplice::Error>(())
    /// ```
    pub fn insert(&mut self, place: Place, fragment: impl IntoMarkup) -> Result<(), Error> {
        let raw = fragment.into_markup()?;
        let (range, new, owner) = match place {
            Place::Before(sibling) | Place::After(sibling) => {
                let node = self.editable(sibling)?;
                let parent = node.parent().filter(Node::is_element).ok_or_else(|| {
                    Error::new(ErrorKind::Unsupported(
                        "a document has one root element; nothing can be inserted beside it".into(),
                    ))
                })?;
                let markup = fragment::prepare(&raw, parent, self.encoding, self.cache.as_ref())?;
                let (range, new) = self.beside(node, parent, &markup, place);
                (range, new, parent.id())
            }
            Place::FirstChild(parent) | Place::LastChild(parent) => {
                let node = self.editable(parent)?;
                let markup = fragment::prepare(&raw, node, self.encoding, self.cache.as_ref())?;
                let (range, new) = self.inside(node, &markup, place);
                (range, new, node.id())
            }
        };
        self.stage(range, new, owner, "insert")
    }

    fn beside(
        &self,
        node: Node,
        parent: Node,
        markup: &str,
        place: Place,
    ) -> (std::ops::Range<usize>, String) {
        let text = self.text();
        let range = self.range_of(node);
        let Some(indent) = layout::indentation_before(text, range.start) else {
            // The sibling shares its line: so does the new element.
            let body = layout::reindent(
                markup,
                self.line_indent(range.start),
                self.indent_unit(),
                self.line_ending_at(range.start),
            );
            let at = if matches!(place, Place::Before(_)) {
                range.start
            } else {
                range.end
            };
            return (at..at, body);
        };
        let unit = self.unit_below(parent, indent);
        if matches!(place, Place::Before(_)) {
            let eol = self.eol_before_line(range.start);
            let body = layout::reindent(markup, indent, &unit, eol);
            (range.start..range.start, format!("{body}{eol}{indent}"))
        } else {
            let eol = self.line_ending_at(range.end);
            let body = layout::reindent(markup, indent, &unit, eol);
            let at = self.end_of_own_line(range.end).unwrap_or(range.end);
            (at..at, format!("{eol}{indent}{body}"))
        }
    }

    fn inside(&self, parent: Node, markup: &str, place: Place) -> (std::ops::Range<usize>, String) {
        let text = self.text();
        let tags = Tags::of(text, self.range_of(parent));
        let significant: Vec<Node> = parent.children().filter(|c| !is_blank_text(c)).collect();
        if significant.is_empty() {
            return self.fill_empty(parent, &tags, markup);
        }
        let content = &text[tags.start_tag_end..tags.end_tag_start];
        // Siblings' indentation: an element child's if there is one.
        let model = parent
            .children()
            .find(Node::is_element)
            .unwrap_or(significant[0]);
        let model_indent = layout::indentation_before(text, self.range_of(model).start);
        let first = tags.start_tag_end + (content.len() - content.trim_start().len());
        let last = tags.start_tag_end + content.trim_end().len();
        match (place, model_indent) {
            (Place::FirstChild(_), Some(indent))
                if layout::indentation_before(text, first).is_some() =>
            {
                let eol = self.eol_before_line(first);
                let unit = self.unit_below(parent, indent);
                let body = layout::reindent(markup, indent, &unit, eol);
                (first..first, format!("{body}{eol}{indent}"))
            }
            (Place::LastChild(_), Some(indent))
                if content[content.trim_end().len()..].contains('\n') =>
            {
                let eol = self.line_ending_at(last);
                let unit = self.unit_below(parent, indent);
                let body = layout::reindent(markup, indent, &unit, eol);
                (last..last, format!("{eol}{indent}{body}"))
            }
            _ => {
                // The children share lines with the tags: stay inline.
                let at = if matches!(place, Place::FirstChild(_)) {
                    first
                } else {
                    last
                };
                let body = layout::reindent(
                    markup,
                    self.line_indent(at),
                    self.indent_unit(),
                    self.line_ending_at(at),
                );
                (at..at, body)
            }
        }
    }

    /// Inserts into an element with no content but whitespace: the new child
    /// goes on a line of its own, and the end tag on the next.
    fn fill_empty(
        &self,
        parent: Node,
        tags: &Tags,
        markup: &str,
    ) -> (std::ops::Range<usize>, String) {
        let text = self.text();
        let start = self.range_of(parent).start;
        let outer = self.line_indent(start);
        let unit = self.indent_unit();
        let inner = format!("{outer}{unit}");
        let eol = self.line_ending_at(start);
        let body = layout::reindent(markup, &inner, unit, eol);
        if tags.self_closing {
            let qname = &text[tags.qname.clone()];
            (
                tags.slash_start(text)..tags.start_tag_end,
                format!(">{eol}{inner}{body}{eol}{outer}</{qname}>"),
            )
        } else {
            (
                tags.start_tag_end..tags.end_tag_start,
                format!("{eol}{inner}{body}{eol}{outer}"),
            )
        }
    }

    /// Replaces `element` with a new one, indented like it.
    ///
    /// Returns whether anything changed (the new markup, laid out, may equal
    /// the old).
    pub fn replace(&mut self, element: Element, fragment: impl IntoMarkup) -> Result<bool, Error> {
        let raw = fragment.into_markup()?;
        let node = self.editable(element)?;
        let text = self.text();
        let scope = node.parent().unwrap_or(node);
        let markup = fragment::prepare(&raw, scope, self.encoding, self.cache.as_ref())?;
        let range = self.range_of(node);
        let indent = self.line_indent(range.start);
        let unit = match node.parent().filter(Node::is_element) {
            Some(parent) => self.unit_below(parent, indent),
            None => self.indent_unit().to_string(),
        };
        let body = layout::reindent(&markup, indent, &unit, self.line_ending_at(range.start));
        if text[range.clone()] == body {
            return Ok(false);
        }
        let owner = Self::owner_of(node);
        self.stage(range, body, owner, "replace")?;
        Ok(true)
    }

    /// Removes `element`; when it stood alone on its line, the line goes too.
    pub fn remove(&mut self, element: Element) -> Result<(), Error> {
        let node = self.editable(element)?;
        if !node.parent().is_some_and(|p| p.is_element()) {
            return Err(Error::new(ErrorKind::Unsupported(
                "the root element cannot be removed".into(),
            )));
        }
        let text = self.text();
        let lines = self.lines();
        let range = self.range_of(node);
        let rest_of_line = &text[range.end..];
        let line_end = lines.newline_from(range.end).map(|nl| nl - range.end);
        let alone = layout::indentation_before(text, range.start).is_some()
            && line_end.is_some_and(|nl| rest_of_line[..nl].trim().is_empty());
        // First on its line with something after it (`<i>1</i> <!-- one -->`):
        // the blanks after it go too, so what follows takes its place.
        let leads = layout::indentation_before(text, range.start).is_some();
        let same_line = &rest_of_line[..line_end.unwrap_or(rest_of_line.len())];
        let blanks = same_line.len() - same_line.trim_start().len();
        let cut = match (alone, line_end) {
            (true, Some(nl)) => lines.line_start(range.start)..range.end + nl + 1,
            _ if leads && !same_line.trim().is_empty() => range.start..range.end + blanks,
            _ => range,
        };
        let owner = Self::owner_of(node);
        self.stage(cut, String::new(), owner, "remove")
    }

    /// Comments `element` out in place: `<!--<a>..</a>-->`.
    ///
    /// # Errors
    /// When the element's text holds `--` (a comment inside it, say), which
    /// no comment may contain.
    pub fn comment_out(&mut self, element: Element) -> Result<(), Error> {
        let node = self.editable(element)?;
        if !node.parent().is_some_and(|p| p.is_element()) {
            return Err(Error::new(ErrorKind::Unsupported(
                "the root element cannot be commented out".into(),
            )));
        }
        let range = self.range_of(node);
        let markup = &self.text()[range.clone()];
        if markup.contains("--") {
            return Err(Error::at(
                ErrorKind::Unsupported(format!(
                    "<{}> holds \"--\" (a comment, perhaps), which a comment cannot contain",
                    node.tag_name().name()
                )),
                self.pos(range.start),
            ));
        }
        let new = format!("<!--{markup}-->");
        let owner = Self::owner_of(node);
        self.stage(range, new, owner, "comment out")
    }

    /// Uncomments a commented-out element in place.
    ///
    /// The element keeps the lines it had inside the comment; a `<!--` or
    /// `-->` alone on its line is removed with that line. To edit the
    /// element in the same change, [`Document::apply`] and select it.
    ///
    /// # Examples
    /// ```
    /// use xmlsplice::Document;
    /// let mut doc = Document::parse("<Server>\n    <!--HostName>www.wso2.org</HostName-->\n</Server>")?;
    /// let host = doc.select_commented("HostName")?.remove(0);
    /// doc.uncomment(&host)?;
    /// doc.apply()?;
    /// let host = doc.select_one("HostName")?;
    /// doc.set_text(host, "node1.example.com")?;
    /// assert_eq!(
    ///     doc.render()?,
    ///     b"<Server>\n    <HostName>node1.example.com</HostName>\n</Server>"
    /// );
    /// # Ok::<(), xmlsplice::Error>(())
    /// ```
    pub fn uncomment(&mut self, commented: &Commented) -> Result<(), Error> {
        let comment = self.comment_of(commented);
        let (range, new) =
            commented::uncomment_splice(self.text(), self.range_of(comment), commented.form);
        let owner = Self::owner_of(comment);
        self.stage(range, new, owner, "uncomment")
    }

    /// The comment node behind a handle; panics on a stale one.
    fn comment_of(&self, commented: &Commented) -> Node<'_, '_> {
        assert_eq!(
            commented.generation, self.generation,
            "stale xmlsplice::Commented: the document was re-parsed by apply() after it was selected"
        );
        self.rox()
            .get_node(commented.comment)
            .expect("a handle of this generation names a node")
    }

    /// Uncomments a commented-out element in place, as [`Document::uncomment`],
    /// and gives it the text `value` in the same edit, so the document needs
    /// no [`Document::apply`] in between (a re-parse of the whole file).
    ///
    /// # Errors
    /// When the element holds child elements, comments or processing
    /// instructions.
    ///
    /// # Examples
    /// ```
    /// use xmlsplice::Document;
    /// let mut doc = Document::parse("<Server>\n    <!--HostName>www.wso2.org</HostName-->\n</Server>")?;
    /// let host = doc.select_commented("HostName")?.remove(0);
    /// doc.uncomment_with_text(&host, "node1.example.com")?;
    /// assert_eq!(
    ///     doc.render()?,
    ///     b"<Server>\n    <HostName>node1.example.com</HostName>\n</Server>"
    /// );
    /// # Ok::<(), xmlsplice::Error>(())
    /// ```
    pub fn uncomment_with_text(&mut self, commented: &Commented, value: &str) -> Result<(), Error> {
        let comment = self.comment_of(commented);
        let comment_range = self.range_of(comment);
        let start = comment_range.start;
        let (range, mut new) =
            commented::uncomment_splice(self.text(), comment_range, commented.form);
        // The element's markup inside the new text, edited as a fragment in
        // the namespaces in scope.
        let (Some(from), Some(to)) = (new.find('<'), new.rfind('>')) else {
            return Err(Error::at(
                ErrorKind::InvalidFragment("no element in it".into()),
                self.pos(start),
            ));
        };
        let scope = comment.parent().unwrap_or(comment);
        let encoding = self.encoding;
        let splice = fragment::parse_in_scope(&new[from..=to], scope, |element, head| {
            let wrapped_text = element.document().input_text();
            text_splice(wrapped_text, element, element.range(), value, encoding)
                .map(|s| s.map(|(r, text)| (r.start - head..r.end - head, text)))
                .map_err(Error::new)
        })
        .map_err(|e| Error::at(e.kind().clone(), self.pos(start)))?;
        if let Some((inner, text)) = splice {
            new.replace_range(from + inner.start..from + inner.end, &text);
        }
        let owner = Self::owner_of(comment);
        self.stage(range, new, owner, "uncomment")
    }
}

/// An attribute name as an edit gives it ([`Document::set_attribute`]).
enum AttributeName<'n> {
    /// As written, prefix included.
    Written(&'n str),
    /// `{}local`: in no namespace.
    NoNamespace(&'n str),
    /// `{http://www.w3.org/XML/1998/namespace}local`, always `xml:local`.
    Xml(&'n str),
    /// `{uri}local`.
    InNamespace { uri: &'n str, local: &'n str },
}

impl<'n> AttributeName<'n> {
    fn read(name: &'n str) -> AttributeName<'n> {
        let expanded = name
            .strip_prefix('{')
            .and_then(|rest| rest.split_once('}'))
            .filter(|(_, local)| !local.contains(':'));
        match expanded {
            Some(("", local)) => AttributeName::NoNamespace(local),
            Some((XML_NAMESPACE, local)) => AttributeName::Xml(local),
            Some((uri, local)) => AttributeName::InNamespace { uri, local },
            None => AttributeName::Written(name),
        }
    }
}
