//! Comment bodies and blank text left out before parsing, and the map back
//! to the file.
//!
//! roxmltree checks a comment one character at a time, and WSO2's
//! configuration files are mostly comments, so that scan would dominate
//! the parse. Here the comments are found and checked with `memchr`, by the rules
//! roxmltree applies, and the parser is given the text with every comment
//! emptied (`<!---->`).
//!
//! The indentation inside elements that hold elements goes too. The parser
//! would make a text node of each run, and copy every one that holds a CRLF
//! to normalise it: in a shipped axis2.xml that is more than half of all the
//! nodes, and half the memory of the tree. A caller never sees them: the
//! edits read indentation from the file, and an element that holds elements
//! has no text (`Document::element_text` is `None`, and setting its text is
//! refused). So a run of spaces, tabs and line breaks between two pieces of
//! markup, neither of them CDATA, is left out when the element it is in
//! holds an element (or it is outside the root element, where the parser
//! makes no text nodes). Blank text in an element that holds no element
//! (`<a> </a>`, `<a><!-- c --> </a>`) is that element's text, and stays.
//!
//! [`Elided::start`] and [`Elided::end`] map the parser's offsets back to
//! the file's, and the document reads comment text from the file itself.
//!
//! Anything unusual makes [`elide`] decline, and the file is parsed as it
//! is: a DOCTYPE (its internal subset is not scanned here), an unterminated
//! section or tag, a comment roxmltree would reject (the parse of the whole
//! text then reports it, at its own position), or a text of 4 GiB or more
//! (offsets are kept in 32 bits). A text that fails to parse elided is
//! parsed again whole, so every error is roxmltree's own.

use std::ops::Range;

use memchr::memmem;

/// A text with its comment bodies, and the blank text of elements that hold
/// elements, left out.
#[derive(Debug)]
pub(crate) struct Elided {
    /// What the parser reads.
    pub text: String,
    /// For each place something was left out: where, in `text`, and how many
    /// bytes had been left out up to and including it. 32 bits each: there
    /// is one for every comment and most lines of a file.
    gaps: Vec<(u32, u32)>,
}

impl Elided {
    /// The file offset of `offset` in the elided text, where a range starts:
    /// past anything left out just before it (a node's start follows the
    /// indentation left out in front of it).
    pub fn start(&self, offset: usize) -> usize {
        self.shift(
            offset,
            self.gaps.partition_point(|&(at, _)| at as usize <= offset),
        )
    }

    /// The file offset of `offset` in the elided text, where a range ends:
    /// before anything left out just after it.
    pub fn end(&self, offset: usize) -> usize {
        self.shift(
            offset,
            self.gaps.partition_point(|&(at, _)| (at as usize) < offset),
        )
    }

    /// `offset` plus what the first `gaps_before` gaps left out.
    fn shift(&self, offset: usize, gaps_before: usize) -> usize {
        offset
            + gaps_before
                .checked_sub(1)
                .map_or(0, |i| self.gaps[i].1 as usize)
    }

    /// The file range of `range` in the elided text.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        let start = self.start(range.start);
        // An empty range sits where nothing was left out (inside a tag or a
        // text), so both ends map alike; `max` keeps it a range regardless.
        start..self.end(range.end).max(start)
    }
}

/// The parts of the text to leave out, found in one scan, in text order.
///
/// Blank text inside an element goes only if the element holds an element,
/// which is known once one turns up, or at the end tag if none does. Until
/// then, what was found inside it waits, in order: the comment bodies go
/// either way, the blank text only with an element. Every element still open
/// around the innermost one holds an element (the next one in), so only the
/// innermost one has anything waiting.
struct Cuts {
    /// Decided: to be left out, as (start, end).
    done: Vec<(u32, u32)>,
    /// Found in the innermost open element while it holds no element yet;
    /// `true` for blank text.
    waiting: Vec<((u32, u32), bool)>,
    /// Whether the innermost open element holds an element yet. Outside the
    /// root element, where the parser makes no text nodes, it counts as yes.
    holds_elements: bool,
}

impl Cuts {
    fn cut(&mut self, range: Range<usize>, blank: bool) {
        // `elide` declines texts whose offsets do not fit.
        let range = (range.start as u32, range.end as u32);
        if self.holds_elements {
            self.done.push(range);
        } else {
            self.waiting.push((range, blank));
        }
    }

    /// An element starts: the innermost open element holds one.
    fn element(&mut self) {
        if !self.holds_elements {
            self.holds_elements = true;
            self.done
                .extend(self.waiting.drain(..).map(|(range, _)| range));
        }
    }

    fn start_tag(&mut self) {
        self.element();
        self.holds_elements = false;
    }

