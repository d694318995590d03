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

use roxmltree::{Node, NodeId};

use crate::document::Document;
use crate::fragment;
use crate::layout;
use crate::path::Step;

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

    let (cut_from, keep_from) = match leading.rfind('\n') {
        Some(nl) if layout::indentation_before(text, start).is_some() => {
            (layout::line_start(text, start), start + 4 + nl + 1)
        }
        _ => (start, element_start),
    };
    let rest_of_line = text[end..].split('\n').next().unwrap_or("");
    let keep_to = match trailing.find('\n') {
        Some(nl) if rest_of_line.trim().is_empty() => {
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
