//! Text from recipes and homes, made safe to show on a terminal.
//!
//! A node name, a file name or a line of a home's file is not carbon-patch's
//! own text: an escape sequence in it would reach the operator's terminal
//! (recolour it, retitle the window, move the cursor over what was printed),
//! and a line break in a name would start a line of its own, a fake `wrote …`
//! say. Every such piece passes through [`escape_controls`] on its way to
//! the screen, which shows each control character as an escape, as Rust's
//! `{:?}` writes one: `\n`, `\r` and `\0`, and `\u{1b}` for the others
//! (lowercase hexadecimal, no leading zeros).
//!
//! The control characters are those of C0 (U+0000 to U+001F) but the tab,
//! DEL (U+007F) and those of C1 (U+0080 to U+009F, which some terminals obey
//! as well); and Unicode's bidirectional embeddings, overrides and isolates
//! (U+202A to U+202E, U+2066 to U+2069), which reorder what a line shows
//! without moving the cursor ("Trojan Source"): a path or value could read
//! as another. A tab only moves the cursor to the next stop, so it stays; a
//! line feed stays only where the caller says that it structures the text.
//! A backslash is shown as it is, so that paths and patterns read as
//! written: the JSON output holds every text exactly.
// Forbid, not only deny as the workspace does: nothing here calls libc.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::fmt::Write as _;

/// What [`escape_controls`] does with a line feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineFeeds {
    /// Keep it: the text is several lines (an error with the recipe line it
    /// quotes, a list of findings), each of them made safe where it is made.
    Keep,
    /// Escape it: the text is one line, or one field of a line (a node name,
    /// a path, a line of a diff), and must not start another.
    Escape,
}

/// `text` with every control character but the tab (and the line feed, if
/// `line_feeds` keeps it) shown as an escape: `\n`, `\r`, `\0`, `\u{1b}`.
/// Text without any is returned as it is, unallocated.
///
/// # Examples
/// ```
/// use visible::{escape_controls, LineFeeds};
/// assert_eq!(escape_controls("node\u{1b}[31m\nwrote x", LineFeeds::Escape), "node\\u{1b}[31m\\nwrote x");
/// assert_eq!(escape_controls("a\tb\nc\r\n", LineFeeds::Keep), "a\tb\nc\\r\n");
/// assert_eq!(escape_controls("caf\u{e9} \u{85}\u{7f}", LineFeeds::Escape), "caf\u{e9} \\u{85}\\u{7f}");
/// ```
pub fn escape_controls(text: &str, line_feeds: LineFeeds) -> Cow<'_, str> {
    let shown =
        |c: char| !is_control(c) || c == '\t' || (c == '\n' && line_feeds == LineFeeds::Keep);
    // C0 and DEL are single bytes; C1 characters are 0xC2 0x80 to 0xC2 0x9F,
    // the bidirectional ones 0xE2 0x80 0xAA to 0xE2 0x81 0xA9.
    let maybe = text
        .bytes()
        .any(|b| b < 0x20 || b == 0x7F || b == 0xC2 || b == 0xE2);
    if !maybe || text.chars().all(shown) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            _ if shown(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// `text` as one line: [`escape_controls`], line feeds escaped too.
pub fn line(text: &str) -> Cow<'_, str> {
    escape_controls(text, LineFeeds::Escape)
}

/// A path as one line of text ([`line`]); a name that is not UTF-8 shows
/// U+FFFD where it is not, as `Path::display` does.
pub fn path(path: &std::path::Path) -> String {
    line(&path.to_string_lossy()).into_owned()
}

/// Whether `c` is a control character: C0, DEL, C1, or a bidirectional
/// embedding, override or isolate.
fn is_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}') || is_bidirectional(c)
}

/// Whether `c` is one of Unicode's bidirectional embeddings, overrides and
/// isolates (U+202A to U+202E, U+2066 to U+2069): text that holds one may
/// show as other text. Output that cannot show them as `\u{202e}` (JSON,
/// TOML) escapes them its own way.
pub fn is_bidirectional(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_character_is_escaped_and_nothing_else() {
        let all: String = (0..=0xA0u32).filter_map(char::from_u32).collect();
        let shown = escape_controls(&all, LineFeeds::Escape);
        assert!(
            !shown.chars().any(|c| is_control(c) && c != '\t'),
            "{shown}"
        );
        assert!(shown.starts_with("\\0\\u{1}\\u{2}"), "{shown}");
        assert!(
            shown.contains("\\u{8}\t\\n\\u{b}\\u{c}\\r\\u{e}"),
            "{shown}"
        );
        assert!(
            shown.contains("\\u{1b}\\u{1c}\\u{1d}\\u{1e}\\u{1f} !\"#"),
            "{shown}"
        );
        assert!(shown.contains("}~\\u{7f}\\u{80}"), "{shown}");
        assert!(shown.ends_with("\\u{9f}\u{a0}"), "{shown}");
        // Printable text, non-ASCII included, is never touched.
        let printable = "caf\u{e9} \u{20ac} \u{1F600} \\ ~ \t";
        assert!(matches!(
            escape_controls(printable, LineFeeds::Escape),
            Cow::Borrowed(_)
        ));
        // A 0xC2 lead byte that is no C1 character.
        assert!(matches!(line("\u{a0}\u{bf}"), Cow::Borrowed(_)));
    }

    /// A path that shows as `conf/lmx.xml` but is `conf/<RLO>lmx.xml`.
    #[test]
    fn bidirectional_controls_are_escaped_and_other_marks_are_not() {
        assert_eq!(line("conf/\u{202e}lmx.xml"), "conf/\\u{202e}lmx.xml");
        let all = "\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}\u{2066}\u{2067}\u{2068}\u{2069}";
        assert_eq!(
            line(all),
            "\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{202e}\\u{2066}\\u{2067}\\u{2068}\\u{2069}"
        );
        // Their neighbours, and other text with a 0xE2 lead byte, stay.
        let kept = "\u{2029}\u{202f}\u{2065}\u{206a} \u{2014} \u{2019} \u{20ac}";
        assert!(matches!(line(kept), Cow::Borrowed(_)));
    }

    #[test]
    fn line_feeds_stay_only_when_kept() {
        assert_eq!(escape_controls("a\nb", LineFeeds::Keep), "a\nb");
        assert_eq!(escape_controls("a\nb", LineFeeds::Escape), "a\\nb");
        // A carriage return structures nothing: it is always shown.
        assert_eq!(escape_controls("a\r\nb\r", LineFeeds::Keep), "a\\r\nb\\r");
    }

    #[test]
    fn escaping_twice_changes_nothing_more() {
        let once = line("x\u{1b}]0;title\u{7}\n\u{9b}31m").into_owned();
        assert_eq!(once, "x\\u{1b}]0;title\\u{7}\\n\\u{9b}31m");
        assert_eq!(line(&once), once);
    }

    #[test]
    fn paths_are_one_line() {
        let p = std::path::Path::new("conf/a\nwrote b-datasources.xml");
        assert_eq!(path(p), "conf/a\\nwrote b-datasources.xml");
    }
}