    fn end_tag(&mut self) {
        if !self.holds_elements {
            // No element inside: its blank text is its text, and stays.
            let comments = self.waiting.drain(..).filter(|&(_, blank)| !blank);
            self.done.extend(comments.map(|(range, _)| range));
        }
        // The parent holds this element.
        self.holds_elements = true;
    }
}

/// `text` with every comment body and the blank text between the markup of
/// elements that hold elements left out, when there is something to gain
/// and nothing unusual (see the module docs); `None` otherwise.
pub(crate) fn elide(text: &str) -> Option<Elided> {
    if u32::try_from(text.len()).is_err() {
        return None;
    }
    // Each cut (start, end) becomes its gap (where, in the elided text, and
    // how much was left out up to it) in place: no second list.
    let mut gaps = cuts(text)?;
    if gaps.is_empty() {
        return None;
    }
    let mut elided = String::with_capacity(text.len());
    let (mut left_out, mut copied) = (0, 0);
    for gap in &mut gaps {
        let (start, end) = *gap;
        elided.push_str(&text[copied..start as usize]);
        left_out += end - start;
        *gap = (elided.len() as u32, left_out);
        copied = end as usize;
    }
    elided.push_str(&text[copied..]);
    gaps.shrink_to_fit();
    Some(Elided { text: elided, gaps })
}

/// What [`elide`] leaves out, as (start, end) in text order; `None` when it
/// declines.
fn cuts(text: &str) -> Option<Vec<(u32, u32)>> {
    let bytes = text.as_bytes();
    let mut cuts = Cuts {
        done: Vec::new(),
        waiting: Vec::new(),
        holds_elements: true,
    };
    let comment_end = memmem::Finder::new(b"--");
    let mut at = 0;
    // In well-formed XML a `<` outside comments, CDATA sections and
    // processing instructions always starts markup: attribute values
    // cannot hold one. (Where one does, the `<` stays, and the parse fails
    // as it would have.)
    while let Some(found) = memchr::memchr(b'<', &bytes[at..]) {
        let open = at + found;
        let rest = &bytes[open..];
        let end = if rest.starts_with(b"<!--") {
            let body = open + 4;
            // The first `--` must close the comment, and nothing in it may be
            // a character XML forbids: roxmltree's own rules.
            let close = body + comment_end.find(&bytes[body..])?;
            if bytes.get(close + 2) != Some(&b'>') || !xml_chars_only(&bytes[body..close]) {
                return None;
            }
            if close > body {
                cuts.cut(body..close, false);
            }
            close + 3
        } else if rest.starts_with(b"<![CDATA[") {
            // Blank text after a CDATA section belongs to its text node.
            at = open + 9 + memmem::find(&bytes[open + 9..], b"]]>")? + 3;
            continue;
        } else if rest.starts_with(b"<?") {
            open + 2 + memmem::find(&bytes[open + 2..], b"?>")? + 2
        } else if rest.starts_with(b"<!") {
            return None; // a DOCTYPE
        } else {
            let end = tag_end(bytes, open)?;
            if rest.starts_with(b"</") {
                cuts.end_tag();
            } else if bytes[end - 2] == b'/' {
                cuts.element();
            } else {
                cuts.start_tag();
            }
            end
        };
        let blank = bytes[end..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        let next = &bytes[end + blank..];
        // Blank text before a CDATA section belongs to its text node.
        if blank > 0 && next.first() == Some(&b'<') && !next.starts_with(b"<![CDATA[") {
            cuts.cut(end..end + blank, true);
        }
        at = end + blank;
    }
    Some(cuts.done)
}

/// The end (just past `>`) of the tag that starts at `open`: the first `>`
/// outside quotes, as attribute values are the only quoted parts of a tag.
/// `None` when it never closes.
fn tag_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut at = open + 1;
    loop {
        let found = at + memchr::memchr3(b'>', b'"', b'\'', &bytes[at..])?;
        match bytes[found] {
            b'>' => return Some(found + 1),
            quote => at = found + 1 + memchr::memchr(quote, &bytes[found + 1..])? + 1,
        }
    }
}

