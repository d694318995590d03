//! Raw edits: for what no operation covers, any XML file under
//! repository/conf, with the same guarantees (layout kept, idempotent,
//! ambiguity refused), like Ansible's xml module without its damage.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path};

use xmlsplice::{Document, Element, Place};

use crate::ensure::{edit_xml, Target};
use crate::error::{Error, Result};
use crate::session::{Outcome, Session};

/// Where [`RawAction::Insert`] puts its element, relative to the selected one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawPlace {
    /// First child of the selected element.
    FirstChild,
    /// Last child of the selected element.
    LastChild,
    /// Sibling just before it.
    Before,
    /// Sibling just after it.
    After,
}

/// A raw edit of the element a path selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawAction {
    /// Set an attribute (the element must exist).
    SetAttribute {
        /// Attribute name as written, prefix included.
        name: String,
        /// The value.
        value: String,
    },
    /// Remove an attribute (absent is already so).
    RemoveAttribute {
        /// Attribute name as written.
        name: String,
    },
    /// Set the element's text (the element must exist).
    SetText(String),
    /// Insert an element, unless an equal one already stands there; with a
    /// `key`, an element of the same name and key there is updated to it
    /// in place instead.
    Insert {
        /// Where, relative to the selected element.
        place: RawPlace,
        /// The element's markup.
        markup: String,
        /// What identifies the element among its neighbours: a child's name
        /// (its text is the key, `Name`) or `@` and an attribute's name
        /// (`@name`).
        key: Option<String>,
    },
    /// Remove the element (absent is already so).
    Remove,
    /// Comment the element out (absent is already so).
    CommentOut,
    /// Uncomment a commented-out element (an active one is already so).
    Uncomment,
    /// Make the path exist, creating each missing step from its name and
    /// predicates (`owner[@dob='1976-04-12']/name/last[.='Smith']`).
    Ensure,
    /// Make the element's children exactly these elements.
    SetChildren(String),
}

impl std::fmt::Display for RawAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawAction::SetAttribute { name, value } => write!(f, "set {name}=\"{value}\""),
            RawAction::RemoveAttribute { name } => write!(f, "remove attribute {name}"),
            RawAction::SetText(value) => write!(f, "set text {value:?}"),
            RawAction::Insert { place, markup, .. } => {
                let first = markup.trim().lines().next().unwrap_or("");
                write!(f, "insert {place:?}: {first}")
            }
            RawAction::Remove => f.write_str("remove"),
            RawAction::CommentOut => f.write_str("comment out"),
            RawAction::Uncomment => f.write_str("uncomment"),
            RawAction::Ensure => f.write_str("ensure"),
            RawAction::SetChildren(markup) => {
                let first = markup.trim().lines().next().unwrap_or("");
                write!(f, "set children: {first}")
            }
        }
    }
}

/// Which elements a raw edit applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Select {
    /// Exactly the one the path matches; several are an error.
    #[default]
    One,
    /// Every one the path matches, each edited as if alone.
    All,
}

/// What a raw edit of an element that is not there does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IfMissing {
    /// Fails, naming the path: a mistyped path is never "nothing to do".
    #[default]
    Error,
    /// Does nothing.
    Skip,
}

/// How a raw edit selects ([`apply_with`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawOptions {
    /// One match, or all.
    pub select: Select,
    /// An element that is not there: an error, or nothing to do.
    pub if_missing: IfMissing,
}

/// Applies `action` to the element `selector` selects in `file`.
///
/// # Errors
/// A file outside repository/conf or not `.xml`; a selector matching several
/// elements; an element that must exist and does not.
pub fn apply(
    session: &mut Session,
    file: &str,
    selector: &str,
    action: &RawAction,
) -> Result<Outcome> {
    apply_with(session, file, selector, action, RawOptions::default())
}

