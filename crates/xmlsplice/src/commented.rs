//! Commented-out elements: finding them by path, and uncommenting in place.
//!
//! WSO2 ships optional settings as comments, and its guides say "uncomment".
//! Two forms occur in the shipped files:
//!
//! - wrapped: `<!--<parameter name="mcastAddress">228.0.0.4</parameter>-->`,
//!   possibly with the element on lines of its own between `<!--` and `-->`;
//! - WSO2's own: `<!--HostName>www.wso2.org</HostName-->`, where the comment's
//!   delimiters double as the element's first `<` and last `>`.
//!
//! A comment is a candidate when its content, read in either form, parses as
//! exactly one element in the namespaces in scope. Prose comments never parse
//! that way, so they are never mistaken for elements.

use std::collections::HashMap;

use roxmltree::{Node, NodeId};

use crate::document::Document;
use crate::error::{Error, ErrorKind};
use crate::fragment;
use crate::layout;
use crate::path::{Held, HeldKind, Path, Step, Verdict};

/// A commented-out element, found by [`Document::select_commented`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commented {
    pub(crate) comment: NodeId,
    pub(crate) generation: u32,
    pub(crate) form: Form,
    markup: String,
    /// Byte offset of the comment in the document's text; its line and
    /// column are computed only when asked for (that means counting lines).
    offset: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// `<!--<a>..</a>-->`, with optional whitespace inside the delimiters.
    Wrapped,
    /// `<!--a>..</a-->`.
    Wso2,
}

impl Commented {
    /// The element as it will read once uncommented.
    pub fn markup(&self) -> &str {
        &self.markup
    }

    /// The byte offset of the comment in [`Document::text`].
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// The commented-out elements below `holders` that match `step`.
pub(crate) fn find(doc: &Document, holders: &[Node], step: &Step) -> Vec<Commented> {
    let mut found = Vec::new();
    for holder in holders {
        let comments: Vec<Node> = if step.is_descendant() {
            holder.descendants().filter(Node::is_comment).collect()
        } else {
            holder.children().filter(Node::is_comment).collect()
        };
        let mut candidates = Vec::new();
        for comment in comments {
            let Some((form, markup)) = read(doc.comment_text(comment), step.local_name()) else {
                continue;
            };
            let scope = comment.parent().unwrap_or(*holder);
            // Evaluate the step on the parsed element now: the parse does not
            // outlive this call, so keep only the verdicts.
            let verdict = fragment::parse_in_scope(&markup, scope, |element, _| {
                Ok(step.evaluate_one(element))
            });
            if let Ok(verdict) = verdict {
                candidates.push((comment, form, markup, verdict));
            }
        }
        let kept = step.apply_verdicts(candidates, |c| &c.3);
        found.extend(
            kept.into_iter()
                .map(|(comment, form, markup, _)| Commented {
                    comment: comment.id(),
                    generation: doc.generation,
                    form,
                    markup,
                    offset: doc.range_of(comment).start,
                }),
        );
    }
    found
}

/// The commented-out elements directly under one element, each read once,
/// to be asked about many steps ([`Document::commented_children`]).
/// [`Document::select_commented`] reads every comment again for each path:
/// asked once for each of thousands of siblings, under thousands of
/// comments, that is millions of reads.
///
/// A step is answered from what each candidate holds ([`Held`]), looking
/// only at those that hold the rarest of the values it asks for: with `n`
/// candidates and as many steps, at worst about `n√n` looks, where every
/// value asked for is held by `√n` of them.
#[derive(Debug)]
pub struct CommentedChildren<'d> {
    doc: &'d Document,
    parent: Node<'d, 'd>,
    /// The candidates for each name asked about so far.
    named: HashMap<Option<String>, Candidates>,
    /// What each step asked about was found to be.
    answered: HashMap<String, bool>,
}

/// The comments under one element that read as elements of one name, in
/// order, what each holds, and which of them hold each key.
#[derive(Debug, Default)]
struct Candidates {
    held: Vec<Held>,
    holding: HashMap<(HeldKind, String, String), Vec<usize>>,
}

