//! Bounds on what roxmltree does in more than linear time, checked before
//! it parses a document.
//!
//! The text is a file of the home, which its owner may write: a few
//! hundred kilobytes shaped for one of these must not cost a root `apply`
//! minutes. Each check is one pass over the text that errs by counting too
//! much, never too little, with a limit far above what a configuration
//! file holds, so a shipped or hand-edited file never meets it.
//!
//! - Namespace declarations: roxmltree resolves them in time that grows
//!   with the cube of their number when they nest.
//! - Attributes of one element: roxmltree compares each with every one
//!   before it, to refuse a duplicate. With at most [`ATTRIBUTES_LIMIT`]
//!   an element, a file of nothing but such elements parses in a few times
//!   the time of one with shipped-size elements.
//!
//! What each bound stopped, measured, is in bench/results.tsv and
//! docs/security.md.

use crate::error::{Error, ErrorKind, TextPos};

/// The most namespace declarations (`xmlns="…"`, `xmlns:p="…"`) a document
/// may hold. Shipped files hold two at most; a thousand nested took most
/// of a second to parse, and `inspect` parses every datasources file.
pub(crate) const NAMESPACE_DECLARATIONS_LIMIT: usize = 100;

/// The most attributes one tag may hold. The largest shipped element (a
/// Tomcat `Connector` in catalina-server.xml) has 26.
pub(crate) const ATTRIBUTES_LIMIT: usize = 256;

/// Refuses `text` past either limit, at the declaration or tag that passes
/// it.
pub(crate) fn check(text: &str) -> Result<(), Error> {
    check_namespace_declarations(text)?;
    check_attributes(text)
}

/// Refuses `text` if it holds more than [`NAMESPACE_DECLARATIONS_LIMIT`]
/// namespace declarations (in comments too).
fn check_namespace_declarations(text: &str) -> Result<(), Error> {
    let bytes = text.as_bytes();
    // Any byte of a character past ASCII may be part of a name (`xmlns:pÀ`).
    let is_name = |b: u8| {
        b == b':' || b == b'-' || b == b'_' || b == b'.' || b.is_ascii_alphanumeric() || b >= 0x80
    };
    // The run of name characters an `xmlns` starts or lies in, and whether
    // an `=` follows it: `xmlns` repeated in one long name is one run,
    // scanned once (scanned again from each, it took the square of its
    // length).
    let mut run: Option<(usize, bool)> = None;
    let mut declarations = memchr::memmem::find_iter(bytes, b"xmlns").filter(|&at| {
        let after = at + 5;
        let (end, assigned) = match run {
            Some((end, assigned)) if after <= end => (end, assigned),
            _ => {
                let end = after
                    + bytes[after..]
                        .iter()
                        .position(|&b| !is_name(b))
                        .unwrap_or(bytes.len() - after);
                let next = bytes[end..].iter().find(|b| !b.is_ascii_whitespace());
                let found = (end, next == Some(&b'='));
                run = Some(found);
                found
            }
        };
        (end == after || bytes[after] == b':') && assigned
    });
    if let Some(at) = declarations.nth(NAMESPACE_DECLARATIONS_LIMIT) {
        return Err(Error::at(
            ErrorKind::Malformed(format!(
                "more than {NAMESPACE_DECLARATIONS_LIMIT} namespace declarations (xmlns); \
                 a configuration file holds a handful"
            )),
            TextPos::of_offset(text, at),
        ));
    }
    Ok(())
}

