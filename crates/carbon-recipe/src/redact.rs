//! What a recipe error may show of the recipe.
//!
//! An error quotes the offending line under its message, and serde's
//! messages quote the offending value ("invalid type: integer `12345678`,
//! expected a string"). When that line holds a password, and the common
//! mistakes with passwords are exactly the ones that make errors (a number
//! left unquoted, a backslash that is not a valid escape, a quote that ends
//! the string early, a misspelt `pasword`), both would put the secret on the
//! terminal and in CI logs. So what an error shows of a line has the values
//! of secret-looking keys masked, wherever the caret points; the caret and
//! the message still say what is wrong.
//!
//! A line is scanned, not parsed: it may be the very line TOML rejected.

use std::ops::Range;

use carbon_config::secrets::{is_secret_key, MASK};

/// The byte ranges in `line` of the values given to secret keys: after
/// `key =`, up to the `,`, `}` or `]` that ends it, a comment, or the end of
/// the line (an unterminated string runs to the end). Keys inside inline
/// tables count, so `datasource = [{ name = "a", password = 1 }]` has one.
pub(crate) fn secret_values(line: &str) -> Vec<Range<usize>> {
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    let (mut key_start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => i = string_end(bytes, i),
            b'#' => break,
            b',' | b'{' | b'[' => {
                i += 1;
                key_start = i;
            }
            b'=' => {
                let key = &line[key_start..i];
                let mut start = i + 1;
                while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
                    start += 1;
                }
                i = start;
                if is_secret_key(key) {
                    let end = value_end(bytes, start);
                    if start < end && !only_references(&line[start..end]) {
                        found.push(start..end);
                    }
                    i = end;
                }
                key_start = i;
            }
            _ => i += 1,
        }
    }
    found
}

/// `line` with every secret value masked, and `span` (byte offsets in
/// `line`) moved to where the same text is in the masked line; a span that
/// starts or ends inside a masked value covers the whole mask.
pub(crate) fn masked_line(line: &str, span: Range<usize>) -> (String, Range<usize>) {
    let values = secret_values(line);
    let mut shown = String::with_capacity(line.len());
    let mut copied = 0;
    for value in &values {
        shown.push_str(&line[copied..value.start]);
        shown.push_str(MASK);
        copied = value.end;
    }
    shown.push_str(&line[copied..]);
    // An offset of `line` in `shown`; inside a value, the mask's start
    // (`end_of_span` false) or end (true).
    let moved = |offset: usize, end_of_span: bool| -> usize {
        let mut shift = 0isize;
        for value in &values {
            if offset <= value.start {
                break;
            }
            let masked_start = value.start.saturating_add_signed(shift);
            if offset < value.end {
                return masked_start + if end_of_span { MASK.len() } else { 0 };
            }
            shift += MASK.len() as isize - value.len() as isize;
        }
        offset.saturating_add_signed(shift)
    };
    let start = moved(span.start, false).min(shown.len());
    let end = moved(span.end, true).clamp(start, shown.len());
    (shown, start..end)
}

/// Whether a value is a quoted string of `${…}` references and nothing else
/// (`"${env:DB_PASSWORD}"`): it names where the secret comes from, which an
/// error about it (an unset variable) must show.
fn only_references(value: &str) -> bool {
    let Some(inner) = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
    else {
        return false;
    };
    let mut rest = inner;
    while let Some(after) = rest.strip_prefix("${") {
        match after.find('}') {
            Some(end) if !after[..end].contains(['"', '\'', '\\']) => rest = &after[end + 1..],
            _ => return false,
        }
    }
    !inner.is_empty() && rest.is_empty()
}