impl<'d> CommentedChildren<'d> {
    pub(crate) fn new(doc: &'d Document, parent: Node<'d, 'd>) -> CommentedChildren<'d> {
        CommentedChildren {
            doc,
            parent,
            named: HashMap::new(),
            answered: HashMap::new(),
        }
    }

    /// Whether one of them is selected by `step`, one step down from the
    /// element (`parameter[@name='x']`), as by the last step of
    /// [`Document::select_commented`].
    ///
    /// # Errors
    /// [`ErrorKind::InvalidPath`](crate::ErrorKind::InvalidPath): `step` is
    /// not one child step.
    pub fn any(&mut self, step: &str) -> Result<bool, Error> {
        if let Some(&answer) = self.answered.get(step) {
            return Ok(answer);
        }
        let path = Path::parse(step)?;
        let [one] = path.steps() else {
            return Err(not_one_step(&path));
        };
        if one.is_self() || one.is_descendant() || path.is_from_document() {
            return Err(not_one_step(&path));
        }
        let (doc, parent) = (self.doc, self.parent);
        let local = one.local_name().map(str::to_string);
        let candidates = self
            .named
            .entry(local)
            .or_insert_with(|| Candidates::under(doc, parent, one.local_name()));
        // A position counts every candidate; otherwise only those holding
        // every key asked for can be selected, and those holding the rarest
        // one are all there is to look at.
        let mut pool: Option<&[usize]> = None;
        if !one.has_position() {
            for (kind, name, value) in one.wanted() {
                let key = (kind, name.to_string(), value.to_string());
                let holding = candidates.holding.get(&key).map_or(&[][..], Vec::as_slice);
                if pool.is_none_or(|pool| holding.len() < pool.len()) {
                    pool = Some(holding);
                }
            }
        }
        let verdicts: Vec<Verdict> = match pool {
            Some(pool) => pool
                .iter()
                .map(|&i| one.evaluate_held(&candidates.held[i]))
                .collect(),
            None => candidates
                .held
                .iter()
                .map(|held| one.evaluate_held(held))
                .collect(),
        };
        let answer = !one.apply_verdicts(verdicts, |v| v).is_empty();
        self.answered.insert(step.to_string(), answer);
        Ok(answer)
    }
}

impl Candidates {
    /// The comments under `parent` that read as elements named `local`
    /// (any name: `None`) in its namespaces.
    fn under(doc: &Document, parent: Node, local: Option<&str>) -> Candidates {
        let mut candidates = Candidates::default();
        for comment in parent.children().filter(Node::is_comment) {
            let Some((_, markup)) = read(doc.comment_text(comment), local) else {
                continue;
            };
            let held =
                fragment::parse_in_scope(&markup, parent, |element, _| Ok(Held::of(element)));
            let Ok(held) = held else { continue };
            let at = candidates.held.len();
            for key in held.keys() {
                let holding = candidates.holding.entry(key).or_default();
                if holding.last() != Some(&at) {
                    holding.push(at);
                }
            }
            candidates.held.push(held);
        }
        candidates
    }
}

fn not_one_step(path: &Path) -> Error {
    Error::new(ErrorKind::InvalidPath {
        path: path.to_string(),
        reason: "expected one step down (`name[...]`)".into(),
        column: None,
    })
}

/// Reads a comment's `content` as a commented-out element, if it has that
/// shape (and names `local`, when given: a cheap test before any parsing).
fn read(content: &str, local: Option<&str>) -> Option<(Form, String)> {
    let names = |rest: &str| match local {
        None => true,
        Some(local) => {
            // Allow a prefix: `svns:x` names local `x`.
            let name_end = rest
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(rest.len());
            let name = &rest[..name_end];
            name == local || name.rsplit(':').next() == Some(local)
        }
    };
    let first = content.chars().next()?;
    if first.is_alphabetic() || first == '_' {
        return names(content).then(|| (Form::Wso2, format!("<{content}>")));
    }
    let trimmed = content.trim();
    let rest = trimmed.strip_prefix('<')?;
    if rest.starts_with(['!', '?', '/']) || !trimmed.ends_with('>') {
        return None;
    }
    names(rest).then(|| (Form::Wrapped, trimmed.to_string()))
}

/// The splice that uncomments the comment at `range` of `text`: its range
/// and replacement.
///
/// For the wrapped form, a `<!--` or `-->` alone on its line goes with its
/// line, so the element ends up on the lines it already had:
///
/// ```text
///     <!--                                        <parameter name="x">1</parameter>
///     <parameter name="x">1</parameter>    ==>
///     -->
/// ```
pub(crate) fn uncomment_splice(
    text: &str,
    range: std::ops::Range<usize>,
    form: Form,
) -> (std::ops::Range<usize>, String) {
    let (start, end) = (range.start, range.end);
    let inner = &text[start + 4..end - 3];
    if form == Form::Wso2 {
        return (range, format!("<{inner}>"));
    }
    let element_start = start + 4 + (inner.len() - inner.trim_start().len());
    let element_end = end - 3 - (inner.len() - inner.trim_end().len());
    let leading = &text[start + 4..element_start];
    let trailing = &text[element_end..end - 3];

    // On a line of its own, the comment's line goes from its start.
    let (cut_from, keep_from) = match (leading.rfind('\n'), layout::indentation_before(text, start))
    {
        (Some(nl), Some(indent)) => (start - indent.len(), start + 4 + nl + 1),
        _ => (start, element_start),
    };
    // Read only as far as the first character that is not a blank: on a
    // long line, that is where the answer is.
    let rest_of_line_blank = || {
        text[end..]
            .chars()
            .take_while(|&c| c != '\n')
            .all(char::is_whitespace)
    };
    let keep_to = match trailing.find('\n') {
        Some(nl) if rest_of_line_blank() => {
            let nl = element_end + nl;
            if nl > element_end && text.as_bytes()[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            }
        }
        _ => element_end,
    };
    (cut_from..end, text[keep_from..keep_to].to_string())
}
