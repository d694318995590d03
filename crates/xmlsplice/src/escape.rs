//! Escaping values for the place they are written to.
//!
//! A value set by a caller is data, never markup: `a<b&c` must come back from
//! the parser as `a<b&c`. Characters the document's encoding cannot hold are
//! written as character references, which XML allows in text and attribute
//! values; characters XML does not allow at all are refused.

use crate::encoding::Encoding;
use crate::error::{Error, ErrorKind};

/// Whether XML 1.0 allows `ch` anywhere in a document.
pub(crate) fn is_xml_char(ch: char) -> bool {
    matches!(ch, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes `value` for element content.
///
/// `>` is escaped too, so that `]]>` can never appear; a carriage return is
/// written as `&#13;`, as the parser would otherwise turn it into a line feed.
pub(crate) fn text(value: &str, encoding: Encoding) -> Result<String, Error> {
    escape(value, encoding, None)
}

/// Escapes `value` for an attribute value delimited by `quote`.
///
/// Tabs and line breaks become character references, because attribute value
/// normalisation would turn them into spaces otherwise.
pub(crate) fn attribute(value: &str, quote: char, encoding: Encoding) -> Result<String, Error> {
    escape(value, encoding, Some(quote))
}

fn escape(value: &str, encoding: Encoding, quote: Option<char>) -> Result<String, Error> {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        if !is_xml_char(ch) {
            return Err(Error::new(ErrorKind::InvalidChar(ch)));
        }
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '"' if quote == Some('"') => out.push_str("&quot;"),
            '\'' if quote == Some('\'') => out.push_str("&apos;"),
            '\t' if quote.is_some() => out.push_str("&#9;"),
            '\n' if quote.is_some() => out.push_str("&#10;"),
            _ if !encoding.can_encode(ch) => {
                out.push_str(&format!("&#{};", ch as u32));
            }
            _ => out.push(ch),
        }
    }
    Ok(out)
}

/// Every form `value` can take in a document this crate wrote it to: as
/// element text or as an attribute value in either quote, in each encoding
/// (where characters the encoding cannot hold become references), and as it
/// is. Without duplicates, the value itself first. A value XML does not
/// allow has only itself.
///
/// For masking: a secret written to a file is searched for in every form
/// it may have there (`a&b` is `a&amp;b` in the file).
///
/// # Examples
/// ```
/// assert_eq!(xmlsplice::escaped_forms("a&b'"), ["a&b'", "a&amp;b'", "a&amp;b&apos;"]);
/// assert_eq!(xmlsplice::escaped_forms("plain"), ["plain"]);
/// ```
pub fn escaped_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    // Most values (passwords included) are ASCII with nothing to escape.
    if value
        .bytes()
        .all(|b| b.is_ascii() && !b"&<>\"'\t\r\n".contains(&b))
    {
        return forms;
    }
    let encodings = [
        Encoding::Utf8 { bom: false },
        Encoding::Latin1,
        Encoding::Ascii,
    ];
    for encoding in encodings {
        let escaped = [
            text(value, encoding),
            attribute(value, '"', encoding),
            attribute(value, '\'', encoding),
        ];
        for form in escaped.into_iter().flatten() {
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    const UTF8: Encoding = Encoding::Utf8 { bom: false };

    #[test]
    fn text_escapes_markup_characters() {
        assert_eq!(text("a<b&c>d", UTF8).unwrap(), "a&lt;b&amp;c&gt;d");
        assert_eq!(text("say \"hi\" 'x'", UTF8).unwrap(), "say \"hi\" 'x'");
        assert_eq!(text("a\r\nb", UTF8).unwrap(), "a&#13;\nb");
    }

    #[test]
    fn attribute_escapes_its_own_quote_and_whitespace() {
        assert_eq!(attribute("a\"b'c", '"', UTF8).unwrap(), "a&quot;b'c");
        assert_eq!(attribute("a\"b'c", '\'', UTF8).unwrap(), "a\"b&apos;c");
        assert_eq!(attribute("a\tb\nc", '"', UTF8).unwrap(), "a&#9;b&#10;c");
    }

    #[test]
    fn characters_outside_the_encoding_become_references() {
        assert_eq!(
            text("caf\u{e9} \u{20AC}", Encoding::Latin1).unwrap(),
            "caf\u{e9} &#8364;"
        );
        assert_eq!(text("caf\u{e9}", Encoding::Ascii).unwrap(), "caf&#233;");
        assert_eq!(text("\u{20AC}", UTF8).unwrap(), "\u{20AC}");
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(
            text("a\u{0}b", UTF8).unwrap_err().kind(),
            &ErrorKind::InvalidChar('\u{0}')
        );
        assert!(attribute("\u{1B}", '"', UTF8).is_err());
    }

    #[test]
    fn escaped_forms_cover_text_both_quotes_and_every_encoding() {
        assert_eq!(
            escaped_forms("p<\"\u{e9}\u{20AC}"),
            [
                "p<\"\u{e9}\u{20AC}",
                "p&lt;\"\u{e9}\u{20AC}",
                "p&lt;&quot;\u{e9}\u{20AC}",
                "p&lt;\"\u{e9}&#8364;",
                "p&lt;&quot;\u{e9}&#8364;",
                "p&lt;\"&#233;&#8364;",
                "p&lt;&quot;&#233;&#8364;",
            ]
        );
        // Not a value XML allows: nothing to escape it to.
        assert_eq!(escaped_forms("a\u{0}"), ["a\u{0}"]);
    }
}
