//! Two versions of one XML file, element by element: siblings are paired
//! by what names them (`parameter[@name='x']`, a datasource's `name`), never
//! by position, so that a setting is found again in a file whose neighbours
//! moved, and every difference comes with a path that selects it in the
//! path syntax of [`xmlsplice::Path`].
//!
//! Layout, comments, prefixes and the order of paired siblings are no
//! settings and are not compared; text is compared trimmed.

use std::collections::HashMap;
use std::rc::Rc;

use xmlsplice::{Document, Element};

use super::{Change, Place, XmlDifference};

/// Attributes that name an element wherever they stand: they are written
/// in its path even when it has no sibling of its name, so that the path
/// still selects it in a newer file that adds one.
const NAMING_ATTRIBUTES: [&str; 4] = ["name", "id", "key", "path"];

/// Attributes that tell siblings of one name apart when nothing names them.
const TELLING_ATTRIBUTES: [&str; 10] = [
    "class",
    "className",
    "type",
    "ref",
    "contentType",
    "mep",
    "url",
    "port",
    "protocol",
    "context",
];

/// Child elements whose text tells siblings apart.
const TELLING_CHILDREN: [&str; 5] = ["name", "Name", "id", "Id", "path"];

/// Elements a child's text names wherever they stand, as the name attribute
/// names the others: a datasource by its `<name>`, a registry remote
/// instance by its `<id>`.
const NAMED_BY_CHILD: [(&str, &str); 2] = [("datasource", "name"), ("remoteInstance", "id")];

/// The differences from `before` to `after`, in `after`'s document order
/// (what `before` alone holds comes after its siblings' differences).
///
/// Iterative, and linear in the files' size however deep they nest, but
/// for the paths of the differences found: the elements still to compare
/// wait on a stack, not in nested calls (a file nested 100,000 deep would
/// overflow the thread's stack); a path is written out only for a
/// difference, from the steps it shares with its parent's; elements told
/// apart by content are compared by a number worked out once each
/// ([`Forms`]); and the comments where removed elements stood are read once
/// for all of them ([`xmlsplice::CommentedChildren`]).
pub(crate) fn compare_documents(before: &Document, after: &Document) -> Vec<XmlDifference> {
    let mut aligner = Aligner {
        a: before,
        b: after,
        out: Vec::new(),
        forms: Forms::default(),
    };
    let (ra, rb) = (before.root(), after.root());
    if (before.namespace(ra), before.name(ra)) == (after.namespace(rb), after.name(rb)) {
        let root = PathNode::new(None, before.name(ra).to_string());
        aligner.run(ra, rb, root);
    } else {
        aligner.out.push(XmlDifference {
            path: "/".to_string(),
            exact: true,
            change: Change::Root {
                before: expanded(before.namespace(ra), before.name(ra)),
                after: expanded(after.namespace(rb), after.name(rb)),
            },
        });
    }
    aligner.out
}

struct Aligner<'d> {
    a: &'d Document,
    b: &'d Document,
    out: Vec<XmlDifference>,
    forms: Forms,
}

/// What is left to do, in order: compare two paired elements (and then
/// their children), or report a difference already found.
enum Task {
    Pair {
        a: Element,
        b: Element,
        path: Rc<PathNode>,
        exact: bool,
    },
    Report(XmlDifference),
}

/// A path, as its parent's and one step: nesting does not make each
/// element's path cost as much as its depth, and a path is written out
/// only for a difference. Freed once nothing left to do needs it.
struct PathNode {
    parent: Option<Rc<PathNode>>,
    step: String,
}

impl PathNode {
    fn new(parent: Option<&Rc<PathNode>>, step: String) -> Rc<PathNode> {
        Rc::new(PathNode {
            parent: parent.cloned(),
            step,
        })
    }

