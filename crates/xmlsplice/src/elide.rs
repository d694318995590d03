//! Comment bodies left out before parsing, and the map back to the file.
//!
//! roxmltree checks a comment one character at a time, and WSO2's
//! configuration files are mostly comments (69% of the bytes of a Message
//! Broker node's files, 58% of the padded axis2.xml of the engine bench):
//! its comment scan was a third of all the instructions of a fleet apply.
//! Here the comments are found and checked with `memchr`, by the rules
//! roxmltree applies, and the parser is given the text with every comment
//! emptied (`<!---->`): the same nodes, with the same values, in fewer bytes.
//! [`Elided::original`] maps the parser's offsets back to the file's, and
//! the document reads comment text from the file itself.
//!
//! Anything unusual makes [`elide`] decline, and the file is parsed as it
//! is: a DOCTYPE (its internal subset is not scanned here), an unterminated
//! section, or a comment roxmltree would reject (the parse of the whole
//! text then reports it, at its own position). A text that fails to parse
//! elided is parsed again whole, so every error is roxmltree's own.

use std::ops::Range;

use memchr::memmem;

/// A text with its comment bodies left out.
#[derive(Debug)]
pub(crate) struct Elided {
    /// What the parser reads.
    pub text: String,
    /// For each emptied comment: where its body was, in `text`, and how many
    /// bytes had been left out up to and including it.
    gaps: Vec<(usize, usize)>,
}

impl Elided {
    /// The file offset of `offset` in the elided text.
    pub fn original(&self, offset: usize) -> usize {
        let before = self.gaps.partition_point(|&(at, _)| at < offset);
        offset + before.checked_sub(1).map_or(0, |i| self.gaps[i].1)
    }

    /// The file range of `range` in the elided text.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        self.original(range.start)..self.original(range.end)
    }
}

/// `text` with every comment body left out, when there is something to
/// gain and nothing unusual (see the module docs); `None` otherwise.
pub(crate) fn elide(text: &str) -> Option<Elided> {
    let bytes = text.as_bytes();
    let mut elided = String::with_capacity(text.len());
    let mut gaps = Vec::new();
    let (mut left_out, mut copied, mut at) = (0, 0, 0);
    let comment_end = memmem::Finder::new(b"--");
    // In well-formed XML a `<` outside comments, CDATA sections and
    // processing instructions always starts markup: attribute values
    // cannot hold one. (Where one does, the `<` stays, and the parse fails
    // as it would have.)
    while let Some(found) = memchr::memchr(b'<', &bytes[at..]) {
        let open = at + found;
        let rest = &bytes[open..];
        if rest.starts_with(b"<!--") {
            let body = open + 4;
            // The first `--` must close the comment, and nothing in it may be
            // a character XML forbids: roxmltree's own rules.
            let end = body + comment_end.find(&bytes[body..])?;
            if bytes.get(end + 2) != Some(&b'>') || !xml_chars_only(&bytes[body..end]) {
                return None;
            }
            if end > body {
                elided.push_str(&text[copied..body]);
                left_out += end - body;
                gaps.push((elided.len(), left_out));
                copied = end;
            }
            at = end + 3;
        } else if rest.starts_with(b"<![CDATA[") {
            at = open + 9 + memmem::find(&bytes[open + 9..], b"]]>")? + 3;
        } else if rest.starts_with(b"<?") {
            at = open + 2 + memmem::find(&bytes[open + 2..], b"?>")? + 2;
        } else if rest.starts_with(b"<!") {
            return None; // a DOCTYPE
        } else {
            at = open + 1;
        }
    }
    if gaps.is_empty() {
        return None;
    }
    elided.push_str(&text[copied..]);
    Some(Elided { text: elided, gaps })
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
        assert_eq!(elided.original(b), text.find("<b").unwrap());
        // A range over a whole comment maps to the whole comment.
        let second = elided.text.rfind("<!---->").unwrap();
        assert_eq!(
            &text[elided.original_range(second..second + 7)],
            "<!--two-->"
        );
        assert_eq!(elided.original(elided.text.len()), text.len());
        assert_eq!(elided.original(0), 0);
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
        ] {
            assert!(elide(text).is_none(), "{text:?}");
        }
        // Characters XML allows, multi-byte ones included, are fine.
        assert!(elide("<a><!-- é \u{FFFD} \t\r\n --></a>").is_some());
    }
}
