//! Two versions of one XML file, element by element: siblings are paired
//! by what names them (`parameter[@name='x']`, a datasource's `name`), never
//! by position, so that a setting is found again in a file whose neighbours
//! moved, and every difference comes with a path that selects it in the
//! path syntax of [`xmlsplice::Path`].
//!
//! Layout, comments, prefixes and the order of paired siblings are no
//! settings and are not compared; text is compared trimmed.

use std::collections::HashMap;

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
pub(crate) fn compare_documents(before: &Document, after: &Document) -> Vec<XmlDifference> {
    let mut aligner = Aligner {
        a: before,
        b: after,
        out: Vec::new(),
    };
    let (ra, rb) = (before.root(), after.root());
    if (before.namespace(ra), before.name(ra)) == (after.namespace(rb), after.name(rb)) {
        aligner.pair(ra, rb, &format!("/{}", before.name(ra)), true);
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
}

/// The children of one namespace and name, on each side.
struct Group<'d> {
    id: (Option<&'d str>, &'d str),
    a: Vec<Element>,
    b: Vec<Element>,
}

/// Siblings of one name paired, and those of one side only.
struct Matched {
    pairs: Vec<(Element, Element)>,
    only_a: Vec<Element>,
    only_b: Vec<Element>,
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

impl<'d> Aligner<'d> {
    fn pair(&mut self, ea: Element, eb: Element, path: &str, exact: bool) {
        self.attributes(ea, eb, path, exact);
        let (ta, tb) = (leaf_text(self.a, ea), leaf_text(self.b, eb));
        if ta != tb && (ta.is_some() || tb.is_some()) {
            self.out.push(XmlDifference {
                path: path.to_string(),
                exact,
                change: Change::Text {
                    before: ta.unwrap_or_default(),
                    after: tb.unwrap_or_default(),
                },
            });
        }
        self.children(ea, eb, path, exact);
    }

    fn attributes(&mut self, ea: Element, eb: Element, path: &str, exact: bool) {
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
        for (name, value) in &ab {
            let before = find(&aa, name);
            if before.as_deref() != Some(value.as_str()) {
                self.out.push(XmlDifference {
                    path: path.to_string(),
                    exact,
                    change: Change::Attribute {
                        name: name.clone(),
                        before,
                        after: Some(value.clone()),
                    },
                });
            }
        }
        for (name, value) in &aa {
            if find(&ab, name).is_none() {
                self.out.push(XmlDifference {
                    path: path.to_string(),
                    exact,
                    change: Change::Attribute {
                        name: name.clone(),
                        before: Some(value.clone()),
                        after: None,
                    },
                });
            }
        }
    }

