//! A small path syntax for selecting elements, and its evaluation.
//!
//! ```text
//! clustering/parameter[@name='membershipScheme']   children, then an attribute test
//! /Server/Ports/Offset                              from the root element down
//! //dbConfig[@name='wso2registry']                  anywhere in the document
//! datasource[name='WSO2_CARBON_DB']                 a child element's text
//! beer[text()='Schlitz'], beer[.='Schlitz']         the element's own text
//! members/member[2]                                 the second match (from 1)
//! {http://wso2.org/projects/carbon/carbon.xml}Ports a namespace, written out
//! .//property[@name]                                descendants of the context
//! ```
//!
//! A child's text (`[name='…']`) and the element's own (`[text()='…']`,
//! `[.='…']`) is its text and CDATA, trimmed; an element that holds
//! elements has none, as with `Document::element_text`. Anything else in
//! brackets (a function, an operator) is an error at its column.
//!
//! Steps match elements by local name, whatever their namespace, unless the
//! namespace is written as `{uri}name`. Carbon files put carbon.xml in a
//! default namespace and nothing else. Prefixes are refused because a path
//! has no way to declare them; [`expand_prefixes`] writes a path whose
//! prefixes are bound elsewhere (as by Ansible's `namespaces`) in `{uri}`
//! form. A relative path starts at the context element (the root element
//! when selecting from a document), `/` starts above the root element, and
//! `//` means "at any depth".
//!
//! This is deliberately not XPath: no axes, functions or unions. Everything a
//! Carbon edit needs fits in these forms, and a form this small can be parsed
//! and checked completely.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::error::{Error, ErrorKind};
use crate::name::XML_NAMESPACE;
use roxmltree::Node;

/// How many parsed paths each thread remembers ([`Path::parse_remembered`]).
const PARSED_PER_THREAD: usize = 256;

