//! The document: original text, its parse tree, and the edits staged on it.
//!
//! The text is the single source of truth. roxmltree parses it once, only to
//! find where things are (every node knows its byte range). Edits never
//! touch the tree: they are staged as splices (a byte range and its new text)
//! and applied all at once by [`Document::render`] or [`Document::apply`].
//! An untouched byte can therefore never change, because nothing ever
//! rewrites it.

use std::cell::OnceCell;
use std::ops::Range;
use std::sync::Arc;

use roxmltree::{Node, NodeId};

use crate::cache::TreeCache;
use crate::commented::{self, Commented, CommentedChildren};
use crate::encoding::Encoding;
use crate::error::{self, Error, ErrorKind, TextPos};
use crate::layout;
use crate::path::{self, Path};
use crate::splice::Staged;

self_cell::self_cell!(
    /// The text and the tree that borrows it.
    pub(crate) struct Tree {
        owner: Texts,
        #[covariant]
        dependent: RoxDocument,
    }
    impl {Debug}
);

/// The document's text and, when its comments and blank text were left out
/// for the parser (elide.rs), the text the tree was parsed from.
#[derive(Debug)]
pub(crate) struct Texts {
    original: String,
    elided: Option<crate::elide::Elided>,
}

impl Texts {
    /// The document's text.
    pub(crate) fn original(&self) -> &str {
        &self.original
    }

    /// What the tree was parsed from.
    fn parsed(&self) -> &str {
        self.elided.as_ref().map_or(&self.original, |e| &e.text)
    }
}

fn parse_texts(texts: &Texts) -> Result<RoxDocument<'_>, roxmltree::Error> {
    roxmltree::Document::parse_with_options(texts.parsed(), parsing_options())
}

pub(crate) type RoxDocument<'a> = roxmltree::Document<'a>;

/// Parser settings shared by every parse of a document and its fragments.
///
/// DTDs are allowed because shipped files have them (Tomcat's web.xml names
/// an external DTD). roxmltree never fetches anything, rejects references to
/// external entities, and stops entity loops at a depth of 10 (billion laughs);
/// `entities` refuses a large entity referenced many times before this runs.
pub(crate) fn parsing_options<'a>() -> roxmltree::ParsingOptions<'a> {
    roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    }
}

pub(crate) fn parse_tree(text: String) -> Result<Tree, Error> {
    crate::entities::check_expansion(&text)?;
    crate::limits::check(&text)?;
    let elided = crate::elide::elide(&text);
    let texts = Texts {
        original: text,
        elided,
    };
    let retry = texts.elided.is_some();
    match Tree::try_new_or_recover(texts, parse_texts) {
        Ok(tree) => Ok(tree),
        // Parsed whole, the error is roxmltree's own, at its own position.
        Err((mut texts, _)) if retry => {
            texts.elided = None;
            Tree::try_new_or_recover(texts, parse_texts)
                .map_err(|(texts, e)| error::from_parse(&e, &texts.original))
        }
        Err((texts, e)) => Err(error::from_parse(&e, texts.parsed())),
    }
}

/// The tree of `text`: shared through `cache` when there is one.
fn tree_of(text: String, cache: Option<&TreeCache>) -> Result<Arc<Tree>, Error> {
    match cache {
        Some(cache) => cache.parse(text),
        None => parse_tree(text).map(Arc::new),
    }
}

/// A tree of an empty element, held by a document only while
/// [`Document::apply`] parses its new text (parsed once per process).
fn placeholder() -> Arc<Tree> {
    static EMPTY: std::sync::OnceLock<Arc<Tree>> = std::sync::OnceLock::new();
    EMPTY
        .get_or_init(|| Arc::new(parse_tree("<a/>".to_string()).expect("an empty element parses")))
        .clone()
}

/// The text of `tree`: taken over, dropping the tree and the text it was
/// parsed from, unless another document shares it (through a cache).
fn into_text(tree: Arc<Tree>) -> String {
    match Arc::try_unwrap(tree) {
        Ok(tree) => tree.into_owner().original,
        Err(shared) => shared.borrow_owner().original.clone(),
    }
}

/// `text` as bytes in `encoding`.
fn encoded(encoding: Encoding, text: String) -> Result<Vec<u8>, Error> {
    match encoding {
        // The text is the bytes: no second copy of a large file.
        Encoding::Utf8 { bom: false } => Ok(text.into_bytes()),
        encoding => encoding.encode(&text),
    }
}

