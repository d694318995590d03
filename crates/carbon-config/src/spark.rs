//! analytics/spark/spark-defaults.conf: `key value` lines (DAS).
//!
//! Not XML: a line is a key, whitespace, and a value; `#` starts a comment.
//! Setting a key replaces the value of its active line and keeps the key,
//! the separator (the shipped file has `carbon.spark.master.count  1`, two
//! spaces) and the line ending. A key with no active line is appended,
//! with the file's line ending (and no final one, if the file had none). Commented-out lines are left as they are:
//! in this file they are prose and examples, not switches.

use crate::error::{Error, Result};
use crate::home::files::SPARK_DEFAULTS;
use crate::session::{Outcome, Session};

/// Sets `key` to `value` in spark-defaults.conf.
///
/// # Errors
/// A key or value that is empty or holds a line break; a key with two
/// active lines.
pub fn set_property(session: &mut Session, key: &str, value: &str) -> Result<Outcome> {
    let file = session.home().path().join(SPARK_DEFAULTS);
    let invalid = |message: String| Error::Invalid {
        file: file.clone(),
        message,
    };
    if key.is_empty() || key.contains(char::is_whitespace) || key.starts_with('#') {
        return Err(invalid(format!("{key:?} is not a property key")));
    }
    if value.trim().is_empty() || value.contains(['\n', '\r']) {
        return Err(invalid(format!(
            "the value of {key} must be one non-empty line"
        )));
    }
    let text = session.text(SPARK_DEFAULTS)?;
    let changed = set_in(text, key, value).map_err(invalid)?;
    Ok(Outcome {
        file: SPARK_DEFAULTS.into(),
        what: format!("{key} {value}"),
        changed,
    })
}

/// Sets `key` in the text of a `key value` file; returns whether it changed.
fn set_in(text: &mut String, key: &str, value: &str) -> std::result::Result<bool, String> {
    let mut found: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start();
        if !trimmed.starts_with('#') {
            let lead = content.len() - trimmed.len();
            let key_end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
            if &trimmed[..key_end] == key {
                let rest = &trimmed[key_end..];
                let value_start = offset + lead + key_end + (rest.len() - rest.trim_start().len());
                let value_end = offset + content.trim_end().len();
                found.push((index + 1, value_start..value_end.max(value_start)));
            }
        }
        offset += line.len();
    }
    match found.as_slice() {
        [] => {
            // A file without a final newline keeps it that way: the new line
            // goes after a line ending, and gets none of its own.
            let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
            if text.is_empty() || text.ends_with('\n') {
                text.push_str(&format!("{key} {value}{eol}"));
            } else {
                text.push_str(&format!("{eol}{key} {value}"));
            }
            Ok(true)
        }
        [(_, range)] => {
            if text[range.clone()] == *value {
                return Ok(false);
            }
            if range.is_empty() {
                // A key with no value: add the separator too.
                text.insert_str(range.start, &format!(" {value}"));
            } else {
                text.replace_range(range.clone(), value);
            }
            Ok(true)
        }
        several => {
            let lines: Vec<String> = several.iter().map(|(l, _)| l.to_string()).collect();
            Err(format!(
                "{key} is set on several lines ({})",
                lines.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::set_in;

    fn set(text: &str, key: &str, value: &str) -> (String, bool) {
        let mut text = text.to_string();
        let changed = set_in(&mut text, key, value).unwrap();
        (text, changed)
    }

    #[test]
    fn replaces_the_value_and_keeps_separator_and_line_ending() {
        let text = "# c\r\ncarbon.spark.master.count  1\r\nx\t2\r\n";
        assert_eq!(
            set(text, "carbon.spark.master.count", "2"),
            (
                "# c\r\ncarbon.spark.master.count  2\r\nx\t2\r\n".into(),
                true
            )
        );
        assert_eq!(
            set(text, "x", "3").0,
            "# c\r\ncarbon.spark.master.count  1\r\nx\t3\r\n"
        );
        assert_eq!(set(text, "x", "2"), (text.to_string(), false));
    }

    #[test]
    fn comments_are_not_keys_and_new_keys_are_appended() {
        let text = "# carbon.das.symbolic.link /a\nlast 1";
        assert_eq!(
            set(text, "carbon.das.symbolic.link", "/b").0,
            "# carbon.das.symbolic.link /a\nlast 1\ncarbon.das.symbolic.link /b"
        );
        assert_eq!(set("", "k", "v").0, "k v\n");
        assert_eq!(set("a 1\r\n", "k", "v").0, "a 1\r\nk v\r\n");
    }

    #[test]
    fn a_key_on_two_lines_is_refused() {
        let mut text = "k 1\nk 2\n".to_string();
        assert_eq!(
            set_in(&mut text, "k", "3").unwrap_err(),
            "k is set on several lines (1, 2)"
        );
    }

    #[test]
    fn trailing_spaces_after_the_value_stay() {
        assert_eq!(set("k 1  \n", "k", "22").0, "k 22  \n");
        assert_eq!(set("k\n", "k", "v").0, "k v\n");
    }
}