/// A parsed selector path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    source: String,
    from_document: bool,
    steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    axis: Axis,
    name: NameTest,
    predicates: Vec<Predicate>,
    /// The step as written, predicates included.
    text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Axis {
    Child,
    Descendant,
    SelfNode,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NameTest {
    Any,
    Local(String),
    Qualified { namespace: String, local: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Predicate {
    Attribute {
        name: NameTest,
        value: Option<String>,
    },
    ChildText {
        name: NameTest,
        value: String,
    },
    /// The element's own text (`[text()='v']`, `[.='v']`).
    OwnText(String),
    Position(usize),
}

impl Path {
    /// Parses `source`.
    ///
    /// # Examples
    /// ```
    /// use xmlsplice::Path;
    /// assert!(Path::parse("clustering/parameter[@name='domain']").is_ok());
    /// assert!(Path::parse("a/[1]").is_err());
    /// ```
    pub fn parse(source: &str) -> Result<Path, Error> {
        Parser {
            source,
            rest: source,
        }
        .path()
    }

    /// [`Path::parse`], remembered per thread: a fleet's operations select
    /// the same few dozen paths on every node, thousands of times in all, and
    /// finding a parsed path in a map costs less than parsing it again. At
    /// most [`PARSED_PER_THREAD`] are kept; past that the thread starts again.
    pub(crate) fn parse_remembered(source: &str) -> Result<Rc<Path>, Error> {
        thread_local! {
            static PARSED: RefCell<HashMap<Box<str>, Rc<Path>>> = RefCell::default();
        }
        PARSED.with_borrow_mut(|parsed| {
            if let Some(path) = parsed.get(source) {
                return Ok(Rc::clone(path));
            }
            let path = Rc::new(Path::parse(source)?);
            if parsed.len() >= PARSED_PER_THREAD {
                parsed.clear();
            }
            parsed.insert(source.into(), Rc::clone(&path));
            Ok(path)
        })
    }

    /// The path as it was written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Its steps, in order.
    pub(crate) fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Whether it starts above the root element (`/`, `//`).
    pub(crate) fn is_from_document(&self) -> bool {
        self.from_document
    }

    /// The elements this path selects from `context`, in document order
    /// (but for a child step after contexts nested in one another: each
    /// context's children in turn), each once.
    pub(crate) fn select<'a, 'input>(&self, context: Node<'a, 'input>) -> Vec<Node<'a, 'input>> {
        let start = if self.from_document {
            context.document().root()
        } else {
            context
        };
        select_steps(&self.steps, vec![start])
    }

    /// Splits off the last step: commented-out elements are matched by it,
    /// below the elements the rest of the path selects.
    pub(crate) fn split_last(&self) -> (Path, &Step) {
        let (last, init) = self.steps.split_last().expect("a path has a step");
        let parent = Path {
            source: self.source.clone(),
            from_document: self.from_document,
            steps: init.to_vec(),
        };
        (parent, last)
    }
}

impl std::str::FromStr for Path {
    type Err = Error;
    fn from_str(s: &str) -> Result<Path, Error> {
        Path::parse(s)
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

fn select_steps<'a, 'input>(
    steps: &[Step],
    mut current: Vec<Node<'a, 'input>>,
) -> Vec<Node<'a, 'input>> {
    for step in steps {
        current = match step.axis {
            Axis::Descendant => match step.first_position() {
                None => descendants_where(current, |n| step.matches(n)),
                Some(first) => descendants_picked(step, first, current),
            },
            Axis::Child if step.has_position() => {
                // Positions count among one context's children.
                let children = |n: &Node<'a, 'input>| n.children().filter(Node::is_element);
                let each = current.iter().map(|n| step.filter(children(n).collect()));
                each.flatten().collect()
            }
            // No positions: each candidate tested as it comes, with no lists
            // (a root element may have tens of thousands of children).
            Axis::Child => current
                .iter()
                .flat_map(|n| n.children().filter(|c| c.is_element() && step.matches(*c)))
                .collect(),
            Axis::SelfNode => current
                .into_iter()
                .flat_map(|n| step.filter(vec![n]))
                .collect(),
        };
    }
    current
}

/// Where a node stands in document order, its ancestors first: roxmltree
/// numbers its nodes so (the elements an entity's value holds too, whose
/// ranges are the declaration's, not the reference's).
fn order(node: &Node) -> usize {
    node.id().get_usize()
}

/// Where the nodes below `node` end in that order: they are numbered right
/// after it.
fn subtree_end(node: &Node) -> usize {
    order(node) + node.descendants().len()
}

/// Whether `node` lies below `context`.
fn below(context: &Node, node: &Node) -> bool {
    order(node) > order(context) && order(node) < subtree_end(context)
}

/// The elements below `contexts` for which `wanted` holds, in document
/// order, each once. A context below another adds no element of its own,
/// so each is searched only when it lies past the last one searched: every
/// node is visited once, however deep the contexts nest (`//a//a` over a
/// chain of nested `a`s would otherwise collect each context's
/// descendants, the square of the depth).
fn descendants_where<'a, 'input>(
    mut contexts: Vec<Node<'a, 'input>>,
    wanted: impl Fn(Node<'a, 'input>) -> bool,
) -> Vec<Node<'a, 'input>> {
    if !contexts.is_sorted_by_key(order) {
        contexts.sort_by_key(order);
    }
    let mut found = Vec::new();
    let mut searched: Option<Node> = None;
    for node in contexts {
        if searched.is_some_and(|s| s == node || below(&s, &node)) {
            continue;
        }
        searched = Some(node);
        let descendants = node.descendants().skip(1);
        found.extend(descendants.filter(|n| n.is_element() && wanted(*n)));
    }
    found
}

/// The elements a descendant step whose predicates `first` on are
/// positional picks below each of `contexts` (positions count among one
/// context's matches), in document order, each once. What the name and the
/// predicates before the position keep is found once for all the contexts
/// ([`descendants_where`]); a context's own part of it is the run of those
/// below it, found by halving, and its position picked from that run.
fn descendants_picked<'a, 'input>(
    step: &Step,
    first: usize,
    contexts: Vec<Node<'a, 'input>>,
) -> Vec<Node<'a, 'input>> {
    let before = &step.predicates[..first];
    let kept = descendants_where(contexts.clone(), |n| {
        step.name.matches_element(n) && before.iter().all(|p| p.holds(n))
    });
    let Predicate::Position(position) = step.predicates[first] else {
        unreachable!("the first positional predicate");
    };
    let mut picked = Vec::new();
    for context in &contexts {
        let start = kept.partition_point(|n| order(n) <= order(context));
        let end = kept.partition_point(|n| order(n) < subtree_end(context));
        let own = &kept[start..end.max(start)];
        let at = own.get(position - 1).copied().into_iter().collect();
        let holds = |n: &Node, i: usize| step.predicates[i].holds(*n);
        picked.extend(step.apply_predicates_from(first + 1, at, holds));
    }
    if contexts.len() > 1 {
        picked.sort_by_key(order);
        picked.dedup_by_key(|n| n.id());
    }
    picked
}

impl Step {
    /// Whether it looks at the children of its context (`a`, not `//a` or `.`).
    pub(crate) fn is_child(&self) -> bool {
        self.axis == Axis::Child
    }

    /// The step as written.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Its name test.
    pub(crate) fn name_test(&self) -> &NameTest {
        &self.name
    }

    /// Its predicates, in order.
    pub(crate) fn predicates(&self) -> &[Predicate] {
        &self.predicates
    }

    pub(crate) fn has_position(&self) -> bool {
        self.first_position().is_some()
    }

    /// Where its first positional predicate stands among its predicates.
    fn first_position(&self) -> Option<usize> {
        self.predicates
            .iter()
            .position(|p| matches!(p, Predicate::Position(_)))
    }

    /// The name test and every predicate, for a step without positions.
    fn matches(&self, node: Node) -> bool {
        (self.axis == Axis::SelfNode || self.name.matches_element(node))
            && self.predicates.iter().all(|p| p.holds(node))
    }

    /// Whether the step can only match the node given as context (`.`).
    pub(crate) fn is_self(&self) -> bool {
        self.axis == Axis::SelfNode
    }

    /// Whether the step looks below its context at any depth (`//name`).
    pub(crate) fn is_descendant(&self) -> bool {
        self.axis == Axis::Descendant
    }

    /// What its predicates ask an element to hold, each as a [`Held`]
    /// key: an element it selects holds every one.
    pub(crate) fn wanted(&self) -> impl Iterator<Item = HeldKey<'_>> {
        self.predicates.iter().filter_map(|p| match p {
            Predicate::Attribute { name, value } => {
                Some((HeldKind::Attribute, name.local()?, value.as_deref()?))
            }
            Predicate::ChildText { name, value } => {
                Some((HeldKind::ChildText, name.local()?, value))
            }
            Predicate::OwnText(value) => Some((HeldKind::OwnText, "", value)),
            Predicate::Position(_) => None,
        })
    }

    /// [`Step::evaluate_one`], on what an element holds, read out of it.
    pub(crate) fn evaluate_held(&self, held: &Held) -> Verdict {
        let (local, namespace) = &held.name;
        Verdict {
            name: self.name.matches(local, namespace.as_deref()),
            holds: self
                .predicates
                .iter()
                .map(|p| matches!(p, Predicate::Position(_)) || p.holds_in(held))
                .collect(),
        }
    }

    /// The local name this step needs, if it names one.
    pub(crate) fn local_name(&self) -> Option<&str> {
        self.name.local()
    }

    /// Keeps the candidates (children of one context) that pass this step's
    /// name test and predicates; positions count within `candidates`.
    pub(crate) fn filter<'a, 'input>(
        &self,
        candidates: Vec<Node<'a, 'input>>,
    ) -> Vec<Node<'a, 'input>> {
        let named = candidates
            .into_iter()
            .filter(|n| self.axis == Axis::SelfNode || self.name.matches_element(*n))
            .collect();
        self.apply_predicates(named, |n, i| self.predicates[i].holds(*n))
    }

    /// The name test and every non-positional predicate, evaluated on one
    /// element, for elements that do not outlive their parse (commented-out
    /// ones): [`Step::apply_verdicts`] then filters a list by them.
    pub(crate) fn evaluate_one(&self, node: Node) -> Verdict {
        Verdict {
            name: self.name.matches_element(node),
            holds: self
                .predicates
                .iter()
                .map(|p| matches!(p, Predicate::Position(_)) || p.holds(node))
                .collect(),
        }
    }

    /// Filters `items` as [`Step::filter`] would, by verdicts computed earlier.
    pub(crate) fn apply_verdicts<T>(
        &self,
        items: Vec<T>,
        verdict: impl Fn(&T) -> &Verdict,
    ) -> Vec<T> {
        let named = items.into_iter().filter(|t| verdict(t).name).collect();
        self.apply_predicates(named, |t, i| verdict(t).holds[i])
    }

    /// Applies the predicates in order: a position picks from what the
    /// predicates before it kept, as in XPath.
    fn apply_predicates<T>(&self, kept: Vec<T>, holds: impl Fn(&T, usize) -> bool) -> Vec<T> {
        self.apply_predicates_from(0, kept, holds)
    }

    /// Applies the predicates from the `first` on, in order, to what the
    /// ones before it kept.
    fn apply_predicates_from<T>(
        &self,
        first: usize,
        mut kept: Vec<T>,
        holds: impl Fn(&T, usize) -> bool,
    ) -> Vec<T> {
        for (i, predicate) in self.predicates.iter().enumerate().skip(first) {
            kept = match predicate {
                Predicate::Position(p) => kept.into_iter().nth(p - 1).into_iter().collect(),
                _ => kept.into_iter().filter(|t| holds(t, i)).collect(),
            };
        }
        kept
    }
}

/// What [`Step::evaluate_one`] found for one element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    name: bool,
    holds: Vec<bool>,
}

/// What the predicates of a step look at in an element, read out of it
/// once: its name, its attributes, its children's names and, of those
/// without children, their trimmed text, and its own trimmed text when it
/// has no children. [`Step::evaluate_held`] on it gives what
/// [`Step::evaluate_one`] gives on the element.
#[derive(Debug)]
pub(crate) struct Held {
    name: (String, Option<String>),
    attributes: Vec<(String, Option<String>, String)>,
    children: Vec<(String, Option<String>, Option<String>)>,
    text: Option<String>,
}

/// What a predicate asks for: an attribute's value, a child's text (by
/// local name), or the element's own text (no name).
pub(crate) type HeldKey<'a> = (HeldKind, &'a str, &'a str);

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(crate) enum HeldKind {
    Attribute,
    ChildText,
    OwnText,
}

impl Held {
    pub(crate) fn of(node: Node) -> Held {
        let named = |n: Node| {
            (
                n.tag_name().name().to_string(),
                n.tag_name().namespace().map(str::to_string),
            )
        };
        let childless = |n: Node| !n.children().any(|c| c.is_element());
        let text = |n: Node| childless(n).then(|| text_content(n).trim().to_string());
        Held {
            name: named(node),
            attributes: node
                .attributes()
                .map(|a| {
                    (
                        a.name().to_string(),
                        a.namespace().map(str::to_string),
                        a.value().to_string(),
                    )
                })
                .collect(),
            children: node
                .children()
                .filter(Node::is_element)
                .map(|c| {
                    let (local, namespace) = named(c);
                    (local, namespace, text(c))
                })
                .collect(),
            text: text(node),
        }
    }

    /// Every key ([`HeldKey`]) it holds, owned.
    pub(crate) fn keys(&self) -> Vec<(HeldKind, String, String)> {
        let attributes = self
            .attributes
            .iter()
            .map(|(local, _, value)| (HeldKind::Attribute, local.clone(), value.clone()));
        let children = self.children.iter().filter_map(|(local, _, text)| {
            Some((HeldKind::ChildText, local.clone(), text.clone()?))
        });
        let own = self
            .text
            .iter()
            .map(|text| (HeldKind::OwnText, String::new(), text.clone()));
        attributes.chain(children).chain(own).collect()
    }
}

impl NameTest {
    /// The local name it asks for; `None` for any.
    fn local(&self) -> Option<&str> {
        match self {
            NameTest::Any => None,
            NameTest::Local(local) | NameTest::Qualified { local, .. } => Some(local),
        }
    }

    fn matches(&self, local: &str, namespace: Option<&str>) -> bool {
        match self {
            NameTest::Any => true,
            NameTest::Local(name) => name == local,
            NameTest::Qualified {
                namespace: ns,
                local: name,
            } => name == local && Some(ns.as_str()) == namespace,
        }
    }

    fn matches_element(&self, node: Node) -> bool {
        let tag = node.tag_name();
        self.matches(tag.name(), tag.namespace())
    }
}

impl Predicate {
    fn holds(&self, node: Node) -> bool {
        match self {
            Predicate::Attribute { name, value } => node.attributes().any(|a| {
                name.matches(a.name(), a.namespace())
                    && value.as_deref().is_none_or(|v| a.value() == v)
            }),
            Predicate::ChildText { name, value } => node
                .children()
                .filter(|c| c.is_element() && name.matches_element(*c))
                .any(|c| !c.children().any(|g| g.is_element()) && text_content(c).trim() == value),
            Predicate::OwnText(value) => {
                !node.children().any(|c| c.is_element()) && text_content(node).trim() == value
            }
            Predicate::Position(_) => unreachable!("positions are applied to the list"),
        }
    }

    /// [`Predicate::holds`], on what an element holds (kept beside it: the
    /// two must say the same).
    fn holds_in(&self, held: &Held) -> bool {
        match self {
            Predicate::Attribute { name, value } => {
                held.attributes.iter().any(|(local, namespace, v)| {
                    name.matches(local, namespace.as_deref())
                        && value.as_deref().is_none_or(|value| v == value)
                })
            }
            Predicate::ChildText { name, value } => {
                held.children.iter().any(|(local, namespace, text)| {
                    name.matches(local, namespace.as_deref()) && text.as_deref() == Some(value)
                })
            }
            Predicate::OwnText(value) => held.text.as_deref() == Some(value),
            Predicate::Position(_) => unreachable!("positions are applied to the list"),
        }
    }
}

/// All text directly inside `node` (text and CDATA children), concatenated.
/// Only for an element without element children: beside an element, the
/// parser was not given blank text (elide.rs), so it is not here.
pub(crate) fn text_content(node: Node) -> String {
    node.children()
        .filter(Node::is_text)
        .filter_map(|c| c.text())
        .collect()
}

struct Parser<'s> {
    source: &'s str,
    rest: &'s str,
}

impl Parser<'_> {
    /// An error at the place the parser has reached.
    fn error(&self, reason: impl Into<String>) -> Error {
        let at = self.source.len() - self.rest.len();
        Error::new(ErrorKind::InvalidPath {
            path: self.source.to_string(),
            reason: reason.into(),
            column: Some(self.source[..at].chars().count() + 1),
        })
    }

    fn eat(&mut self, token: &str) -> bool {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn path(mut self) -> Result<Path, Error> {
        if self.source.trim().is_empty() {
            return Err(self.error("it is empty"));
        }
        let mut steps = Vec::new();
        let from_document;
        let mut axis = if self.eat("//") {
            from_document = true;
            Axis::Descendant
        } else if self.eat("/") {
            from_document = true;
            Axis::Child
        } else {
            from_document = false;
            Axis::Child
        };
        loop {
            let first = steps.is_empty() && !from_document;
            steps.push(self.step(axis, first)?);
            if self.rest.is_empty() {
                break;
            }
            axis = if self.eat("//") {
                Axis::Descendant
            } else if self.eat("/") {
                Axis::Child
            } else {
                return Err(self.error(format!("unexpected {:?}", first_char(self.rest))));
            };
        }
        Ok(Path {
            source: self.source.to_string(),
            from_document,
            steps,
        })
    }

    fn step(&mut self, axis: Axis, first: bool) -> Result<Step, Error> {
        let start = self.source.len() - self.rest.len();
        let (axis, name) = if self.eat(".") {
            if !first {
                return Err(self.error("'.' can only start a path"));
            }
            (Axis::SelfNode, NameTest::Any)
        } else {
            (axis, self.name_test("an element name")?)
        };
        let mut predicates = Vec::new();
        while self.eat("[") {
            self.skip_space();
            predicates.push(self.predicate()?);
            self.skip_space();
            // `[a and b]` is `[a][b]`.
            while self.eat("and ") {
                self.skip_space();
                let is_position = |p: &Predicate| matches!(p, Predicate::Position(_));
                if predicates.last().is_some_and(is_position) {
                    return Err(self.error("a position cannot be joined with 'and'"));
                }
                let next = self.predicate()?;
                if is_position(&next) {
                    return Err(self.error("a position cannot be joined with 'and'"));
                }
                predicates.push(next);
                self.skip_space();
            }
            if !self.eat("]") {
                return Err(self.error("a predicate must end with ']'"));
            }
        }
        let end = self.source.len() - self.rest.len();
        Ok(Step {
            axis,
            name,
            predicates,
            text: self.source[start..end].to_string(),
        })
    }

    fn name_test(&mut self, what: &str) -> Result<NameTest, Error> {
        if self.eat("*") {
            return Ok(NameTest::Any);
        }
        let namespace = if self.eat("{") {
            let close = self
                .rest
                .find('}')
                .ok_or_else(|| self.error("'{' without a closing '}'"))?;
            let ns = self.rest[..close].to_string();
            self.rest = &self.rest[close + 1..];
            Some(ns)
        } else {
            None
        };
        let len = self
            .rest
            .find(|c: char| "/[]@='\"{}".contains(c) || c.is_whitespace())
            .unwrap_or(self.rest.len());
        let local = &self.rest[..len];
        if local.is_empty() {
            return Err(match self.rest.chars().next() {
                Some(c) => self.error(format!("expected {what} before {c:?}")),
                None => self.error(format!("expected {what} at the end")),
            });
        }
        if local.contains('(') {
            return Err(self.error(format!(
                "{local:?}: functions are not part of the path syntax; [text()='value'] and \
                 [.='value'] test an element's own text"
            )));
        }
        if local.contains(':') {
            return Err(self.error(format!(
                "{local:?} has a prefix; write the local name alone, or {{namespace-uri}}name"
            )));
        }
        if let Some(reason) = crate::name::ncname_problem(local, "name") {
            return Err(self.error(format!("{local:?} is not an XML name: {reason}")));
        }
        self.rest = &self.rest[len..];
        Ok(match namespace {
            Some(namespace) => NameTest::Qualified {
                namespace,
                local: local.to_string(),
            },
            None => NameTest::Local(local.to_string()),
        })
    }

    fn predicate(&mut self) -> Result<Predicate, Error> {
        let digits = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let n: usize = self.rest[..digits]
                .parse()
                .map_err(|_| self.error("position is too large"))?;
            if n == 0 {
                return Err(self.error("positions count from 1"));
            }
            self.rest = &self.rest[digits..];
            return Ok(Predicate::Position(n));
        }
        // The element's own text: `text()` or `.`, then its value.
        if self.eat("text()") || (self.rest.starts_with('.') && self.eat(".")) {
            self.skip_space();
            if !self.eat("=") {
                return Err(
                    self.error("a text test needs a value: [text()='value'] or [.='value']")
                );
            }
            self.skip_space();
            return Ok(Predicate::OwnText(self.literal()?));
        }
        let is_attribute = self.eat("@");
        let name = self.name_test(if is_attribute {
            "an attribute name"
        } else {
            "a child element name, an @attribute or a position"
        })?;
        let declaration = match &name {
            NameTest::Local(local) => local == "xmlns",
            NameTest::Qualified { namespace, .. } => namespace == crate::name::XMLNS_NAMESPACE,
            NameTest::Any => false,
        };
        if is_attribute && declaration {
            return Err(self.error(
                "a namespace declaration is not an attribute: select by the element's \
                 namespace ({uri}name)",
            ));
        }
        // `[child/text()='v']` is `[child='v']`.
        if !is_attribute {
            self.eat("/text()");
        }
        self.skip_space();
        let value = if self.eat("=") {
            self.skip_space();
            Some(self.literal()?)
        } else {
            None
        };
        match (is_attribute, value) {
            (true, value) => Ok(Predicate::Attribute { name, value }),
            (false, Some(value)) => Ok(Predicate::ChildText { name, value }),
            (false, None) => Err(self.error("a child test needs a value: [name='value']")),
        }
    }

    fn literal(&mut self) -> Result<String, Error> {
        let quote = match self.rest.chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err(self.error("a value must be quoted with ' or \"")),
        };
        let body = &self.rest[1..];
        let close = body
            .find(quote)
            .ok_or_else(|| self.error("a quoted value is not closed"))?;
        let value = body[..close].to_string();
        self.rest = &body[close + 1..];
        Ok(value)
    }
}