/// [`apply`], on one matching element or all of them, and with what an
/// element that is not there does ([`RawOptions`]).
///
/// # Errors
/// As [`apply`]; with [`IfMissing::Skip`], no element is not an error.
pub fn apply_with(
    session: &mut Session,
    file: &str,
    selector: &str,
    action: &RawAction,
    options: RawOptions,
) -> Result<Outcome> {
    let path = Path::new(file);
    let under_conf = path.starts_with("repository/conf")
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if !under_conf || path.extension().is_none_or(|e| e != "xml") {
        return Err(Error::OutsideHome {
            path: path.to_path_buf(),
            reason: "raw edits apply to .xml files under repository/conf only".into(),
        });
    }
    edit_xml(session, file, format!("{selector}: {action}"), |t| {
        match action {
            RawAction::Uncomment => return uncomment(t, selector, options),
            RawAction::Ensure => return Ok(t.doc.ensure_path(selector)?),
            RawAction::SetChildren(markup) => return set_children(t, selector, markup, options),
            _ => {}
        }
        let targets = match options.select {
            Select::One => t.doc.select_optional(selector)?.into_iter().collect(),
            Select::All => t.doc.select(selector)?,
        };
        let removes = matches!(action, RawAction::Remove | RawAction::CommentOut);
        let targets = if removes {
            // What goes with an element that matched is not edited again.
            let mut under_a_match = UnderAMatch::new(&targets);
            targets
                .iter()
                .copied()
                .filter(|&el| !under_a_match.ancestor_matched(t.doc, el))
                .collect()
        } else {
            targets
        };
        let needs_one = !matches!(
            action,
            RawAction::RemoveAttribute { .. } | RawAction::Remove | RawAction::CommentOut
        );
        if targets.is_empty() && needs_one {
            return match options.if_missing {
                IfMissing::Skip => Ok(false),
                // The engine's own "no element matches", with its place.
                IfMissing::Error => t
                    .doc
                    .select_one(selector)
                    .map(|_| false)
                    .map_err(Into::into),
            };
        }
        if let (RawAction::Insert { place, markup, .. }, [first, _, ..]) = (action, &targets[..]) {
            // Several elements into an element are applied one by one, which
            // leaves the other matches' handles behind.
            let into = matches!(place, RawPlace::FirstChild | RawPlace::LastChild);
            let several = into && {
                let wrapped = in_context(t.doc, Some(*first), markup)?;
                wrapped.children(wrapped.root()).len() > 1
            };
            if several {
                return Err(t.invalid(format!(
                    "{selector:?} matches several elements, and the markup holds several: \
                     insert them into every match one [[raw]] edit at a time"
                )));
            }
        }
        let mut changed = false;
        let mut shapes = Shapes::default();
        for el in targets {
            let doc = &mut *t.doc;
            changed |= match action {
                RawAction::SetAttribute { name, value } => doc.set_attribute(el, name, value)?,
                RawAction::RemoveAttribute { name } => doc.remove_attribute(el, name)?,
                RawAction::SetText(value) => doc.set_text(el, value)?,
                RawAction::Insert { place, markup, key } => {
                    let file = t.file.clone();
                    let key = key.as_deref();
                    insert_unless_present(&mut *t.doc, el, *place, markup, key, &mut shapes)
                        .map_err(|e| match e {
                            Error::Invalid { message, .. } => Error::Invalid { file, message },
                            other => other,
                        })?
                }
                RawAction::Remove => {
                    doc.remove(el)?;
                    true
                }
                RawAction::CommentOut => {
                    doc.comment_out(el)?;
                    true
                }
                RawAction::Uncomment | RawAction::Ensure | RawAction::SetChildren(_) => {
                    unreachable!("handled above")
                }
            };
        }
        Ok(changed)
    })
}

/// Uncomments what `selector` matches among commented-out elements, unless
/// an active one is there already.
fn uncomment(t: &mut Target, selector: &str, options: RawOptions) -> Result<bool> {
    if options.select == Select::One && t.doc.select_optional(selector)?.is_some() {
        return Ok(false);
    }
    let found = t.doc.select_commented(selector)?;
    match (found.as_slice(), options) {
        (
            [],
            RawOptions {
                if_missing: IfMissing::Skip,
                ..
            },
        ) => Ok(false),
        ([], _) if options.select == Select::All && !t.doc.select(selector)?.is_empty() => {
            Ok(false)
        }
        ([], _) => Err(t.invalid(format!("nothing commented out matches {selector:?}"))),
        ([one], _) => {
            t.doc.uncomment(one)?;
            Ok(true)
        }
        (
            several,
            RawOptions {
                select: Select::All,
                ..
            },
        ) => {
            for commented in several {
                t.doc.uncomment(commented)?;
            }
            Ok(true)
        }
        _ => Err(t.invalid(format!("several commented-out elements match {selector:?}"))),
    }
}