    /// The path `/root/.../step`.
    fn written(&self) -> String {
        let mut steps = vec![self.step.as_str()];
        let mut at = self;
        while let Some(parent) = &at.parent {
            steps.push(parent.step.as_str());
            at = parent;
        }
        let mut path = String::with_capacity(steps.iter().map(|s| s.len() + 1).sum());
        for step in steps.iter().rev() {
            path.push('/');
            path.push_str(step);
        }
        path
    }
}

impl Drop for PathNode {
    /// One after another, not nested: a path 100,000 steps long would
    /// otherwise drop its parent inside its own drop, as deep.
    fn drop(&mut self) {
        let mut parent = self.parent.take();
        while let Some(node) = parent {
            parent = match Rc::try_unwrap(node) {
                Ok(mut node) => node.parent.take(),
                Err(_) => None, // still someone's parent
            };
        }
    }
}

/// The children of one namespace and name, on each side.
struct Group<'d> {
    id: (Option<&'d str>, &'d str),
    a: Vec<Element>,
    b: Vec<Element>,
}

/// Siblings of one name paired, and those `before` alone holds.
struct Matched {
    pairs: Vec<(Element, Element)>,
    only_a: Vec<Element>,
}

/// How the siblings of one name are told apart.
#[derive(Clone, Copy)]
enum Key<'k> {
    /// The only one of its name on both sides.
    Alone,
    Attribute(&'k str),
    Child(&'k str),
    /// Nothing tells them apart: equal ones are paired, and the others
    /// are named by everything they hold.
    Content,
}

/// The sibling before one in `after`: none, one its path selects alone
/// (an element added after it is placed after it), or one no path does.
enum Before {
    Nothing,
    Selected(Rc<PathNode>),
    Unselectable,
}

/// What pairs a sibling with one on the other side: the value of its key,
/// or the id of what it holds ([`Forms`]).
#[derive(Hash, PartialEq, Eq)]
enum Told {
    Value(String),
    Form(u128),
}

impl<'d> Aligner<'d> {
    /// Compares `ra` and `rb`, whose path is `root`, and everything in them.
    fn run(&mut self, ra: Element, rb: Element, root: Rc<PathNode>) {
        let mut tasks = vec![Task::Pair {
            a: ra,
            b: rb,
            path: root,
            exact: true,
        }];
        while let Some(task) = tasks.pop() {
            match task {
                Task::Report(difference) => self.out.push(difference),
                Task::Pair { a, b, path, exact } => {
                    self.pair(a, b, &path, exact);
                    let at = tasks.len();
                    self.children(a, b, &path, exact, &mut tasks);
                    // Pushed in order, done in order.
                    tasks[at..].reverse();
                }
            }
        }
    }

    /// The differences of two paired elements' attributes and text.
    fn pair(&mut self, ea: Element, eb: Element, path: &Rc<PathNode>, exact: bool) {
        let mut found = self.attributes(ea, eb);
        let (ta, tb) = (leaf_text(self.a, ea), leaf_text(self.b, eb));
        if ta != tb && (ta.is_some() || tb.is_some()) {
            found.push(Change::Text {
                before: ta.unwrap_or_default(),
                after: tb.unwrap_or_default(),
            });
        }
        if found.is_empty() {
            return;
        }
        let path = path.written();
        self.out
            .extend(found.into_iter().map(|change| XmlDifference {
                path: path.clone(),
                exact,
                change,
            }));
    }

    fn attributes(&self, ea: Element, eb: Element) -> Vec<Change> {
        let named = |doc: &Document, el| -> Vec<(String, String)> {
            let mut all: Vec<(String, String)> = doc
                .attributes_expanded(el)
                .into_iter()
                .map(|(ns, local, value)| (expanded(ns, local), value.to_string()))
                .collect();
            all.sort();
            all
        };
        let (aa, ab) = (named(self.a, ea), named(self.b, eb));
        // Sorted by name: found by a binary search.
        let find = |all: &[(String, String)], name: &str| {
            let at = all.partition_point(|(n, _)| n.as_str() < name);
            all.get(at)
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let mut changes = Vec::new();
        for (name, value) in &ab {
            let before = find(&aa, name);
            if before.as_deref() != Some(value.as_str()) {
                changes.push(Change::Attribute {
                    name: name.clone(),
                    before,
                    after: Some(value.clone()),
                });
            }
        }
        for (name, value) in &aa {
            if find(&ab, name).is_none() {
                changes.push(Change::Attribute {
                    name: name.clone(),
                    before: Some(value.clone()),
                    after: None,
                });
            }
        }
        changes
    }

    /// Pairs the children of `ea` and `eb` and adds, in order, what is left
    /// to do about them to `tasks`: each pair to compare, each element one
    /// side alone holds to report.
    fn children(
        &mut self,
        ea: Element,
        eb: Element,
        path: &Rc<PathNode>,
        exact: bool,
        tasks: &mut Vec<Task>,
    ) {
        let (ca, cb) = (self.a.children(ea), self.b.children(eb));
        if ca.is_empty() && cb.is_empty() {
            return;
        }
        // Siblings grouped by namespace and name, in order of appearance.
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of: HashMap<(Option<&str>, &str), usize> = HashMap::new();
        for (doc, children, on_b) in [(self.b, &cb, true), (self.a, &ca, false)] {
            for &c in children {
                let id = (doc.namespace(c), doc.name(c));
                let i = *group_of.entry(id).or_insert_with(|| {
                    groups.push(Group {
                        id,
                        a: Vec::new(),
                        b: Vec::new(),
                    });
                    groups.len() - 1
                });
                if on_b {
                    groups[i].b.push(c);
                } else {
                    groups[i].a.push(c);
                }
            }
        }
        let mut local_names: HashMap<&str, usize> = HashMap::new();
        for group in &groups {
            *local_names.entry(group.id.1).or_default() += 1;
        }
        let mut paired_with: HashMap<Element, Element> = HashMap::new();
        let mut steps_b: HashMap<Element, (Rc<PathNode>, bool)> = HashMap::new();
        let mut removed = Vec::new();
        for Group {
            id: (ns, name),
            a: sa,
            b: sb,
        } in &groups
        {
            // A name another namespace also uses here is written with its
            // own. One in no namespace cannot say so: its bare name selects
            // the others too.
            let shared = local_names[name] > 1;
            let written = match ns {
                Some(uri) if shared => format!("{{{uri}}}{name}"),
                _ => name.to_string(),
            };
            let alone = ns.is_some() || !shared;
            let key = self.key(name, sa, sb);
            let Matched { pairs, only_a } = self.match_up(key, sa, sb);
            let (tests_a, tests_b) = (
                Tests::among(self.a, key, sa, &only_a),
                Tests::among(self.b, key, sb, sb),
            );
            for (x, y) in pairs {
                paired_with.insert(y, x);
            }
            for &y in sb {
                let (step, ok) = self.step(self.b, &written, key, y, &tests_b);
                steps_b.insert(y, (PathNode::new(Some(path), step), ok && alone));
            }
            for x in only_a {
                let (step, ok) = self.step(self.a, &written, key, x, &tests_a);
                removed.push((x, step, ok && alone));
            }
        }
        // In `after`'s order: what it alone holds, each placed after the
        // sibling before it, and what both hold, compared.
        let written_parent = std::cell::OnceCell::new();
        let parent = || written_parent.get_or_init(|| path.written()).clone();
        let mut before = Before::Nothing;
        for &c in &cb {
            let (child_path, ok) = steps_b.remove(&c).expect("a step for each child");
            let next = if ok {
                Before::Selected(Rc::clone(&child_path))
            } else {
                Before::Unselectable
            };
            match paired_with.get(&c) {
                Some(&x) => tasks.push(Task::Pair {
                    a: x,
                    b: c,
                    path: child_path,
                    exact: exact && ok,
                }),
                None => tasks.push(Task::Report(XmlDifference {
                    path: child_path.written(),
                    exact: exact && ok,
                    change: Change::Added {
                        markup: self.b.markup(c).to_string(),
                        parent: parent(),
                        place: match &before {
                            Before::Nothing => Place::First,
                            Before::Selected(at) => Place::After(at.written()),
                            Before::Unselectable => Place::Last,
                        },
                    },
                })),
            }
            before = next;
        }
        if removed.is_empty() {
            return;
        }
        let parent = parent();
        // Commented out where it stood, as the guides say to: among the
        // comments in `eb`, each read once for all of these.
        let mut commented = self
            .b
            .has_comment_children(eb)
            .then(|| self.b.commented_children(eb));
        for (x, step, ok) in removed {
            let commented_out = commented
                .as_mut()
                .is_some_and(|commented| commented.any(&step).unwrap_or(false));
            tasks.push(Task::Report(XmlDifference {
                path: format!("{parent}/{step}"),
                exact: exact && ok,
                change: Change::Removed {
                    markup: self.a.markup(x).to_string(),
                    commented_out,
                },
            }));
        }
    }

    /// How the siblings named `name` are told apart: the first naming
    /// attribute, telling child or telling attribute that every one of them
    /// has, on both sides, with a value no two share on one side.
    fn key(&self, name: &str, sa: &[Element], sb: &[Element]) -> Key<'static> {
        let tells = |value: &dyn Fn(&Document, Element) -> Option<String>| {
            [(self.a, sa), (self.b, sb)].iter().all(|(doc, side)| {
                let mut values = std::collections::HashSet::with_capacity(side.len());
                side.iter()
                    .all(|&el| value(doc, el).is_some_and(|v| values.insert(v)))
            })
        };
        for attribute in NAMING_ATTRIBUTES {
            if tells(&|doc, el| doc.attribute(el, attribute).map(str::to_string)) {
                return Key::Attribute(attribute);
            }
        }
        if let Some((_, child)) = NAMED_BY_CHILD.iter().find(|(n, _)| *n == name) {
            if tells(&|doc, el| child_text(doc, el, child)) {
                return Key::Child(child);
            }
        }
        if sa.len() <= 1 && sb.len() <= 1 {
            return Key::Alone;
        }
        for child in TELLING_CHILDREN {
            if tells(&|doc, el| child_text(doc, el, child)) {
                return Key::Child(child);
            }
        }
        for attribute in TELLING_ATTRIBUTES {
            if tells(&|doc, el| doc.attribute(el, attribute).map(str::to_string)) {
                return Key::Attribute(attribute);
            }
        }
        Key::Content
    }

    /// Pairs the siblings of one name: by their key's value, or alone, or
    /// (told apart by nothing) equal ones with each other.
    fn match_up(&mut self, key: Key, sa: &[Element], sb: &[Element]) -> Matched {
        let (a, b) = (self.a, self.b);
        let mut told = |side: Side, doc: &Document, el: Element| -> Told {
            match key {
                Key::Alone => Told::Value(String::new()),
                Key::Attribute(name) => {
                    Told::Value(doc.attribute(el, name).unwrap_or_default().to_string())
                }
                Key::Child(c) => Told::Value(child_text(doc, el, c).unwrap_or_default()),
                Key::Content => Told::Form(self.forms.of(side, doc, el)),
            }
        };
        // Each value's elements on `a`'s side, the first first.
        let mut left: HashMap<Told, std::collections::VecDeque<usize>> = HashMap::new();
        for (i, &x) in sa.iter().enumerate() {
            left.entry(told(Side::A, a, x)).or_default().push_back(i);
        }
        let mut taken = vec![false; sa.len()];
        let mut pairs = Vec::new();
        for &y in sb {
            if let Some(i) = left
                .get_mut(&told(Side::B, b, y))
                .and_then(|at| at.pop_front())
            {
                taken[i] = true;
                pairs.push((sa[i], y));
            }
        }
        let only_a = sa
            .iter()
            .zip(&taken)
            .filter(|(_, &taken)| !taken)
            .map(|(&x, _)| x)
            .collect();
        Matched { pairs, only_a }
    }

    /// `el`'s step in a path, and whether it selects `el` alone among
    /// `siblings` (its side's elements of its name).
    fn step(
        &self,
        doc: &Document,
        written: &str,
        key: Key,
        el: Element,
        siblings: &Tests,
    ) -> (String, bool) {
        let predicate = |test: String, value: Option<String>| match value.as_deref().map(quoted) {
            Some(Some(q)) => (format!("{written}[{test}={q}]"), true),
            _ => (written.to_string(), false),
        };
        match key {
            Key::Alone => (written.to_string(), true),
            Key::Attribute(a) => {
                predicate(format!("@{a}"), doc.attribute(el, a).map(str::to_string))
            }
            Key::Child(c) => predicate(c.to_string(), child_text(doc, el, c)),
            Key::Content => {
                let tests = siblings.of(el);
                let step = if tests.is_empty() {
                    written.to_string()
                } else {
                    format!("{written}[{}]", tests.join(" and "))
                };
                let alone = siblings.how_many(tests) == 1;
                (step, alone && !tests.is_empty())
            }
        }
    }
}

/// The content tests ([`content_tests`]) of some siblings of one name, and
/// how many of all of them each set of tests selects: worked out once per
/// name, not once per sibling (a file of thousands of such siblings).
#[derive(Default)]
struct Tests {
    of: HashMap<Element, Vec<String>>,
    count: HashMap<Vec<String>, usize>,
}

impl Tests {
    /// The tests of `wanted` among `siblings`, when `key` names them by
    /// content (none is needed otherwise).
    fn among(doc: &Document, key: Key, siblings: &[Element], wanted: &[Element]) -> Tests {
        let mut tests = Tests::default();
        if !matches!(key, Key::Content) {
            return tests;
        }
        let wanted: std::collections::HashSet<Element> = wanted.iter().copied().collect();
        for &el in siblings {
            let found = content_tests(doc, el);
            *tests.count.entry(found.clone()).or_default() += 1;
            if wanted.contains(&el) {
                tests.of.insert(el, found);
            }
        }
        tests
    }

    fn of(&self, el: Element) -> &[String] {
        self.of.get(&el).map_or(&[], Vec::as_slice)
    }

    fn how_many(&self, tests: &[String]) -> usize {
        self.count.get(tests).copied().unwrap_or(0)
    }
}

/// Tests naming an element by what it holds: each attribute's value, and
/// the text of each child that has no sibling of its name and no children.
fn content_tests(doc: &Document, el: Element) -> Vec<String> {
    let mut tests: Vec<String> = doc
        .attributes(el)
        .into_iter()
        .filter(|(name, _)| !name.contains(':'))
        .filter_map(|(name, value)| Some(format!("@{name}={}", quoted(value)?)))
        .collect();
    let children = doc.children(el);
    let mut names: HashMap<&str, usize> = HashMap::new();
    for &c in &children {
        *names.entry(doc.name(c)).or_default() += 1;
    }
    for &c in &children {
        let name = doc.name(c);
        if names[name] > 1 {
            continue;
        }
        if let Some(text) = leaf_text(doc, c) {
            if let Some(q) = quoted(&text) {
                tests.push(format!("{name}={q}"));
            }
        }
    }
    tests
}

/// `value` quoted for a path: `'v'`, or `"v"` when it holds `'`; `None`
/// when it holds both (the path syntax has no escape).
pub(crate) fn quoted(value: &str) -> Option<String> {
    if !value.contains('\'') {
        Some(format!("'{value}'"))
    } else if !value.contains('"') {
        Some(format!("\"{value}\""))
    } else {
        None
    }
}

/// An attribute's name as a path and a `[[raw]]` edit take it.
fn expanded(namespace: Option<&str>, local: &str) -> String {
    match namespace {
        Some(uri) => format!("{{{uri}}}{local}"),
        None => local.to_string(),
    }
}

/// The trimmed text of an element without children; `None` for one that
/// has children, or only blanks.
fn leaf_text(doc: &Document, el: Element) -> Option<String> {
    doc.element_text(el)
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The trimmed text of `el`'s only child named `name`, if it has one.
fn child_text(doc: &Document, el: Element, name: &str) -> Option<String> {
    let mut named = doc
        .children(el)
        .into_iter()
        .filter(|&c| doc.name(c) == name);
    match (named.next(), named.next()) {
        (Some(only), None) => leaf_text(doc, only),
        _ => None,
    }
}

/// Which document an element is in.
#[derive(Clone, Copy)]
enum Side {
    A,
    B,
}

/// What an element is, whatever its layout, comments and prefixes, as a
/// number: its names, attributes (in any order), trimmed text and its
/// children's numbers (in order), hashed twice with SipHash under one key
/// drawn at random for each run, each time after a different tag: 128 bits.
/// Two different elements get the same number by chance about once in
/// 2^128 pairs (so not before some 2^64 elements), and whoever wrote the
/// files cannot aim for it without the key. Should it happen anyway, the two
/// are paired and compared like any pair, so their differences are still
/// reported. Each element's is worked out once, from its children's,
/// without recursion: siblings told apart by content, nested in one another,
/// cost their size once, not once for each level. Only elements with
/// children are remembered (most have none, and are asked about once).
struct Forms {
    key: std::hash::RandomState,
    of: [HashMap<Element, u128>; 2],
}

impl Default for Forms {
    fn default() -> Forms {
        Forms {
            key: std::hash::RandomState::new(),
            of: Default::default(),
        }
    }
}

impl Forms {
    fn of(&mut self, side: Side, doc: &Document, el: Element) -> u128 {
        let side = side as usize;
        if let Some(&form) = self.of[side].get(&el) {
            return form;
        }
        let children = doc.children(el);
        if children.is_empty() {
            return self.number(doc, el, &[]);
        }
        // Children first: each element's children are pushed above it, and
        // its number is made once they are done.
        let mut stack = vec![(el, children)];
        while let Some((e, children)) = stack.pop() {
            let todo: Vec<Element> = children
                .iter()
                .rev()
                .filter(|&&c| doc.has_children(c) && !self.of[side].contains_key(&c))
                .copied()
                .collect();
            if !todo.is_empty() {
                stack.push((e, children));
                stack.extend(todo.into_iter().map(|c| (c, doc.children(c))));
                continue;
            }
            let parts: Vec<u128> = children
                .iter()
                .map(|&c| match self.of[side].get(&c) {
                    Some(&form) => form,
                    None => self.number(doc, c, &[]),
                })
                .collect();
            let form = self.number(doc, e, &parts);
            self.of[side].insert(e, form);
        }
        self.of[side][&el]
    }

    /// The number of `el`, whose children have the numbers `children`.
    fn number(&self, doc: &Document, el: Element, children: &[u128]) -> u128 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut attributes = doc.attributes_expanded(el);
        attributes.sort_unstable();
        let text = leaf_text(doc, el);
        let [low, high] = [0u8, 1].map(|tag| {
            let mut hasher = self.key.build_hasher();
            tag.hash(&mut hasher);
            // Each part says where it ends (a length, or 0xff after a
            // string), so different elements never write the same bytes.
            (doc.namespace(el), doc.name(el)).hash(&mut hasher);
            attributes.hash(&mut hasher);
            text.hash(&mut hasher);
            children.hash(&mut hasher);
            hasher.finish()
        });
        (u128::from(high) << 64) | u128::from(low)
    }
}