fn first_char(s: &str) -> char {
    s.chars().next().unwrap_or(' ')
}

/// `path` with every prefixed name (`bus:business`, `@attr:subjective`)
/// written by its namespace instead (`{http://test.business}business`), the
/// prefixes bound by `namespaces` (prefix, URI), as Ansible's xml module and
/// XPath tools take them beside a path. Quoted values and names already in
/// `{uri}` form are left as they are.
///
/// # Errors
/// A prefix `namespaces` does not bind, at its column.
///
/// # Examples
/// ```
/// let path = xmlsplice::expand_prefixes(
///     "/bus:business/beer[@ber:kind='ale']",
///     &[("bus", "urn:b"), ("ber", "urn:r")],
/// )?;
/// assert_eq!(path, "/{urn:b}business/beer[@{urn:r}kind='ale']");
/// # Ok::<(), xmlsplice::Error>(())
/// ```
pub fn expand_prefixes(path: &str, namespaces: &[(&str, &str)]) -> Result<String, Error> {
    expand_mapped(path, namespaces).map(|(expanded, _)| expanded)
}

/// An error about the expanded form of `written` ([`expand_prefixes`]),
/// said of `written`: the path as written, and the column there.
///
/// # Examples
/// ```
/// use xmlsplice::{expand_prefixes, error_as_written, Path};
/// let ns = [("bus", "http://test.business")];
/// let written = "/bus:business/bus:beers[@a=1]";
/// let error = Path::parse(&expand_prefixes(written, &ns)?).unwrap_err();
/// let said = error_as_written(error, written, &ns);
/// assert_eq!(
///     said.to_string(),
///     "invalid path \"/bus:business/bus:beers[@a=1]\" at column 28: a value must be quoted with ' or \""
/// );
/// # Ok::<(), xmlsplice::Error>(())
/// ```
pub fn error_as_written(error: Error, written: &str, namespaces: &[(&str, &str)]) -> Error {
    let ErrorKind::InvalidPath {
        path,
        reason,
        column,
    } = error.kind()
    else {
        return error;
    };
    let Ok((expanded, from)) = expand_mapped(written, namespaces) else {
        return error;
    };
    if *path != expanded {
        return error;
    }
    Error::new(ErrorKind::InvalidPath {
        path: written.to_string(),
        reason: reason.clone(),
        column: column.map(|c| {
            from.get(c - 1)
                .map_or(written.chars().count() + 1, |o| o + 1)
        }),
    })
}