    fn children(&mut self, ea: Element, eb: Element, path: &str, exact: bool) {
        let (ca, cb) = (self.a.children(ea), self.b.children(eb));
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
        let mut paired = Vec::new();
        let mut steps_b: HashMap<Element, (String, bool)> = HashMap::new();
        let mut removed = Vec::new();
        for Group {
            id: (ns, name),
            a: sa,
            b: sb,
        } in &groups
        {
            // A name another namespace also uses here is written with its own.
            let written = match ns {
                Some(uri) if local_names[name] > 1 => {
                    format!("{{{uri}}}{name}")
                }
                _ => name.to_string(),
            };
            let key = self.key(name, sa, sb);
            let Matched {
                pairs,
                only_a,
                only_b,
            } = self.match_up(key, sa, sb);
            let (tests_a, tests_b) = (
                Tests::among(self.a, key, sa, &only_a),
                Tests::among(self.b, key, sb, sb),
            );
            for (x, y) in pairs {
                let (step, ok) = self.step(self.b, &written, key, y, &tests_b);
                steps_b.insert(y, (step.clone(), ok));
                paired.push((x, y, step, ok));
            }
            for y in only_b {
                steps_b.insert(y, self.step(self.b, &written, key, y, &tests_b));
            }
            for x in only_a {
                let (step, ok) = self.step(self.a, &written, key, x, &tests_a);
                removed.push((x, step, ok));
            }
        }
        // In `after`'s order: what it alone holds, each placed after the
        // sibling before it, and what both hold, compared.
        let mut place = Place::First;
        let paired_at: HashMap<Element, usize> =
            paired.iter().enumerate().map(|(i, p)| (p.1, i)).collect();
        for &c in &cb {
            let (step, ok) = &steps_b[&c];
            let child_path = format!("{path}/{step}");
            match paired_at.get(&c) {
                Some(&i) => {
                    let (x, y, _, ok) = paired[i];
                    self.pair(x, y, &child_path, exact && ok);
                }
                None => self.out.push(XmlDifference {
                    path: child_path.clone(),
                    exact: exact && *ok,
                    change: Change::Added {
                        markup: self.b.markup(c).to_string(),
                        parent: path.to_string(),
                        place: place.clone(),
                    },
                }),
            }
            place = if *ok {
                Place::After(child_path)
            } else {
                Place::Last
            };
        }
        // The path selects `eb` alone: without a comment in it, none of
        // these is commented out there (and thousands need no search each).
        let no_comments = exact && !self.b.has_comment_children(eb);
        for (x, step, ok) in removed {
            let removed_path = format!("{path}/{step}");
            // Commented out where it stood, as the guides say to.
            let commented_out = !no_comments
                && self
                    .b
                    .select_commented(removed_path.as_str())
                    .is_ok_and(|found| !found.is_empty());
            self.out.push(XmlDifference {
                path: removed_path,
                exact: exact && ok,
                change: Change::Removed {
                    markup: self.a.markup(x).to_string(),
                    commented_out,
                },
            });
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
    fn match_up(&self, key: Key, sa: &[Element], sb: &[Element]) -> Matched {
        let value = |doc: &Document, el: Element| -> String {
            match key {
                Key::Alone => String::new(),
                Key::Attribute(a) => doc.attribute(el, a).unwrap_or_default().to_string(),
                Key::Child(c) => child_text(doc, el, c).unwrap_or_default(),
                Key::Content => canonical(doc, el),
            }
        };
        // Each value's elements on `a`'s side, the first first.
        let mut left: HashMap<String, std::collections::VecDeque<usize>> = HashMap::new();
        for (i, &x) in sa.iter().enumerate() {
            left.entry(value(self.a, x)).or_default().push_back(i);
        }
        let mut taken = vec![false; sa.len()];
        let mut pairs = Vec::new();
        let mut only_b = Vec::new();
        for &y in sb {
            match left
                .get_mut(&value(self.b, y))
                .and_then(|at| at.pop_front())
            {
                Some(i) => {
                    taken[i] = true;
                    pairs.push((sa[i], y));
                }
                None => only_b.push(y),
            }
        }
        let only_a = sa
            .iter()
            .zip(&taken)
            .filter(|(_, &taken)| !taken)
            .map(|(&x, _)| x)
            .collect();
        Matched {
            pairs,
            only_a,
            only_b,
        }
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

/// What an element is, whatever its layout, comments and prefixes.
fn canonical(doc: &Document, el: Element) -> String {
    let mut out = String::new();
    let mut attributes: Vec<String> = doc
        .attributes_expanded(el)
        .into_iter()
        .map(|(ns, local, value)| format!("{}={value:?}", expanded(ns, local)))
        .collect();
    attributes.sort();
    out.push_str(&format!(
        "<{} {attributes:?}>",
        expanded(doc.namespace(el), doc.name(el))
    ));
    match leaf_text(doc, el) {
        Some(text) => out.push_str(&format!("{text:?}")),
        None => {
            for c in doc.children(el) {
                out.push_str(&canonical(doc, c));
            }
        }
    }
    out.push_str("</>");
    out
}
