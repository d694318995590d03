//! How new text is laid out: it copies what is already there.
//!
//! An inserted element takes the indentation of the sibling it is placed
//! beside, verbatim: spaces, tabs, even the no-break spaces one shipped
//! master-datasources.xml indents with. Its lines end with the line ending
//! found at that place, so a CRLF file stays CRLF and a file with mixed
//! endings keeps each region's own. When there is no sibling to copy, the
//! indentation is the parent's plus the file's indent unit.

use crate::error::Lines;

/// Characters that count as indentation: what sits before the first tag of
/// a line in real files. A no-break space is character data, not XML
/// whitespace, but some shipped files indent with it.
fn is_indent(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\u{A0}'
}

/// The indentation before `pos`, if only indentation stands between the
/// start of its line and `pos`.
pub(crate) fn indentation_before(text: &str, pos: usize) -> Option<&str> {
    // Read back over indentation only: a tag deep in a long line answers at
    // the first other character, not at the line's start.
    let lead: usize = text[..pos]
        .chars()
        .rev()
        .take_while(|&c| is_indent(c))
        .map(char::len_utf8)
        .sum();
    let start = pos - lead;
    (start == 0 || text.as_bytes()[start - 1] == b'\n').then_some(&text[start..pos])
}

/// The line ending used at `pos`: that of the line holding it, or failing
/// that (a last line without one) the nearest one before it, or `\n`.
/// `lines` are the text's.
pub(crate) fn line_ending_at(text: &str, lines: &Lines, pos: usize) -> &'static str {
    let ending = |nl: usize| {
        if nl > 0 && text.as_bytes()[nl - 1] == b'\r' {
            "\r\n"
        } else {
            "\n"
        }
    };
    if let Some(nl) = lines.newline_from(pos) {
        return ending(nl);
    }
    match lines.line_start(pos) {
        0 => "\n",
        start => ending(start - 1),
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
/// Only the fragment's layout changes: the line breaks between its tags
/// ([`layout_line_feeds`]) and the indentation after them. The first line is
/// returned without indentation (the caller puts it where it goes). Each
/// following line keeps its depth relative to the fragment's own
/// least-indented line, measured in the fragment's smallest indentation step
/// and written in `unit`; its line ending becomes `eol`. Blank lines stay
/// blank, with no trailing spaces. A line break inside a value (text, an
/// attribute value, a CDATA section) is part of the value: it stays as it
/// is, with whatever follows it, so the value reads back as it was given.
pub(crate) fn reindent(fragment: &str, base: &str, unit: &str, eol: &str) -> String {
    let fragment = fragment.trim_matches(|c: char| c == '\n' || c == '\r');
    let mut lines = Vec::new();
    let mut start = 0;
    for feed in layout_line_feeds(fragment) {
        // A carriage return before a layout line feed is layout too.
        lines.push(
            fragment[start..feed]
                .strip_suffix('\r')
                .unwrap_or(&fragment[start..feed]),
        );
        start = feed + 1;
    }
    lines.push(&fragment[start..]);
    let first = lines[0].trim_start();
    let rest = &lines[1..];
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
    out.push_str(first);
    for line in rest {
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

/// Byte offsets of the line feeds of `fragment` (one well-formed element)
/// that are layout: those in whitespace between tags, inside a tag between
/// its attributes, and inside a comment or a processing instruction. The
/// others belong to a value: text that is not only whitespace, the whole
/// text of an element that holds nothing else (`<password>\n</password>`
/// is a value of one line feed), an attribute value, a CDATA section.
fn layout_line_feeds(fragment: &str) -> Vec<usize> {
    let bytes = fragment.as_bytes();
    let feeds_in = |range: std::ops::Range<usize>| {
        memchr::memchr_iter(b'\n', &bytes[range.clone()]).map(move |i| range.start + i)
    };
    let mut feeds = Vec::new();
    // Whether the last markup was a start tag: text right after one and
    // right before an end tag is all its element holds.
    let mut after_start_tag = false;
    let mut at = 0;
    while at < bytes.len() {
        let rest = &fragment[at..];
        if !rest.starts_with('<') {
            let end = memchr::memchr(b'<', rest.as_bytes()).map_or(bytes.len(), |i| at + i);
            let only_text = after_start_tag && fragment[end..].starts_with("</");
            let blank = rest[..end - at].bytes().all(|b| b.is_ascii_whitespace());
            if blank && !only_text {
                feeds.extend(feeds_in(at..end));
            }
            at = end;
            continue;
        }
        let (len, layout) = if rest.starts_with("<!--") {
            (rest.find("-->").map_or(rest.len(), |i| i + 3), true)
        } else if rest.starts_with("<![CDATA[") {
            (rest.find("]]>").map_or(rest.len(), |i| i + 3), false)
        } else if rest.starts_with("<?") {
            (rest.find("?>").map_or(rest.len(), |i| i + 2), true)
        } else {
            let len = tag_feeds(rest, at, &mut feeds);
            after_start_tag = !rest.starts_with("</") && !rest[..len].ends_with("/>");
            at += len;
            continue;
        };
        if layout {
            feeds.extend(feeds_in(at..at + len));
        }
        after_start_tag = false;
        at += len;
    }
    feeds
}

/// The length of the tag `tag` starts with (up to its first `>` outside a
/// quoted value), in one pass that also adds to `feeds` its line feeds
/// outside quoted values, offset by `at`.
fn tag_feeds(tag: &str, at: usize, feeds: &mut Vec<usize>) -> usize {
    let mut quote = None;
    for (i, b) in tag.bytes().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return i + 1,
            (None, b'\n') => feeds.push(at + i),
            (None, _) => {}
        }
    }
    tag.len()
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
        let at = |text: &str, pos: usize| line_ending_at(text, &Lines::of(text), pos);
        let text = "<a>\r\n  <b/>\n  <c/>";
        assert_eq!(at(text, 1), "\r\n");
        assert_eq!(at(text, text.find("<b").unwrap()), "\n");
        // The last line has no ending: the nearest before it counts.
        assert_eq!(at(text, text.find("<c").unwrap()), "\n");
        assert_eq!(at("<a/>", 0), "\n");
        // At a line feed, it is that line's; on a last line after a CRLF
        // one, the CRLF.
        assert_eq!(at(text, 3), "\r\n");
        assert_eq!(at("<a>\r\n<b/>", 6), "\r\n");
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
    fn only_line_feeds_between_tags_are_layout() {
        // Each layout line feed, as the text before it.
        fn feeds(fragment: &str) -> Vec<&str> {
            layout_line_feeds(fragment)
                .into_iter()
                .map(|at| &fragment[..at])
                .collect()
        }
        // Between tags, and inside a tag between attributes.
        assert_eq!(
            feeds("<a\n  b='1'>\n<c/>\n</a>"),
            ["<a", "<a\n  b='1'>", "<a\n  b='1'>\n<c/>"]
        );
        // An element's only text, blank or not, and an attribute value: none.
        assert!(feeds("<p>\n</p>").is_empty());
        assert!(feeds("<p>a\n  b\n</p>").is_empty());
        assert!(feeds("<p v='x\ny'/>").is_empty());
        assert!(feeds("<p><![CDATA[x\n]]></p>").is_empty());
        // A comment is layout; text beside child elements that is not
        // blank is not.
        assert_eq!(feeds("<a><!--x\ny--></a>"), ["<a><!--x"]);
        assert_eq!(feeds("<a>t\n<b/>\n</a>"), ["<a>t\n<b/>"]);
        // A quoted `>` does not end the tag.
        assert_eq!(feeds("<a v='>'\n/>"), ["<a v='>'"]);
    }

    #[test]
    fn a_value_keeps_its_line_breaks_and_what_follows_them() {
        let fragment = "<ds>\n    <password>a\n b\r\n</password>\n    <x v=\"1\n  2\"/>\n</ds>";
        assert_eq!(
            reindent(fragment, "\t", "\t", "\r\n"),
            "<ds>\r\n\t\t<password>a\n b\r\n</password>\r\n\t\t<x v=\"1\n  2\"/>\r\n\t</ds>"
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