/// An XML document opened for lossless editing.
///
/// # Examples
/// ```
/// use xmlsplice::Document;
///
/// let original = "<conf>\r\n\t<clustering enable='false'>\r\n\t\t<x>1</x>\r\n\t</clustering>\r\n</conf>";
/// let mut doc = Document::parse(original)?;
/// let clustering = doc.select_one("clustering")?;
/// doc.set_attribute(clustering, "enable", "true")?;
/// let x = doc.select_one("clustering/x")?;
/// doc.set_text(x, "2")?;
/// assert_eq!(
///     doc.render()?,
///     b"<conf>\r\n\t<clustering enable='true'>\r\n\t\t<x>2</x>\r\n\t</clustering>\r\n</conf>"
/// );
/// # Ok::<(), xmlsplice::Error>(())
/// ```
#[derive(Debug)]
pub struct Document {
    /// Shared with the other documents of the same text (see [`TreeCache`]).
    pub(crate) tree: Arc<Tree>,
    /// Where [`Document::apply`] parses, and inserted fragments are checked,
    /// when the document was opened with one.
    pub(crate) cache: Option<TreeCache>,
    pub(crate) encoding: Encoding,
    pub(crate) edits: Staged,
    pub(crate) generation: u32,
    indent_unit: OnceCell<String>,
    lines: OnceCell<crate::error::Lines>,
}

/// A handle on an element of a [`Document`].
///
/// Handles are cheap to copy and do not borrow the document, so that a caller
/// can select, then edit. They stay valid until [`Document::apply`] re-parses
/// the edited text; using one after that panics, because the element it named
/// may have moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Element {
    pub(crate) node: NodeId,
    pub(crate) generation: u32,
}

impl Document {
    /// Opens `bytes`, decoding them in the encoding their XML declaration
    /// names (UTF-8 when none is named), and parses them.
    ///
    /// # Errors
    /// An unsupported encoding, bytes invalid in it, or text that is not
    /// well-formed XML, each with its line and column.
    pub fn parse(bytes: impl AsRef<[u8]>) -> Result<Document, Error> {
        Document::open(bytes.as_ref().to_vec(), None)
    }

    /// As [`Document::parse`], sharing the parse with every document of the
    /// same text that `cache` has seen; [`Document::apply`] parses through
    /// it too. The result is the same as [`Document::parse`]'s.
    ///
    /// # Errors
    /// As [`Document::parse`].
    pub fn parse_with(bytes: impl AsRef<[u8]>, cache: &TreeCache) -> Result<Document, Error> {
        Document::open(bytes.as_ref().to_vec(), Some(cache))
    }

    /// As [`Document::parse`], taking `bytes` over: a UTF-8 or ASCII file's
    /// text is its bytes, not a copy of them. For large files, with
    /// [`Document::into_rendered`].
    ///
    /// # Errors
    /// As [`Document::parse`].
    pub fn parse_owned(bytes: Vec<u8>) -> Result<Document, Error> {
        Document::open(bytes, None)
    }

    fn open(bytes: Vec<u8>, cache: Option<&TreeCache>) -> Result<Document, Error> {
        let encoding = Encoding::detect(&bytes)?;
        let tree = tree_of(encoding.decode_owned(bytes)?, cache)?;
        Ok(Document::from_tree(tree, cache.cloned(), encoding, 0))
    }

    fn from_tree(
        tree: Arc<Tree>,
        cache: Option<TreeCache>,
        encoding: Encoding,
        generation: u32,
    ) -> Document {
        Document {
            tree,
            cache,
            encoding,
            edits: Staged::default(),
            generation,
            indent_unit: OnceCell::new(),
            lines: OnceCell::new(),
        }
    }

    /// The document's text as last parsed (staged edits not included).
    pub fn text(&self) -> &str {
        &self.tree.borrow_owner().original
    }