/// Refuses `text` if a tag may hold more than [`ATTRIBUTES_LIMIT`]
/// attributes, at that tag's `<`.
///
/// No attribute value may hold a `<` (XML forbids it), so each tag's
/// attributes all stand between its `<` and the next one, and each has an
/// `=` followed (after white space) by a quote. Counting those between one
/// `<` and the next needs no tokenizer, and no comment, CDATA section or
/// processing instruction can hide a tag from it: such text only adds to
/// the count of the `<` before it. No entity's value holds markup
/// (`entities.rs` refuses one that does).
fn check_attributes(text: &str) -> Result<(), Error> {
    let bytes = text.as_bytes();
    let mut tag = 0;
    let mut count = 0;
    for at in memchr::memchr2_iter(b'<', b'=', bytes) {
        if bytes[at] == b'<' {
            (tag, count) = (at, 0);
            continue;
        }
        let quoted = bytes[at + 1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'"' || b == b'\'');
        if quoted {
            count += 1;
            if count > ATTRIBUTES_LIMIT {
                return Err(Error::at(
                    ErrorKind::Malformed(format!(
                        "a tag with more than {ATTRIBUTES_LIMIT} attributes, counting each \
                         `=` before a quote up to the next `<` (in text, comments and CDATA \
                         after the tag too); a configuration element has a few dozen at most"
                    )),
                    TextPos::of_offset(text, tag),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    /// Namespace declarations past the limit are refused before parsing,
    /// at the first one too many; up to it, and words like `xmlns` in text,
    /// pass.
    #[test]
    fn namespace_declarations_are_bounded() {
        let nested = |n: usize| {
            let open: String = (0..n).map(|k| format!("<c xmlns:q{k}=\"u\">")).collect();
            format!("<r xmlns=\"urn:r\">{open}{}</r>", "</c>".repeat(n))
        };
        Document::parse(nested(NAMESPACE_DECLARATIONS_LIMIT - 1)).unwrap();
        Document::parse("<r>xmlns xmlns: xmlnsx=</r>").unwrap();
        let text = nested(NAMESPACE_DECLARATIONS_LIMIT);
        let err = Document::parse(text.as_str()).unwrap_err();
        assert!(err.to_string().contains("namespace declarations"), "{err}");
        let last = text
            .find(&format!("xmlns:q{}=", NAMESPACE_DECLARATIONS_LIMIT - 1))
            .unwrap();
        let column = last as u32 + 1;
        assert_eq!(err.position(), Some(TextPos { line: 1, column }));
    }

    /// `xmlns` repeated in one long name is one run of name characters,
    /// read once (read again from each `xmlns`, it took the square of its
    /// length): none is a declaration but one that ends in `:name=` or `=`.
    #[test]
    fn xmlns_repeated_in_one_name_is_read_once() {
        let run = "xmlns".repeat(200_000);
        Document::parse(format!("<r>{run}</r>")).unwrap();
        let count = |text: &str| match check_namespace_declarations(text) {
            Ok(()) => "passed",
            Err(_) => "refused",
        };
        let many = format!(
            "<r a{}/>",
            " xmlnsxmlns:p=\"u\"".repeat(NAMESPACE_DECLARATIONS_LIMIT)
        );
        assert_eq!(count(&many), "passed", "one declaration a tag: the limit");
        let more = format!("{many}<s xmlns='u'/>");
        assert_eq!(count(&more), "refused");
        let beyond_ascii: String = (0..=NAMESPACE_DECLARATIONS_LIMIT)
            .map(|i| format!("<q xmlns:p\u{c0}{i}=\"u\">"))
            .collect();
        assert_eq!(count(&beyond_ascii), "refused", "prefixes past ASCII count");
    }

    /// A tag of `n` attributes, each quoted as `quote` with `space` around
    /// its `=`.
    fn tag(n: usize, space: &str, quote: char) -> String {
        let attributes: String = (0..n)
            .map(|k| format!(" a{k}{space}={space}{quote}v{quote}"))
            .collect();
        format!("<e{attributes}/>")
    }

    /// Up to the limit a tag parses, in either quote and with white space
    /// around its `=`; one more is refused before parsing, at its tag.
    #[test]
    fn attributes_of_one_tag_are_bounded() {
        for (space, quote) in [("", '"'), (" \n\t", '\'')] {
            let at_limit = tag(ATTRIBUTES_LIMIT, space, quote);
            let doc = Document::parse(format!("<r>\n  {at_limit}\n</r>")).unwrap();
            let e = doc.select_one("e").unwrap();
            assert_eq!(doc.attributes(e).len(), ATTRIBUTES_LIMIT);
            let past = tag(ATTRIBUTES_LIMIT + 1, space, quote);
            refused_at_last_tag(&format!("<r>\n  {at_limit}\n  {past}\n</r>"));
        }
    }

    /// Asserts that `text` is refused for a tag of too many attributes, at
    /// its last `<e`.
    fn refused_at_last_tag(text: &str) {
        let err = Document::parse(text).unwrap_err();
        assert!(
            err.to_string().contains("more than 256 attributes"),
            "{text:.40}: {err}"
        );
        let at = text.rfind("<e").unwrap();
        assert_eq!(
            err.position(),
            Some(TextPos::of_offset(text, at)),
            "{text:.40}"
        );
    }

    /// The count is of `="` and `='` between one `<` and the next: many
    /// `=` in text or comments (banners, URLs) count nothing, and many
    /// tags of attributes each below the limit pass.
    #[test]
    fn only_equals_before_a_quote_count_and_each_tag_alone() {
        let banner = "=".repeat(10_000);
        let url = "?a=1&amp;b=2".repeat(1_000);
        let tags = tag(200, "", '"').repeat(100);
        let text = format!("<r>\n<!-- {banner} -->\n<u>{url}</u>\n{tags}\n</r>");
        Document::parse(text).unwrap();
    }

    /// What could hide a tag from a tokenizer hides nothing here: a
    /// processing instruction holding an open quote and `<!--`, a CDATA
    /// section, a `>` inside a value, a comment holding an open quote. The
    /// tag after each is counted, and refused.
    #[test]
    fn no_markup_before_a_tag_hides_it() {
        let past = tag(ATTRIBUTES_LIMIT + 1, "", '"');
        for before in [
            "<?pi <e a=\" <!-- ?>\n<r>",
            "<r><![CDATA[ <e a=\" ]]>",
            "<r><e a=\">\" b='>'/>",
            "<r><!-- <e a=\" -->",
        ] {
            refused_at_last_tag(&format!("{before}\n{past}\n</r>"));
        }
    }

    /// No entity's value can give a tag attributes: one that holds markup
    /// is refused where it is declared (`entities.rs`).
    #[test]
    fn attributes_in_an_entity_never_reach_a_tag() {
        let past = tag(ATTRIBUTES_LIMIT + 1, "", '\'');
        let text = format!("<!DOCTYPE r [<!ENTITY x \"{past}\">]>\n<r>&x;</r>");
        let err = Document::parse(text).unwrap_err();
        assert!(err.to_string().contains("holds markup"), "{err}");
    }
}