/// [`expand_prefixes`], with the column (from 0) of `path` each character
/// of the result came from.
fn expand_mapped(path: &str, namespaces: &[(&str, &str)]) -> Result<(String, Vec<usize>), Error> {
    let is_name_char = |c: char| c.is_alphanumeric() || "_-.:".contains(c) || !c.is_ascii();
    let mut out = String::with_capacity(path.len());
    let mut from = Vec::with_capacity(path.len());
    let mut rest = path;
    // The column `rest` starts at, kept as it moves (counting from the
    // start each time would make a long path cost its length squared).
    let mut column = 0;
    let copy = |out: &mut String, from: &mut Vec<usize>, text: &str, at: usize| {
        out.push_str(text);
        from.extend((at..).take(text.chars().count()));
    };
    while let Some(c) = rest.chars().next() {
        // A quoted value or a `{uri}` is copied whole (an unclosed one is the parser's to report).
        let closing = match c {
            '\'' | '"' => Some(c),
            '{' => Some('}'),
            _ => None,
        };
        if let Some(close) = closing {
            let len = rest[1..].find(close).map_or(rest.len(), |at| at + 2);
            copy(&mut out, &mut from, &rest[..len], column);
            column += rest[..len].chars().count();
            rest = &rest[len..];
            continue;
        }
        let len = rest
            .find(|c| !is_name_char(c))
            .unwrap_or(rest.len())
            .max(c.len_utf8());
        let token = &rest[..len];
        match token.split_once(':') {
            Some((prefix, local)) if !prefix.is_empty() => {
                let at = column;
                let fail = |reason: String, column: Option<usize>| {
                    Error::new(ErrorKind::InvalidPath {
                        path: path.to_string(),
                        reason,
                        column,
                    })
                };
                let bound = namespaces
                    .iter()
                    .find(|(p, _)| *p == prefix)
                    .map(|(_, uri)| *uri);
                let uri = match (prefix, bound) {
                    ("xmlns", _) => {
                        return Err(fail(
                            "xmlns: a namespace declaration is neither an element nor an \
                             attribute; name what it declares by its URI"
                                .into(),
                            Some(at + 1),
                        ))
                    }
                    (_, Some(uri)) => uri,
                    ("xml", None) => XML_NAMESPACE,
                    (_, None) => {
                        return Err(fail(
                            format!("the prefix {prefix:?} is not bound to a namespace"),
                            Some(at + 1),
                        ))
                    }
                };
                if uri.is_empty() || uri.contains(['{', '}']) {
                    return Err(fail(
                        format!("{prefix:?} is bound to {uri:?}, which is no namespace URI"),
                        None,
                    ));
                }
                let qualified = format!("{{{uri}}}");
                from.extend(std::iter::repeat_n(at, qualified.chars().count()));
                out.push_str(&qualified);
                copy(&mut out, &mut from, local, at + prefix.chars().count() + 1);
            }
            _ => copy(&mut out, &mut from, token, column),
        }
        column += token.chars().count();
        rest = &rest[len..];
    }
    Ok((out, from))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<root xmlns:x="urn:x">
  <a id="1"><b>one</b></a>
  <a id="2"><b>two</b><c><b>deep</b></c></a>
  <x:a id="3"/>
  <d><name> padded </name></d>
  <e><name>mixed<i/></name></e>
</root>"#;

    fn texts(path: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(DOC).unwrap();
        let path = Path::parse(path).unwrap();
        path.select(doc.root_element())
            .into_iter()
            .map(|n| {
                n.attribute("id")
                    .map(str::to_string)
                    .unwrap_or_else(|| text_content(n))
            })
            .collect()
    }

    #[test]
    fn child_steps_match_local_names_in_any_namespace() {
        assert_eq!(texts("a"), ["1", "2", "3"]);
        assert_eq!(texts("{urn:x}a"), ["3"]);
        assert_eq!(texts("a/b"), ["one", "two"]);
        assert_eq!(texts("*/b"), ["one", "two"]);
    }

    #[test]
    fn predicates_filter_in_order() {
        assert_eq!(texts("a[@id='2']/b"), ["two"]);
        assert_eq!(texts("a[@id]"), ["1", "2", "3"]);
        assert_eq!(texts("a[2]"), ["2"]);
        assert_eq!(texts("a[@id='2'][1]"), ["2"]);
        assert_eq!(texts("a[b='one']"), ["1"]);
        assert_eq!(texts("d[name='padded']/name"), [" padded "]);
        // A child holding elements has no text to match.
        assert!(texts("e[name='mixed']").is_empty());
        assert_eq!(texts("a[9]"), Vec::<String>::new());
    }

    #[test]
    fn own_text_is_tested_by_text_or_dot() {
        assert_eq!(texts("a/b[text()='two']"), ["two"]);
        assert_eq!(texts("a/b[.='one']"), ["one"]);
        assert_eq!(
            texts("d/name[.='padded']"),
            [" padded "],
            "trimmed, as child text"
        );
        assert_eq!(texts("//b[ . = 'deep' ]"), ["deep"]);
        // XPath's other spellings of the same tests.
        assert_eq!(texts("a[b/text()='two']"), ["2"]);
        assert_eq!(texts("a[@id='2' and b='two']"), ["2"]);
        assert!(texts("a[@id='1' and b='two']").is_empty());
        // An element that holds elements has no text of its own to match.
        assert!(texts("a[.='one']").is_empty());
        assert!(texts("e/name[text()='mixed']").is_empty());
    }

    #[test]
    fn an_error_says_its_column() {
        let column = |p: &str| match Path::parse(p).unwrap_err().kind() {
            ErrorKind::InvalidPath { column, .. } => *column,
            other => panic!("{other:?}"),
        };
        assert_eq!(column("beer[normalize-space()='x']"), Some(6));
        assert_eq!(column("beer[text()]"), Some(12));
        assert_eq!(column("a/b[@x:y='1']"), Some(6));
        let shown = Path::parse("beer[contains(., 'x')]")
            .unwrap_err()
            .to_string();
        assert!(
            shown.starts_with("invalid path \"beer[contains(., 'x')]\" at column 6: "),
            "{shown}"
        );
        assert!(
            shown.contains("functions are not part of the path syntax"),
            "{shown}"
        );
    }

    #[test]
    fn descendants_and_absolute_paths() {
        assert_eq!(texts("//b"), ["one", "two", "deep"]);
        assert_eq!(texts("a//b"), ["one", "two", "deep"]);
        assert_eq!(texts("/root/a[1]"), ["1"]);
        assert_eq!(texts("/a"), Vec::<String>::new());
        assert_eq!(texts(".//c/b"), ["deep"]);
        assert_eq!(texts("//a//b"), ["one", "two", "deep"]);
    }

    fn ids(text: &str, path: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(text).unwrap();
        let path = Path::parse(path).unwrap();
        let selected = path.select(doc.root_element());
        selected
            .iter()
            .map(|n| n.attribute("id").unwrap_or("?").to_string())
            .collect()
    }

    /// Contexts nested in one another, or out of document order (the
    /// children of nested contexts), reach each descendant once, in order.
    #[test]
    fn nested_contexts_reach_each_descendant_once_in_order() {
        let text = r#"<r><a id="1"><a id="2"><c id="c2"><b id="p"/></c><b id="x"/></a><c id="c1"><b id="q"/></c><b id="y"/></a><d><a id="3"><b id="z"/></a></d></r>"#;
        assert_eq!(ids(text, "//a//b"), ["p", "x", "q", "y", "z"]);
        assert_eq!(
            ids(text, "//a/c"),
            ["c1", "c2"],
            "each context's children in turn"
        );
        assert_eq!(ids(text, "//a/c//b"), ["p", "q"]);
        assert_eq!(ids(text, "//a//a"), ["2"]);
        // Positions count in each context; a node two contexts find is
        // selected once.
        assert_eq!(ids(text, "//a//b[1]"), ["p", "z"]);
        assert_eq!(ids(text, "//a//b[2]"), ["x"]);
    }

    /// A chain of nested elements 20,000 deep: each descendant step visits
    /// each element once (collecting each context's descendants held the
    /// square of the depth, gigabytes), with positions too.
    #[test]
    fn descendant_steps_over_a_deep_chain_are_linear() {
        let depth = 20_000;
        let text = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let doc = roxmltree::Document::parse(&text).unwrap();
        for (path, selected) in [
            ("//a//a//a", depth - 2),
            ("//a//a[1]", depth - 1),
            ("//a//a[2]//a[1]", depth - 3),
            ("//a//b[1]", 0),
        ] {
            let found = Path::parse(path).unwrap().select(doc.root_element());
            assert_eq!(found.len(), selected, "{path}");
            let ordered = found
                .windows(2)
                .all(|w| w[0].range().start < w[1].range().start);
            assert!(ordered, "{path}");
        }
    }

    #[test]
    fn bad_paths_say_what_is_wrong() {
        let reason = |p: &str| match Path::parse(p).unwrap_err().kind() {
            ErrorKind::InvalidPath { reason, .. } => reason.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(""), "it is empty");
        assert_eq!(reason("a/"), "expected an element name at the end");
        assert_eq!(reason("a[@id='1'"), "a predicate must end with ']'");
        assert_eq!(reason("a[0]"), "positions count from 1");
        assert_eq!(reason("a[@id=1]"), "a value must be quoted with ' or \"");
        assert_eq!(reason("a[b]"), "a child test needs a value: [name='value']");
        assert!(reason("svns:secretAlias").contains("has a prefix"));
        assert_eq!(reason("a/./b"), "'.' can only start a path");
        // A position is one predicate of its own, on either side of `and`.
        for joined in ["beer[2 and .='x']", "beer[text()='Schlitz' and 2]"] {
            assert_eq!(reason(joined), "a position cannot be joined with 'and'");
        }
    }

    #[test]
    fn prefixes_are_written_by_their_namespace() {
        let ns = [("bus", "http://test.business"), ("a", "urn:a")];
        let expanded = |p: &str| expand_prefixes(p, &ns);
        assert_eq!(
            expanded("/bus:business/rating[@a:subjective='a:b'][bus:x=\"c:d\"]").unwrap(),
            "/{http://test.business}business/rating[@{urn:a}subjective='a:b']\
             [{http://test.business}x=\"c:d\"]"
        );
        // What has no prefix, or is already by namespace, is as written.
        for same in [
            "//beer[text()='x' and .='y']",
            "{urn:x:y}a/b[2]",
            "./a.b-c_d",
        ] {
            assert_eq!(expanded(same).unwrap(), same);
        }
        assert!(expanded("ünï:x")
            .unwrap_err()
            .to_string()
            .contains("\"ünï\""));
        let unbound = expanded("/bus:business/ber:beers").unwrap_err();
        assert!(
            matches!(
                unbound.kind(),
                ErrorKind::InvalidPath { column: Some(15), reason, .. }
                    if reason == "the prefix \"ber\" is not bound to a namespace"
            ),
            "{unbound}"
        );
        assert!(expand_prefixes("a:b", &[("a", "")]).is_err());
        assert!(expand_prefixes("a:b", &[("a", "urn:}")]).is_err());
        // `xml` is bound in every document; `xmlns` names no element or attribute.
        assert_eq!(
            expanded("a/@xml:lang").unwrap(),
            "a/@{http://www.w3.org/XML/1998/namespace}lang"
        );
        assert!(expanded("a[@xmlns:bus='x']")
            .unwrap_err()
            .to_string()
            .contains("a namespace declaration"));
        assert!(Path::parse("a[@xmlns='urn:a']")
            .unwrap_err()
            .to_string()
            .contains("a namespace declaration is not an attribute"));
    }

    #[test]
    fn errors_about_an_expanded_path_are_said_of_the_path_as_written() {
        let ns = [("bus", "http://test.business")];
        for (written, column) in [
            ("/bus:business/bus:beers[@a=1]", 28),
            ("/bus:business/bus:beer[text()!='x']", 30),
            ("/bus:business/bus:", 19),
        ] {
            let expanded = expand_prefixes(written, &ns).unwrap();
            let error = error_as_written(Path::parse(&expanded).unwrap_err(), written, &ns);
            match error.kind() {
                ErrorKind::InvalidPath {
                    path, column: at, ..
                } => {
                    assert_eq!(path, written);
                    assert_eq!(*at, Some(column), "{written}: {error}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_remembered_path_is_the_parsed_one_and_errors_are_not_kept() {
        for _ in 0..2 {
            let path = Path::parse_remembered("a/b[@n='1']").unwrap();
            assert_eq!(*path, Path::parse("a/b[@n='1']").unwrap());
            assert!(Path::parse_remembered("a/[1]").is_err());
        }
        // Past the bound the thread starts again, and still answers.
        for i in 0..PARSED_PER_THREAD + 10 {
            let source = format!("e{i}");
            assert_eq!(Path::parse_remembered(&source).unwrap().as_str(), source);
        }
    }
}