    /// The encoding the document was read in and will be written in.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    pub(crate) fn rox(&self) -> &roxmltree::Document<'_> {
        self.tree.borrow_dependent()
    }

    pub(crate) fn node(&self, element: Element) -> Node<'_, '_> {
        assert_eq!(
            element.generation, self.generation,
            "stale xmlsplice::Element: the document was re-parsed by apply() after it was selected"
        );
        self.rox()
            .get_node(element.node)
            .expect("an element handle of this generation names a node")
    }

    pub(crate) fn handle(&self, node: Node) -> Element {
        Element {
            node: node.id(),
            generation: self.generation,
        }
    }

    /// The line and column of byte `offset` of the text.
    pub(crate) fn pos(&self, offset: usize) -> TextPos {
        self.lines().pos(self.text(), offset)
    }

    /// The text's lines, counted once: where a line starts or ends is a
    /// binary search, not a scan of a line that may be the whole file.
    pub(crate) fn lines(&self) -> &crate::error::Lines {
        self.lines
            .get_or_init(|| crate::error::Lines::of(self.text()))
    }

    /// Where `node` is in the text. Use this, never `node.range()`: the
    /// tree may have been parsed from the text with its comments and blank
    /// text left out (elide.rs).
    pub(crate) fn range_of(&self, node: Node) -> Range<usize> {
        self.original_range(node.range())
    }

    /// Where `attr` (name, `=`, quoted value) is in the text.
    pub(crate) fn attr_range(&self, attr: &roxmltree::Attribute) -> Range<usize> {
        self.original_range(attr.range())
    }

    /// Where `attr`'s value (inside the quotes) is in the text.
    pub(crate) fn value_range(&self, attr: &roxmltree::Attribute) -> Range<usize> {
        self.original_range(attr.range_value())
    }

    /// What a comment node holds, between `<!--` and `-->`.
    pub(crate) fn comment_text(&self, comment: Node) -> &str {
        let range = self.range_of(comment);
        &self.text()[range.start + 4..range.end - 3]
    }

    /// The name of `attr` as written in the source, prefix included.
    pub(crate) fn written_name(&self, attr: &roxmltree::Attribute) -> &str {
        let raw = &self.text()[self.attr_range(attr)];
        raw.split('=').next().unwrap_or("").trim_end()
    }

    fn original_range(&self, range: Range<usize>) -> Range<usize> {
        match &self.tree.borrow_owner().elided {
            Some(elided) => elided.original_range(range),
            None => range,
        }
    }

    /// The file's indent unit (a tab, or a number of spaces), found once.
    pub(crate) fn indent_unit(&self) -> &str {
        self.indent_unit
            .get_or_init(|| layout::file_indent_unit(self.text()))
    }

    /// The root element.
    pub fn root(&self) -> Element {
        self.handle(self.rox().root_element())
    }

    /// Every element `query` selects, in document order (but for a child
    /// step after contexts nested in one another: each context's children
    /// in turn): a path below the root element
    /// (`"clustering/members/member"`), or below an element
    /// (`(member, "hostName")`).
    ///
    /// A relative path's first step matches the context's children (the
    /// root element's by default); a path starting with `/` names the root
    /// element first; `//` searches at any depth. See [`Path`] for the
    /// syntax.
    pub fn select<'p>(&self, query: impl Into<Query<'p>>) -> Result<Vec<Element>, Error> {
        let query = query.into();
        let path = Path::parse_remembered(query.path)?;
        let context = self.node(query.context.unwrap_or_else(|| self.root()));
        Ok(path
            .select(context)
            .into_iter()
            .map(|n| self.handle(n))
            .collect())
    }

    /// The one element `query` selects ([`Document::select`]).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when nothing matches, and
    /// [`ErrorKind::Ambiguous`] (with every match's position) when several do.
    pub fn select_one<'p>(&self, query: impl Into<Query<'p>>) -> Result<Element, Error> {
        let query = query.into();
        self.select_optional(query)?.ok_or_else(|| {
            Error::at(
                ErrorKind::NotFound {
                    path: query.path.to_string(),
                },
                self.position(query.context.unwrap_or_else(|| self.root())),
            )
        })
    }

    /// The element `query` selects, if any ([`Document::select`]).
    ///
    /// # Errors
    /// [`ErrorKind::Ambiguous`] when several match.
    pub fn select_optional<'p>(
        &self,
        query: impl Into<Query<'p>>,
    ) -> Result<Option<Element>, Error> {
        let query = query.into();
        let found = self.select(query)?;
        match found.len() {
            0 => Ok(None),
            1 => Ok(Some(found[0])),
            _ => Err(Error::at(
                ErrorKind::Ambiguous {
                    path: query.path.to_string(),
                    matches: found.iter().map(|&e| self.position(e)).collect(),
                },
                self.position(found[1]),
            )),
        }
    }

    /// Every commented-out element that `query` selects, in document order.
    ///
    /// The last step of the path is matched against comments whose content
    /// is one element, in either form shipped files use:
    /// `<!--<parameter name="x">1</parameter>-->` (spaces and line breaks
    /// around the element allowed) and WSO2's `<!--HostName>x</HostName-->`.
    /// The other steps select the elements holding those comments. A comment
    /// holding several elements, or prose, is never a match.
    ///
    /// # Examples
    /// ```
    /// use xmlsplice::Document;
    /// let doc = Document::parse("<Server><!--HostName>www.wso2.org</HostName--></Server>")?;
    /// let found = doc.select_commented("HostName")?;
    /// assert_eq!(found.len(), 1);
    /// assert_eq!(found[0].markup(), "<HostName>www.wso2.org</HostName>");
    /// # Ok::<(), xmlsplice::Error>(())
    /// ```
    pub fn select_commented<'p>(
        &self,
        query: impl Into<Query<'p>>,
    ) -> Result<Vec<Commented>, Error> {
        let query = query.into();
        let path = Path::parse(query.path)?;
        let (parents, last) = path.split_last();
        if last.is_self() {
            return Err(Error::new(ErrorKind::InvalidPath {
                path: path.to_string(),
                reason: "the last step must name the commented-out element".into(),
                column: None,
            }));
        }
        // With no steps left, this is the context itself (or, for `/x`, the
        // document node above the root element).
        let context = self.node(query.context.unwrap_or_else(|| self.root()));
        let holders = parents.select(context);
        Ok(commented::find(self, &holders, last))
    }

    /// The local name of `element` (without prefix).
    pub fn name(&self, element: Element) -> &str {
        self.node(element).tag_name().name()
    }

    /// The namespace URI of `element`, if it is in one.
    pub fn namespace(&self, element: Element) -> Option<&str> {
        self.node(element).tag_name().namespace()
    }

    /// The value of the attribute written as `name` on `element` (with its
    /// prefix, if it has one: `svns:secretAlias`), entities resolved.
    pub fn attribute(&self, element: Element, name: &str) -> Option<&str> {
        self.node(element)
            .attributes()
            .find(|a| self.written_name(a) == name)
            .map(|a| a.value())
    }

    /// Every attribute of `element`: its name as written and its value.
    pub fn attributes(&self, element: Element) -> Vec<(&str, &str)> {
        self.node(element)
            .attributes()
            .map(|a| (self.written_name(&a), a.value()))
            .collect()
    }

    /// The namespaces in scope at `element`: each prefix (`None` for the
    /// default namespace) and its URI.
    pub fn namespaces_in_scope(&self, element: Element) -> Vec<(Option<&str>, &str)> {
        self.node(element)
            .namespaces()
            .map(|ns| (ns.name(), ns.uri()))
            .collect()
    }

    /// Every attribute of `element` as what identifies it whatever prefix
    /// the file binds: its namespace URI (if it is in one), local name and
    /// value. Namespace declarations are no attributes.
    pub fn attributes_expanded(&self, element: Element) -> Vec<(Option<&str>, &str, &str)> {
        self.node(element)
            .attributes()
            .map(|a| (a.namespace(), a.name(), a.value()))
            .collect()
    }

    /// The text of `element`: its text and CDATA content, entities resolved;
    /// `None` when it has child elements.
    pub fn element_text(&self, element: Element) -> Option<String> {
        let node = self.node(element);
        if node.children().any(|c| c.is_element()) {
            return None;
        }
        Some(path::text_content(node))
    }

    /// The element children of `element`, in order.
    pub fn children(&self, element: Element) -> Vec<Element> {
        self.node(element)
            .children()
            .filter(Node::is_element)
            .map(|n| self.handle(n))
            .collect()
    }

    /// Whether `element` has child elements.
    pub fn has_children(&self, element: Element) -> bool {
        self.node(element).children().any(|n| n.is_element())
    }

    /// Whether `element` holds a comment among its children: where none
    /// is, no child of it is commented out ([`Document::select_commented`]).
    pub fn has_comment_children(&self, element: Element) -> bool {
        self.node(element).children().any(|n| n.is_comment())
    }

    /// The commented-out elements directly under `parent`, read once, to
    /// ask whether one is selected by each of many steps (where
    /// [`Document::select_commented`] would read every comment for each).
    ///
    /// # Examples
    /// ```
    /// use xmlsplice::Document;
    /// let doc = Document::parse("<c><!--<p name=\"x\">1</p>--><!-- prose --></c>")?;
    /// let mut commented = doc.commented_children(doc.root());
    /// assert!(commented.any("p[@name='x']")?);
    /// assert!(!commented.any("p[@name='y']")?);
    /// # Ok::<(), xmlsplice::Error>(())
    /// ```
    pub fn commented_children(&self, parent: Element) -> CommentedChildren<'_> {
        CommentedChildren::new(self, self.node(parent))
    }

    /// The parent element of `element`; `None` for the root element.
    pub fn parent(&self, element: Element) -> Option<Element> {
        self.node(element)
            .parent()
            .filter(Node::is_element)
            .map(|n| self.handle(n))
    }

    /// Where `element` starts, as line and column.
    pub fn position(&self, element: Element) -> TextPos {
        self.pos(self.range(element).start)
    }

    /// Where a commented-out element's comment starts, as line and column.
    pub fn commented_position(&self, commented: &Commented) -> TextPos {
        self.pos(commented.offset())
    }

    /// The source text of `element`, from `<` to the end of its end tag.
    pub fn markup(&self, element: Element) -> &str {
        &self.text()[self.range(element)]
    }

    /// The byte range of `element` in [`Document::text`].
    pub fn range(&self, element: Element) -> Range<usize> {
        self.range_of(self.node(element))
    }

    /// Whether edits are staged and not yet applied.
    pub fn has_edits(&self) -> bool {
        !self.edits.is_empty()
    }

    /// Whether the document is as it was opened: nothing staged, nothing
    /// applied. [`Document::render`] would then return exactly the bytes it
    /// was opened from, so a caller comparing the two can skip the render.
    pub fn is_pristine(&self) -> bool {
        self.edits.is_empty() && self.generation == 0
    }

    /// The kinds of the staged edits, each once: "set text", "set
    /// attribute", "remove attribute", "insert", "replace", "remove",
    /// "comment out", "uncomment". Edits that add or take away elements
    /// leave the tree behind the text until [`Document::apply`]; a caller
    /// that reads on (without applying) can tell from these whether what it
    /// reads may be out of date.
    // For carbon-config's sessions, which choose when to re-parse; not the
    // engine's API, so hidden from its documentation.
    #[doc(hidden)]
    pub fn staged_edit_kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.edits.kinds()
    }

    /// How many bytes [`Document::edited_text`] (and so rendering) would
    /// re-parse to check the staged edits: the smallest element that holds
    /// them all, or the whole text when they touch the root element's own
    /// content. A caller choosing between that check and
    /// [`Document::apply`] (a whole parse, which a [`TreeCache`] shares
    /// between documents of the same text) can weigh the two.
    // As `staged_edit_kinds`: a cost for a session's choice, hidden.
    #[doc(hidden)]
    pub fn check_len(&self) -> usize {
        if self.edits.is_empty() {
            return 0;
        }
        crate::validate::Scope::of(self).len(self.text().len())
    }

    /// The text with every staged edit applied, checked to parse.
    ///
    /// The check re-parses the smallest element that holds every edit, with
    /// the prolog (and so any DTD) and the namespaces in scope around it; if
    /// an edit touches the root element, the whole text. The bytes outside
    /// that element are the ones already parsed when the document was opened,
    /// so this proves the whole text well-formed for a fraction of the cost.
    pub fn edited_text(&self) -> Result<String, Error> {
        if self.edits.is_empty() {
            return Ok(self.text().to_string());
        }
        let text = crate::splice::apply(self.text(), &self.edits);
        crate::validate::check(self, &text)?;
        Ok(text)
    }

    /// The document as bytes in its own encoding, with staged edits applied.
    ///
    /// With no edits, these are exactly the bytes it was opened from.
    ///
    /// # Errors
    /// When the edited text does not parse, or holds a character the
    /// encoding cannot, outside text and attribute values.
    pub fn render(&self) -> Result<Vec<u8>, Error> {
        encoded(self.encoding, self.edited_text()?)
    }

    /// As [`Document::render`], consuming the document. The tree is dropped
    /// before the edited text is built, so the text and its edited copy are
    /// not held beside it: for a large file, opened with
    /// [`Document::parse_owned`], this keeps memory near twice the file's
    /// size. (The check of the edits still parses the smallest element that
    /// holds them all; an edit to the root element's own content makes that
    /// the whole text.)
    ///
    /// # Errors
    /// As [`Document::render`].
    pub fn into_rendered(self) -> Result<Vec<u8>, Error> {
        let scope = crate::validate::Scope::of(&self);
        let Document {
            tree,
            edits,
            encoding,
            ..
        } = self;
        let text = into_text(tree);
        if edits.is_empty() {
            return encoded(encoding, text);
        }
        let edited = crate::splice::apply(&text, &edits);
        scope.check(&text, &edits, &edited)?;
        drop(text);
        encoded(encoding, edited)
    }

    /// Applies the staged edits and re-parses, so that what they added can be
    /// selected and edited in turn (an uncommented element, say).
    ///
    /// Element handles selected before become stale. On error the document is
    /// left as it was, with its edits still staged.
    pub fn apply(&mut self) -> Result<(), Error> {
        if self.edits.is_empty() {
            return Ok(());
        }
        let text = crate::splice::apply(self.text(), &self.edits);
        // The old tree goes before the new text is parsed, unless another
        // document shares it: a large file's peak then holds one tree, not
        // two. Its text stays,
        // to be parsed again should the new text not parse.
        let old = match Arc::try_unwrap(std::mem::replace(&mut self.tree, placeholder())) {
            Ok(tree) => Err(tree.into_owner().original),
            Err(shared) => Ok(shared),
        };
        let tree = match tree_of(text, self.cache.as_ref()) {
            Ok(tree) => tree,
            Err(e) => {
                self.tree = match old {
                    Ok(shared) => shared,
                    Err(text) => tree_of(text, self.cache.as_ref())
                        .expect("a text that parsed once parses again"),
                };
                return Err(Error::new(ErrorKind::EditBrokeDocument(e.to_string())));
            }
        };
        let generation = self.generation.wrapping_add(1);
        *self = Document::from_tree(tree, self.cache.take(), self.encoding, generation);
        Ok(())
    }
}