/// Where the string starting with the quote at `open` ends (just after its
/// closing quote), or the end of `bytes` when it is not closed on the line.
/// Basic strings skip escaped characters; literal strings have none.
fn string_end(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Where the value starting at `start` ends, trailing blanks left out.
fn value_end(bytes: &[u8], start: usize) -> usize {
    let (mut depth, mut i) = (0usize, start);
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                i = string_end(bytes, i);
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth == 0 => break,
            b']' | b'}' => depth -= 1,
            b',' | b'#' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    while i > start && matches!(bytes[i - 1], b' ' | b'\t' | b'\r') {
        i -= 1;
    }
    i
}

/// `message` with every way serde quotes `value` (as written in the recipe)
/// replaced by the mask: `` `12345678` ``, `"hunter2"`.
pub(crate) fn masked_message(message: &str, value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    if inner.trim_matches(['"', '\'']).is_empty() {
        // Nothing to hide, and "`\"`" is how TOML's messages name a quote.
        return message.to_string();
    }
    let mut message = message.to_string();
    for quoted in [
        format!("`{value}`"),
        format!("`{inner}`"),
        format!("{inner:?}"),
        format!("\"{inner}\""),
    ] {
        if quoted.len() > 2 {
            message = message.replace(&quoted, &format!("`{MASK}`"));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(line: &str) -> Vec<&str> {
        secret_values(line).into_iter().map(|r| &line[r]).collect()
    }

    #[test]
    fn values_of_secret_keys_are_found_wherever_the_line_puts_them() {
        assert_eq!(values("password = 12345678"), ["12345678"]);
        assert_eq!(values("password = \"p\\q\"  # note"), ["\"p\\q\""]);
        assert_eq!(values("password = \"unterminated"), ["\"unterminated"]);
        assert_eq!(values("password = 'it''s'"), ["'it''s'"]);
        assert_eq!(values("pasword = \"hunter2\""), ["\"hunter2\""]);
        assert_eq!(
            values(r#"datasource = [{ name = "a=b", password = 123, max_active = "x" }]"#),
            ["123"]
        );
        assert_eq!(
            values("secrets = [\"a\", \"b\"], x = 1"),
            ["[\"a\", \"b\"]"]
        );
        assert_eq!(values("url = \"jdbc:x?password=y\""), Vec::<&str>::new());
        // Where a secret comes from is not the secret.
        assert_eq!(
            values("password = \"${env:DB_PASSWORD}\""),
            Vec::<&str>::new()
        );
        assert_eq!(
            values("password = '${pw}${env:SUFFIX}'"),
            Vec::<&str>::new()
        );
        assert_eq!(values("password = \"x${env:A}\""), ["\"x${env:A}\""]);
        assert_eq!(values("password = \"${env:A}x\""), ["\"${env:A}x\""]);
        assert_eq!(values("password = \"${env:A\""), ["\"${env:A\""]);
        assert_eq!(values("password = \"\""), ["\"\""]);
        assert_eq!(values("[server]"), Vec::<&str>::new());
    }

    #[test]
    fn a_masked_line_keeps_the_caret_on_the_same_text() {
        let line = r#"ds = { password = 123, max_active = "x" }"#;
        let at = line.find("\"x\"").unwrap();
        let (shown, span) = masked_line(line, at..at + 3);
        assert_eq!(shown, r#"ds = { password = ********, max_active = "x" }"#);
        assert_eq!(&shown[span], "\"x\"");

        let at = line.find("123").unwrap();
        let (shown, span) = masked_line(line, at..at + 3);
        assert_eq!(&shown[span], MASK);

        let line = "password = \"p\\q\"";
        let at = line.find('q').unwrap();
        let (shown, span) = masked_line(line, at..at + 1);
        assert_eq!(shown, "password = ********");
        assert_eq!(&shown[span], MASK);
    }

    #[test]
    fn messages_lose_the_value_in_every_quoting() {
        assert_eq!(
            masked_message(
                "invalid type: integer `12345678`, expected a string",
                "12345678"
            ),
            "invalid type: integer `********`, expected a string"
        );
        assert_eq!(
            masked_message(
                "invalid type: string \"hunter2\", expected a number",
                "\"hunter2\""
            ),
            "invalid type: string `********`, expected a number"
        );
        assert_eq!(
            masked_message("expected a whole number from 0 to 4294967295", "4"),
            "expected a whole number from 0 to 4294967295"
        );
        // `password = "` left open: the quote is all there is, and TOML's
        // message names a quote the same way.
        assert_eq!(
            masked_message("invalid basic string, expected `\"`", "\""),
            "invalid basic string, expected `\"`"
        );
    }
}