fn insert_unless_present(
    doc: &mut Document,
    el: Element,
    place: RawPlace,
    markup: &str,
    key: Option<&str>,
    shapes: &mut Shapes,
) -> Result<bool> {
    // The markup as it would stand there: in the namespaces in scope (an
    // unprefixed element takes the default namespace of where it goes).
    let context = match place {
        RawPlace::FirstChild | RawPlace::LastChild => Some(el),
        RawPlace::Before | RawPlace::After => doc.parent(el),
    };
    let in_context = in_context(doc, context, markup)?;
    let elements = in_context.children(in_context.root());
    if elements.len() > 1 {
        // Several: each inserted in order, unless one like it is there.
        if key.is_some() {
            return Err(Error::Invalid {
                file: Default::default(),
                message: "a key identifies one element; the markup holds several".into(),
            });
        }
        // Into an element with no children, each insert rewrites its
        // (empty) content, so the next must see the one before: applied in
        // between, the element found again by where it stands.
        let into = matches!(place, RawPlace::FirstChild | RawPlace::LastChild);
        let lineage = lineage(doc, el);
        let mut el = el;
        let mut changed = false;
        // An apply makes every element found before stale: their shapes too.
        let mut applied = Shapes::default();
        for element in elements {
            if changed && into {
                doc.apply()?;
                el = find(doc, &lineage);
                applied = Shapes::default();
            }
            let one = in_context.markup(element).to_string();
            let shapes = if into { &mut applied } else { &mut *shapes };
            changed |= insert_unless_present(doc, el, place, &one, None, shapes)?;
        }
        return Ok(changed);
    }
    let Some(&new) = elements.first() else {
        return Err(Error::Invalid {
            file: Default::default(),
            message: "the markup to insert holds no element".into(),
        });
    };
    if shapes.has_child_like(doc, context, (&in_context, new)) {
        return Ok(false);
    }
    if let Some(key) = key {
        // The element the recipe inserted before, changed since: updated
        // where it stands, not inserted a second time.
        let name = in_context.name(new).to_string();
        let namespace = in_context.namespace(new).map(str::to_string);
        let Some(value) = key_of(&in_context, new, key) else {
            return Err(Error::Invalid {
                file: Default::default(),
                message: format!("the markup to insert has no {key} to identify it by"),
            });
        };
        let same = shapes.children_keyed(doc, context, key, (&name, namespace.as_deref(), &value));
        match same {
            [] => {}
            [one] => {
                doc.replace(*one, markup)?;
                return Ok(true);
            }
            _ => {
                return Err(Error::Invalid {
                    file: Default::default(),
                    message: format!(
                        "several <{name}> there have {key} {value:?}; the key must tell them apart"
                    ),
                })
            }
        }
    }
    let place = match place {
        RawPlace::FirstChild => Place::FirstChild(el),
        RawPlace::LastChild => Place::LastChild(el),
        RawPlace::Before => Place::Before(el),
        RawPlace::After => Place::After(el),
    };
    doc.insert(place, markup)?;
    Ok(true)
}

/// `markup` (elements) as it would stand in `context`: inside an element
/// that declares the namespaces in scope there, so that an unprefixed
/// element takes the default namespace of where it goes.
fn in_context(doc: &Document, context: Option<Element>, markup: &str) -> Result<Document> {
    let declarations: String = context
        .map(|c| doc.namespaces_in_scope(c))
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, uri)| *uri != xmlsplice::XML_NAMESPACE)
        .map(|(prefix, uri)| {
            let uri = uri
                .replace('&', "&amp;")
                .replace('"', "&quot;")
                .replace('<', "&lt;");
            match prefix {
                Some(prefix) => format!(" xmlns:{prefix}=\"{uri}\""),
                None => format!(" xmlns=\"{uri}\""),
            }
        })
        .collect();
    Ok(Document::parse(format!(
        "<context{declarations}>{markup}</context>"
    ))?)
}

/// Makes the children of the element `selector` selects exactly the
/// elements of `markup`: nothing when they are (by structure, as insert
/// compares), else the old ones removed and the new ones added, laid out
/// as any insert.
fn set_children(t: &mut Target, selector: &str, markup: &str, options: RawOptions) -> Result<bool> {
    let Some(el) = t.doc.select_optional(selector)? else {
        return match options.if_missing {
            IfMissing::Skip => Ok(false),
            IfMissing::Error => t
                .doc
                .select_one(selector)
                .map(|_| false)
                .map_err(Into::into),
        };
    };
    if t.doc
        .element_text(el)
        .is_some_and(|text| !text.trim().is_empty())
    {
        return Err(t.invalid(format!(
            "{selector:?} holds text: an element holds text or elements, not both \
             (set_text, or remove the text first)"
        )));
    }
    let wanted = in_context(t.doc, Some(el), markup)?;
    let wanted_children = wanted.children(wanted.root());
    let same = {
        let current = t.doc.children(el);
        current.len() == wanted_children.len()
            && current
                .iter()
                .zip(&wanted_children)
                .all(|(&c, &w)| same_structure((t.doc, c), (&wanted, w)))
    };
    if same {
        return Ok(false);
    }
    // Found again by where it stands, not by the selector: the old children
    // may be what it selected by (`beers[beer='Schlitz']`), and the new ones
    // may match it too.
    let lineage = lineage(t.doc, el);
    for child in t.doc.children(el) {
        t.doc.remove(child)?;
    }
    // One at a time: into an element left empty, each insert rewrites its
    // tag, so the next must see the one before.
    for &child in &wanted_children {
        t.doc.apply()?;
        let el = find(t.doc, &lineage);
        t.doc.insert(Place::LastChild(el), wanted.markup(child))?;
    }
    Ok(true)
}