/// What [`Document::select`] and its kin select: a path, below the root
/// element or below a given element.
///
/// ```
/// use xmlsplice::Document;
/// let doc = Document::parse("<a><b><c>1</c></b><c>2</c></a>")?;
/// let b = doc.select_one("b")?;
/// assert_eq!(doc.element_text(doc.select_one((b, "c"))?).as_deref(), Some("1"));
/// assert_eq!(doc.select("c")?.len(), 1);
/// # Ok::<(), xmlsplice::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Query<'p> {
    context: Option<Element>,
    path: &'p str,
}

impl<'p, S: AsRef<str> + ?Sized> From<&'p S> for Query<'p> {
    fn from(path: &'p S) -> Query<'p> {
        Query {
            context: None,
            path: path.as_ref(),
        }
    }
}

impl<'p, S: AsRef<str> + ?Sized> From<(Element, &'p S)> for Query<'p> {
    fn from((context, path): (Element, &'p S)) -> Query<'p> {
        Query {
            context: Some(context),
            path: path.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::splice::Splice;

    /// Stages an edit no public operation would make: one that breaks the
    /// document, as only a bug could.
    fn break_it(doc: &mut Document) {
        let end = doc.text().len();
        let broken = Splice {
            range: end..end,
            text: "<unclosed>".into(),
            owner: doc.rox().root().id(),
            what: "a broken edit",
            key: None,
        };
        let text = doc.text().to_string();
        doc.edits.stage(broken, &text).unwrap();
    }

    #[test]
    fn an_apply_that_fails_leaves_the_document_as_it_was() {
        const TEXT: &str = "<Server>\n  <Offset>0</Offset>\n</Server>\n";
        // Its own tree, dropped before the new parse and parsed again; and a
        // tree shared through a cache (kept on the second parse), left alone.
        let cache = TreeCache::new(1 << 20);
        let _first = Document::parse_with(TEXT, &cache).unwrap();
        let docs = [
            Document::parse(TEXT).unwrap(),
            Document::parse_with(TEXT, &cache).unwrap(),
        ];
        for mut doc in docs {
            break_it(&mut doc);
            let err = doc.apply().unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::EditBrokeDocument(_)),
                "{err}"
            );
            assert_eq!(doc.text(), TEXT);
            assert!(doc.has_edits(), "the edits stay staged");
            doc.edits.clear();
            let offset = doc.select_one("Offset").unwrap();
            doc.set_text(offset, "1").unwrap();
            doc.apply().unwrap();
            assert_eq!(doc.text(), TEXT.replace(">0<", ">1<"));
        }
    }
}
