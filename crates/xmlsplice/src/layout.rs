//! How new text is laid out: it copies what is already there.
//!
//! An inserted element takes the indentation of the sibling it is placed
//! beside, verbatim: spaces, tabs, even the no-break spaces one shipped
//! master-datasources.xml indents with. Its lines end with the line ending
//! found at that place, so a CRLF file stays CRLF and a file with mixed
//! endings keeps each region's own. When there is no sibling to copy, the
//! indentation is the parent's plus the file's indent unit.

/// Characters that count as indentation: what sits before the first tag of
/// a line in real files. A no-break space is character data, not XML
/// whitespace, but some shipped files indent with it.
fn is_indent(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\u{A0}'
}

/// Byte offset of the start of the line holding `pos`.
pub(crate) fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// The indentation before `pos`, if only indentation stands between the
/// start of its line and `pos`.
pub(crate) fn indentation_before(text: &str, pos: usize) -> Option<&str> {
    let start = line_start(text, pos);
    let lead = &text[start..pos];
    lead.chars().all(is_indent).then_some(lead)
}

/// The line ending used at `pos`: that of the line holding it, or failing
/// that (a last line without one) the nearest one before it, or `\n`.
pub(crate) fn line_ending_at(text: &str, pos: usize) -> &'static str {
    let ending = |nl: usize| {
        if nl > 0 && text.as_bytes()[nl - 1] == b'\r' {
            "\r\n"
        } else {
            "\n"
        }
    };
    if let Some(i) = text[pos..].find('\n') {
        return ending(pos + i);
    }
    match text[..pos].rfind('\n') {
        Some(i) => ending(i),
        None => "\n",
    }
}

/// The file's indent unit: a tab if the file indents its tags with tabs,
/// else the smallest indentation step in spaces, else four spaces.
///
/// Only the start of the file is read: the unit is a property of the whole
/// file, and reading 10 MB to find it again for every insertion would be waste.
pub(crate) fn file_indent_unit(text: &str) -> String {
    let mut tabs = 0usize;
    let mut spaced = 0usize;
    let mut widths: Vec<usize> = Vec::new();
    let mut previous = 0usize;
    for line in text.lines().take(2000) {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if !trimmed.starts_with('<') {
            continue;
        }
        let lead = &line[..line.len() - trimmed.len()];
        if lead.starts_with('\t') {
            tabs += 1;
        } else if !lead.is_empty() && lead.bytes().all(|b| b == b' ') {
            spaced += 1;
        }
        if lead.bytes().all(|b| b == b' ') {
            let width = lead.len();
            if width > previous {
                widths.push(width - previous);
            }
            previous = width;
        }
    }
    if tabs > spaced {
        return "\t".into();
    }
    // The most common positive step between successive tag lines.
    let mut counts = [0usize; 9];
    for w in widths.into_iter().filter(|w| (1..=8).contains(w)) {
        counts[w] += 1;
    }
    let best = (1..=8).max_by_key(|&w| (counts[w], std::cmp::Reverse(w)));
    match best {
        Some(w) if counts[w] > 0 => " ".repeat(w),
        _ => "    ".into(),
    }
}

/// Lays out a markup fragment for insertion at a place indented with `base`.
///
/// The first line is returned without indentation (the caller puts it where
/// it goes). Each following line keeps its depth relative to the fragment's
/// own least-indented line, measured in the fragment's smallest indentation
/// step and written in `unit`; its line ending becomes `eol`. Blank lines
/// stay blank, with no trailing spaces.
pub(crate) fn reindent(fragment: &str, base: &str, unit: &str, eol: &str) -> String {
    let fragment = fragment.trim_matches(|c: char| c == '\n' || c == '\r');
    let mut lines = fragment.lines();
    let first = lines.next().unwrap_or("").trim_start();
    let rest: Vec<&str> = lines.collect();
    let width = |line: &str| -> usize {
        line.chars()
            .take_while(|&c| c == ' ' || c == '\t')
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum()
    };
    let non_blank = || rest.iter().filter(|l| !l.trim().is_empty());
    let least = non_blank().map(|l| width(l)).min().unwrap_or(0);
    let step = non_blank()
        .map(|l| width(l) - least)
        .filter(|&w| w > 0)
        .min()
        .unwrap_or(1);
    let mut out = String::with_capacity(fragment.len() + rest.len() * (base.len() + 8));
    out.push_str(first.trim_end_matches('\r'));
    for line in rest {
        let line = line.trim_end_matches('\r');
        out.push_str(eol);
        if line.trim().is_empty() {
            continue;
        }
        let relative = width(line) - least;
        out.push_str(base);
        for _ in 0..relative / step {
            out.push_str(unit);
        }
        for _ in 0..relative % step {
            out.push(' ');
        }
        out.push_str(line.trim_start_matches([' ', '\t']));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indentation_is_copied_only_from_lines_that_hold_nothing_else() {
        let text = "<a>\n\t  <b/><c/>\n\u{A0}\u{A0}<d/>";
        let b = text.find("<b").unwrap();
        let c = text.find("<c").unwrap();
        let d = text.find("<d").unwrap();
        assert_eq!(indentation_before(text, b), Some("\t  "));
        assert_eq!(indentation_before(text, c), None);
        assert_eq!(indentation_before(text, d), Some("\u{A0}\u{A0}"));
    }

    #[test]
    fn line_endings_are_taken_from_the_place() {
        let text = "<a>\r\n  <b/>\n  <c/>";
        assert_eq!(line_ending_at(text, 1), "\r\n");
        assert_eq!(line_ending_at(text, text.find("<b").unwrap()), "\n");
        // The last line has no ending: the nearest before it counts.
        assert_eq!(line_ending_at(text, text.find("<c").unwrap()), "\n");
        assert_eq!(line_ending_at("<a/>", 0), "\n");
    }

    #[test]
    fn indent_unit_follows_the_file() {
        assert_eq!(file_indent_unit("<a>\n  <b>\n    <c/>\n  </b>\n</a>"), "  ");
        assert_eq!(file_indent_unit("<a>\n\t<b>\n\t\t<c/>\n\t</b>\n</a>"), "\t");
        assert_eq!(file_indent_unit("<a><b/></a>"), "    ");
        assert_eq!(
            file_indent_unit("<a>\n    <b>\n        <c/>\n    </b>\n   <odd/>\n</a>"),
            "    "
        );
    }

    #[test]
    fn fragments_are_reindented_in_the_file_unit() {
        let fragment = "<member>\n    <hostName>h</hostName>\n    <port>1</port>\n</member>";
        assert_eq!(
            reindent(fragment, "\t\t", "\t", "\r\n"),
            "<member>\r\n\t\t\t<hostName>h</hostName>\r\n\t\t\t<port>1</port>\r\n\t\t</member>"
        );
        // A fragment indented as a whole (as in a raw string) is measured from
        // its least-indented line.
        let fragment = "<a>\n            <b>\n                <c/>\n            </b>\n        </a>";
        assert_eq!(
            reindent(fragment, "  ", "  ", "\n"),
            "<a>\n    <b>\n      <c/>\n    </b>\n  </a>"
        );
        assert_eq!(reindent("<one/>", "    ", "  ", "\n"), "<one/>");
        assert_eq!(
            reindent("<a>\n\n  <b/>\n</a>", "", "\t", "\n"),
            "<a>\n\n\t<b/>\n</a>"
        );
    }
}