/// The element at `lineage` ([`lineage`]).
fn find(doc: &Document, lineage: &[usize]) -> Element {
    lineage
        .iter()
        .try_fold(doc.root(), |el, &i| doc.children(el).get(i).copied())
        .expect("an edit inside an element leaves its ancestors' children")
}

/// Where `el` stands: its index among its parent's child elements, and so
/// on up to the root, read from the root down.
fn lineage(doc: &Document, mut el: Element) -> Vec<usize> {
    let mut indices = Vec::new();
    while let Some(parent) = doc.parent(el) {
        let index = doc.children(parent).iter().position(|&c| c == el);
        indices.push(index.expect("an element is among its parent's children"));
        el = parent;
    }
    indices.reverse();
    indices
}

/// The key of `el`: the attribute `@name`'s value, or the text of its
/// child `name`, trimmed.
fn key_of(doc: &Document, el: Element, key: &str) -> Option<String> {
    match key.strip_prefix('@') {
        Some(attribute) => doc.attribute(el, attribute).map(String::from),
        None => {
            let child = doc.select_optional((el, key)).ok()??;
            doc.element_text(child).map(|t| t.trim().to_string())
        }
    }
}

/// Whether two elements have one structure, independent of layout and
/// prefixes: namespace and name, attributes (by namespace and name, in any
/// order), text, children. The text of an element without children is its
/// value, compared exactly: `<a> x </a>` is not `<a>x</a>`, and a line
/// break in it counts. Beside children, text is layout. Compared side by
/// side from a stack, stopping at the first difference: a neighbour nested
/// thousands deep costs no more than the new element it is compared with,
/// and no recursion can overflow.
fn same_structure((a_doc, a): (&Document, Element), (b_doc, b): (&Document, Element)) -> bool {
    let mut pending = vec![(a, b)];
    while let Some((a, b)) = pending.pop() {
        let ((a_own, a_children), (b_own, b_children)) = (own(a_doc, a), own(b_doc, b));
        if a_own != b_own {
            return false;
        }
        pending.extend(a_children.into_iter().zip(b_children));
    }
    true
}

/// What [`same_structure`] compares of one element beside its children,
/// and its children: what its shape ([`shape_of`]) hashes too, so that
/// elements alike always hash alike.
#[derive(PartialEq, Hash)]
struct Own<'d> {
    name: &'d str,
    /// By URI, not prefix: `<n:p xmlns:n="urn:n">` is not `<p>`.
    namespace: &'d str,
    /// Sorted: their order is layout.
    attributes: Vec<(Option<&'d str>, &'d str, &'d str)>,
    children: usize,
    /// Its text, when it has no children: beside children, text is layout.
    text: Option<String>,
}

fn own(doc: &Document, el: Element) -> (Own<'_>, Vec<Element>) {
    let mut attributes = doc.attributes_expanded(el);
    attributes.sort();
    let children = doc.children(el);
    let own = Own {
        name: doc.name(el),
        namespace: doc.namespace(el).unwrap_or_default(),
        attributes,
        children: children.len(),
        text: children
            .is_empty()
            .then(|| doc.element_text(el).unwrap_or_default()),
    };
    (own, children)
}

/// The children of each parent asked about, by their shape (what
/// [`same_structure`] compares, hashed with keys of this run), for all the
/// matches of one edit: an insert beside each of many siblings compared
/// the new element with every sibling, the square of their number. Each
/// element's shape is found once, its children's first, from a stack; those
/// whose shapes hash alike are still compared in full.
#[derive(Default)]
struct Shapes {
    keys: std::collections::hash_map::RandomState,
    of: HashMap<Element, u64>,
    children: HashMap<Option<Element>, HashMap<u64, Vec<Element>>>,
    /// Each parent's children by name, namespace and the value of one key.
    keyed: HashMap<(Option<Element>, String), HashMap<NameAndKey, Vec<Element>>>,
}