/// Whether `bytes` (UTF-8) hold only characters XML 1.0 allows: no C0
/// control but tab, line feed and carriage return, and not U+FFFE or U+FFFF.
/// [`crate::escape::is_xml_char`] over the bytes, without decoding them
/// (a test holds the two to the same answer for every character).
fn xml_chars_only(bytes: &[u8]) -> bool {
    // No early exit and no short-circuit: the compiler makes this a vector loop.
    let control = bytes.iter().fold(false, |found, &b| {
        found | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r'))
    });
    // U+FFFE and U+FFFF are EF BF BE and EF BF BF. A one-byte search: a
    // two-byte `memmem` would build a searcher for every comment.
    !control
        && memchr::memchr_iter(0xEF, bytes).all(|i| {
            !(bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_bodies_go_and_offsets_map_back() {
        let text = "<a><!-- one --><b x='1'/>t<!--two--></a>";
        let elided = elide(text).unwrap();
        assert_eq!(elided.text, "<a><!----><b x='1'/>t<!----></a>");
        let b = elided.text.find("<b").unwrap();
        assert_eq!(elided.start(b), text.find("<b").unwrap());
        // A range over a whole comment maps to the whole comment.
        let second = elided.text.rfind("<!---->").unwrap();
        assert_eq!(
            &text[elided.original_range(second..second + 7)],
            "<!--two-->"
        );
        assert_eq!(elided.end(elided.text.len()), text.len());
        assert_eq!(elided.start(0), 0);
    }

    #[test]
    fn blank_text_in_elements_holding_elements_goes_and_ranges_keep_to_their_markup() {
        let text = "<?xml version='1.0'?>\r\n<!-- c -->\r\n<a>\r\n\t<!-- x -->\r\n\t<!-- y -->\r\n\t<b x='>'/>\r\n\t<c> </c>\r\n\t<d>\t<!-- e --> </d>\r\n\t<!-- z -->\r\n</a>\r\n";
        let elided = elide(text).unwrap();
        assert_eq!(
            elided.text,
            "<?xml version='1.0'?><!----><a><!----><!----><b x='>'/><c> </c><d>\t<!----> </d><!----></a>\r\n"
        );
        // Each element's range maps to its own markup, without the blank
        // text left out before or after it.
        for name in ["<a>", "<b x", "<c>", "<d>"] {
            let at = elided.text.find(name).unwrap();
            assert_eq!(elided.start(at), text.find(name).unwrap(), "{name}");
        }
        let b = elided.text.find("<b").unwrap();
        let b_end = b + "<b x='>'/>".len();
        assert_eq!(&text[elided.original_range(b..b_end)], "<b x='>'/>");
        let a = elided.text.find("<a>").unwrap();
        let a_end = elided.text.find("</a>").unwrap() + 4;
        let a_text = &text[elided.original_range(a..a_end)];
        assert_eq!(
            a_text,
            &text[text.find("<a>").unwrap()..text.find("</a>").unwrap() + 4]
        );
        // And a comment's, with its body back.
        let z = elided.text.rfind("<!---->").unwrap();
        assert_eq!(&text[elided.original_range(z..z + 7)], "<!-- z -->");
    }

    #[test]
    fn blank_text_of_elements_without_elements_or_beside_cdata_stays() {
        for text in [
            "<a> </a>",
            "<a><!---->\n</a>",
            "<a>\n<!----></a>",
            "<a><?p?>\n<?q?></a>",
            "<a><b/>\n<![CDATA[x]]></a>",
            "<a><![CDATA[x]]>\n<b/></a>",
            "<a>x <b/> y</a>",
            "<a><c>\n<!---->\n</c></a>",
        ] {
            let kept = elide(&format!("{text}<!-- so that something goes -->")).unwrap();
            assert!(
                kept.text.starts_with(text),
                "{text:?} became {:?}",
                kept.text
            );
        }
    }

    #[test]
    fn the_byte_check_agrees_with_is_xml_char_on_every_character() {
        let mut buf = [0; 4];
        for ch in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(
                xml_chars_only(ch.encode_utf8(&mut buf).as_bytes()),
                crate::escape::is_xml_char(ch),
                "{ch:?}"
            );
        }
    }

    #[test]
    fn cdata_and_processing_instructions_are_not_comments() {
        let text = "<a><![CDATA[<!-- kept -->]]><?pi <!-- kept too -->?><!--x--></a>";
        let elided = elide(text).unwrap();
        assert_eq!(
            elided.text,
            "<a><![CDATA[<!-- kept -->]]><?pi <!-- kept too -->?><!----></a>"
        );
    }

    #[test]
    fn declines_what_it_does_not_scan_or_roxmltree_would_reject() {
        for text in [
            "<a/>",           // nothing to leave out
            "<a><!----></a>", // nothing either
            "<!DOCTYPE a [<!ENTITY e '<!--'>]><a><!-- x --></a>",
            "<a><!-- a -- b --></a>", // `--` inside
            "<a><!-- ends in a dash ---></a>",
            "<a><!-- never closed </a>",
            "<a><!-- bell \u{7} --></a>",
            "<a><!-- \u{FFFE} --></a>",
            "<a><![CDATA[ never closed <!-- x --></a>",
            "<a x='never closed><!-- c --></a>",
        ] {
            assert!(elide(text).is_none(), "{text:?}");
        }
        // Characters XML allows, multi-byte ones included, are fine.
        assert!(elide("<a><!-- é \u{FFFD} \t\r\n --></a>").is_some());
    }
}
