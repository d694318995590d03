//! Paths over random trees whose elements nest in one another by the same
//! names, selected as a plain evaluation selects them: every context's
//! candidates in turn, a descendant step's sorted into document order with
//! each node once.

use xmlsplice::Document;

use crate::support::Rng;

/// A random tree of `a`, `b` and `c` elements nesting in one another, each
/// with its own `id`, some with a `k`.
fn random_tree(r: &mut Rng) -> String {
    let mut text = String::from("<r id=\"r\">");
    let mut open = Vec::new();
    for id in 0..r.below(40) {
        if !open.is_empty() && r.below(3) == 0 {
            let name = open.pop().unwrap();
            text.push_str(&format!("</{name}>"));
            continue;
        }
        let name = r.pick(&["a", "b", "c"]);
        let k = if r.below(2) == 0 { " k=\"\"" } else { "" };
        text.push_str(&format!("<{name} id=\"{id}\"{k}>"));
        open.push(name);
    }
    for name in open.iter().rev() {
        text.push_str(&format!("</{name}>"));
    }
    text.push_str("</r>");
    text
}

/// `path` evaluated plainly on roxmltree's tree: the ids selected.
fn plainly(text: &str, path: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(text).unwrap();
    let mut contexts = vec![doc.root_element()];
    let mut rest = path;
    while !rest.is_empty() {
        let descendant = rest.starts_with("//");
        rest = rest.trim_start_matches('/');
        let end = rest.find('/').unwrap_or(rest.len());
        let (step, after) = rest.split_at(end);
        rest = after;
        let (name, predicates) = step.split_once('[').unwrap_or((step, ""));
        let mut next = Vec::new();
        for context in &contexts {
            let candidates: Vec<_> = if descendant {
                context.descendants().skip(1).collect()
            } else {
                context.children().collect()
            };
            let mut kept: Vec<_> = candidates
                .into_iter()
                .filter(|n| n.is_element() && (name == "*" || n.tag_name().name() == name))
                .collect();
            for predicate in predicates.split('[').map(|p| p.trim_end_matches(']')) {
                kept = match predicate {
                    "" => kept,
                    "@k" => kept.into_iter().filter(|n| n.has_attribute("k")).collect(),
                    k => kept
                        .into_iter()
                        .skip(k.parse::<usize>().unwrap() - 1)
                        .take(1)
                        .collect(),
                };
            }
            next.extend(kept);
        }
        if descendant && contexts.len() > 1 {
            next.sort_by_key(|n| n.range().start);
            next.dedup_by_key(|n| n.id());
        }
        contexts = next;
    }
    let id = |n: &roxmltree::Node| n.attribute("id").unwrap().to_string();
    contexts.iter().map(id).collect()
}

/// Random paths of child and descendant steps, with and without positions
/// and tests before and after them, select what the plain evaluation
/// selects, in the same order.
#[test]
fn descendant_steps_select_as_a_plain_evaluation_does() {
    let mut asked = 0;
    for seed in 1..=1_000u64 {
        let mut r = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
        let text = random_tree(&mut r);
        let doc = Document::parse(text.as_str()).unwrap();
        for _ in 0..20 {
            let mut path = String::new();
            for _ in 0..=r.below(3) {
                path.push_str(r.pick(&["/", "//", "//", "//"]));
                path.push_str(r.pick(&["a", "b", "c", "*", "a"]));
                path.push_str(r.pick(&[
                    "", "", "", "", "[1]", "[2]", "[@k]", "[@k][1]", "[1][@k]", "[@k][2]",
                ]));
            }
            // Relative to the root element, as the plain evaluation starts.
            let path = format!(".{path}");
            let selected = doc.select(path.as_str()).unwrap();
            let ids: Vec<String> = selected
                .iter()
                .map(|&e| doc.attribute(e, "id").unwrap().to_string())
                .collect();
            assert_eq!(ids, plainly(&text, &path[1..]), "{path} in {text}");
            asked += 1;
        }
    }
    assert_eq!(asked, 20_000);
}