/// An element's name, namespace and the value of a key.
type NameAndKey = (String, Option<String>, String);

impl Shapes {
    /// The children of `parent` with that name, namespace and value of
    /// `key`: an insert with a key updates the one the recipe inserted
    /// before (several are an error).
    fn children_keyed(
        &mut self,
        doc: &Document,
        parent: Option<Element>,
        key: &str,
        (name, namespace, value): (&str, Option<&str>, &str),
    ) -> &[Element] {
        let index = self
            .keyed
            .entry((parent, key.to_string()))
            .or_insert_with(|| {
                let mut index: HashMap<NameAndKey, Vec<Element>> = HashMap::new();
                for child in parent.map_or_else(Vec::new, |p| doc.children(p)) {
                    if let Some(value) = key_of(doc, child, key) {
                        let named = doc.name(child).to_string();
                        let namespace = doc.namespace(child).map(str::to_string);
                        index
                            .entry((named, namespace, value))
                            .or_default()
                            .push(child);
                    }
                }
                index
            });
        let wanted = (
            name.to_string(),
            namespace.map(str::to_string),
            value.to_string(),
        );
        index.get(&wanted).map_or(&[], Vec::as_slice)
    }

    /// Whether `parent` (none: the root element's, which has no siblings)
    /// has a child of the structure of `wanted`.
    fn has_child_like(
        &mut self,
        doc: &Document,
        parent: Option<Element>,
        (wanted_doc, wanted): (&Document, Element),
    ) -> bool {
        let shape = shape_of(&self.keys, &mut HashMap::new(), wanted_doc, wanted);
        if !self.children.contains_key(&parent) {
            let mut by_shape: HashMap<u64, Vec<Element>> = HashMap::new();
            for child in parent.map_or_else(Vec::new, |p| doc.children(p)) {
                let child_shape = shape_of(&self.keys, &mut self.of, doc, child);
                by_shape.entry(child_shape).or_default().push(child);
            }
            self.children.insert(parent, by_shape);
        }
        self.children[&parent].get(&shape).is_some_and(|alike| {
            alike
                .iter()
                .any(|&n| same_structure((doc, n), (wanted_doc, wanted)))
        })
    }
}

/// The shape of `el`: a hash of what [`same_structure`] compares, with
/// `keys`; `known` holds the shapes found so far in `doc`.
fn shape_of(
    keys: &std::collections::hash_map::RandomState,
    known: &mut HashMap<Element, u64>,
    doc: &Document,
    el: Element,
) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut pending = vec![(el, false)];
    while let Some((at, children_done)) = pending.pop() {
        if known.contains_key(&at) {
            continue;
        }
        if !children_done {
            pending.push((at, true));
            pending.extend(doc.children(at).into_iter().map(|c| (c, false)));
            continue;
        }
        let (own, children) = own(doc, at);
        let mut hasher = keys.build_hasher();
        own.hash(&mut hasher);
        for child in &children {
            known[child].hash(&mut hasher);
        }
        known.insert(at, hasher.finish());
    }
    known[&el]
}

/// Whether an element lies below one of a set of matches, each answer
/// remembered for every element walked past: each element is walked up
/// from once, however many matches lie below it (a thousand matches at the
/// bottom of a chain a thousand deep walked it a thousand times, and looked
/// each ancestor up among all the matches).
struct UnderAMatch {
    matched: HashSet<Element>,
    /// Whether an element is a match or lies below one.
    known: HashMap<Element, bool>,
}

impl UnderAMatch {
    fn new(matched: &[Element]) -> UnderAMatch {
        UnderAMatch {
            matched: matched.iter().copied().collect(),
            known: HashMap::new(),
        }
    }

    /// Whether an ancestor of `el` is a match.
    fn ancestor_matched(&mut self, doc: &Document, el: Element) -> bool {
        let mut walked = Vec::new();
        let mut at = doc.parent(el);
        let found = loop {
            let Some(ancestor) = at else {
                break false;
            };
            if let Some(&known) = self.known.get(&ancestor) {
                break known;
            }
            if self.matched.contains(&ancestor) {
                self.known.insert(ancestor, true);
                break true;
            }
            walked.push(ancestor);
            at = doc.parent(ancestor);
        };
        self.known.extend(walked.into_iter().map(|w| (w, found)));
        found
    }
}
