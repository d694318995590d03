//! What a plan shows of a file: its unified diff, worked out on what the
//! file holds and shown masked ([`crate::secrets`]).
//!
//! Diffing the masked texts would hide a changed password: both sides read
//! `********`, the line drops out of the diff, and a plan said "1 file to
//! change, +0 -0" with nothing to show for it. So the lines are matched on
//! the file's own text, and each line shown is taken from the masked text,
//! which masking keeps line for line (it replaces values within a line).
//! Where it does not (a secret with a line break in it), the masked texts
//! are diffed instead: nothing secret shows either way.

use std::fmt::Write;

use similar::udiff::UnifiedHunkHeader;
use similar::{group_diff_ops, Algorithm, DiffOp, TextDiff};

use crate::secrets::{mask, Secrets, MASK};
use crate::FileChange;

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// A unified diff of `before` against `after`, both sides masked.
#[derive(Debug)]
pub struct MaskedDiff {
    /// The unified diff, empty when nothing changes.
    pub text: String,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

impl MaskedDiff {
    /// The diff of one file, `header` naming it on the `---` and `+++`
    /// lines.
    pub fn new(header: &str, before: &str, after: &str, secrets: &Secrets) -> MaskedDiff {
        let (masked_before, masked_after) = (mask(before, secrets), mask(after, secrets));
        let (old, new) = (lines(&masked_before), lines(&masked_after));
        let (file_old, file_new) = (lines(before), lines(after));
        if old.len() != file_old.len() || new.len() != file_new.len() {
            let diff = MaskedDiff::of_masked(header, &masked_before, &masked_after);
            if diff.text.is_empty() && before != after {
                // The change is all inside secrets: say so, never "no change".
                return MaskedDiff {
                    text: format!(
                        "--- {header}\n+++ {header}\n@@ a secret changed @@\n-{MASK}\n+{MASK}\n"
                    ),
                    added: 1,
                    removed: 1,
                };
            }
            return diff;
        }
        // What `TextDiff::from_lines` works out (Myers, no deadline), on lines
        // split once.
        let ops = similar::capture_diff_slices(Algorithm::Myers, &file_old, &file_new);
        let (added, removed) = counts(&ops);
        let mut text = String::new();
        for hunk in group_diff_ops(ops, CONTEXT)
            .iter()
            .filter(|ops| !ops.is_empty())
        {
            if text.is_empty() {
                let _ = writeln!(text, "--- {header}\n+++ {header}");
            }
            write_hunk(&mut text, hunk, &old, &new);
        }
        MaskedDiff {
            text,
            added,
            removed,
        }
    }

    /// The diff of the masked texts themselves.
    fn of_masked(header: &str, before: &str, after: &str) -> MaskedDiff {
        let diff = TextDiff::from_lines(before, after);
        let text = diff
            .unified_diff()
            .context_radius(CONTEXT)
            .header(header, header)
            .missing_newline_hint(true)
            .to_string();
        let (added, removed) = counts(diff.ops());
        MaskedDiff {
            text,
            added,
            removed,
        }
    }
}

/// `text`'s lines, each with its line break, split as `similar` splits them
/// (at `\n`, `\r\n` or a lone `\r`), but with `memchr`: every line of every
/// text a plan shows passes through here, twice (as it is and masked).
pub fn lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    for at in memchr::memchr2_iter(b'\r', b'\n', bytes) {
        if at < start {
            continue; // the `\n` of a `\r\n`
        }
        let end = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
            at + 2
        } else {
            at + 1
        };
        lines.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// One hunk as `similar`'s unified diff writes it: its header, then each
/// line with its sign, and the marker after a last line without a newline.
fn write_hunk(out: &mut String, ops: &[DiffOp], old: &[&str], new: &[&str]) {
    let _ = writeln!(out, "{}", UnifiedHunkHeader::new(ops));
    for op in ops {
        for change in op.iter_changes(old, new) {
            let _ = write!(out, "{}{}", change.tag(), change.value());
            if change.missing_newline() {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
}

/// Lines added and removed by `ops`.
fn counts(ops: &[DiffOp]) -> (usize, usize) {
    ops.iter()
        .filter(|op| !matches!(op, DiffOp::Equal { .. }))
        .fold((0, 0), |(added, removed), op| {
            (added + op.new_range().len(), removed + op.old_range().len())
        })
}

/// Bytes as text: UTF-8 when they are, else Latin-1 (one character a byte).
fn as_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// A configuration file, or a binary one (a copied jar)?
fn is_text(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "xml" || e == "conf" || e == "properties" || e == "toml")
}

/// One file's diff (masked), with lines added and removed.
#[derive(Debug)]
pub struct FileDiff {
    /// The file, relative to the home.
    pub path: String,
    /// Whether it is created.
    pub new_file: bool,
    /// The unified diff (empty for binary files).
    pub diff: String,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

impl FileDiff {
    /// The diff of `change`, its header naming `label` (the node) and the
    /// file, `secrets` and every secret on disk masked. A file that is not
    /// a configuration file (a copied jar) shows its size only.
    pub fn of(change: &FileChange, label: &str, secrets: &Secrets) -> FileDiff {
        let path = change.path.to_string_lossy().into_owned();
        let new_file = change.before.is_none();
        if !is_text(&change.path) {
            let diff = format!(
                "Binary file {}: {} bytes{}\n",
                visible::line(&path),
                change.after.len(),
                if new_file { ", new" } else { "" }
            );
            return FileDiff {
                path,
                new_file,
                diff,
                added: 0,
                removed: 0,
            };
        }
        // One line whatever the node and file are called, in JSON too:
        // the diff's lines are its structure.
        let header = format!("{}: {}", visible::line(label), visible::line(&path));
        let MaskedDiff {
            text: diff,
            added,
            removed,
        } = MaskedDiff::new(
            &header,
            &as_text(change.before.as_deref().unwrap_or_default()),
            &as_text(&change.after),
            secrets,
        );
        FileDiff {
            path,
            new_file,
            diff,
            added,
            removed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Texts of a few short lines, with every kind of line break and at
    /// times none at the end; with secrets, `SECRET` stands for a password
    /// on some lines (in an element, a URL parameter, a plain attribute).
    fn text(with_secrets: bool) -> BoxedStrategy<String> {
        let plain = prop_oneof!["[ab]{0,3}\n", "[ab]{1,2}\r\n", "[ab]{1,2}\r"].boxed();
        let line = if with_secrets {
            prop_oneof![
                plain,
                Just("  <password>SECRET</password>\n".to_string()),
                Just("url=x;pwd=SECRET;y\n".to_string()),
                Just("v=\"SECRET\"\n".to_string()),
            ]
            .boxed()
        } else {
            plain
        };
        (prop::collection::vec(line, 0..14), "[ab]{0,2}")
            .prop_map(|(lines, last)| lines.concat() + &last)
            .boxed()
    }

    proptest! {
        #[test]
        fn no_secret_shows_whatever_changes(
            before in text(true),
            after in text(true),
            old in "[a-z]{6,9}",
            new in "[a-z]{6,9}",
        ) {
            let (before, after) = (before.replace("SECRET", &old), after.replace("SECRET", &new));
            let diff = MaskedDiff::new("f", &before, &after, &Secrets::new(std::slice::from_ref(&new)));
            prop_assert!(!diff.text.contains(&new), "{}", diff.text);
            // The password on disk is masked in elements and parameters;
            // its quoted value only as the recipe's secret.
            if !before.contains(&format!("v=\"{old}\"")) {
                prop_assert!(!diff.text.contains(&old), "{}", diff.text);
            }
        }

        #[test]
        fn without_secrets_it_is_similars_unified_diff(before in text(false), after in text(false)) {
            let diff = MaskedDiff::new("f", &before, &after, &Secrets::default());
            let expected = MaskedDiff::of_masked("f", &before, &after);
            prop_assert_eq!(&diff.text, &expected.text);
            prop_assert_eq!((diff.added, diff.removed), (expected.added, expected.removed));
        }
    }

    #[test]
    fn a_changed_password_shows_as_a_changed_line_without_its_value() {
        let before = "<a>\n  <password>old-one</password>\n  <url>x</url>\n</a>\n";
        let after = "<a>\n  <password>new-one</password>\n  <url>x</url>\n</a>\n";
        let diff = MaskedDiff::new("f", before, after, &Secrets::new(&["new-one".into()]));
        assert_eq!(
            diff.text,
            "--- f\n+++ f\n@@ -1,4 +1,4 @@\n <a>\n-  <password>********</password>\n\
             +  <password>********</password>\n   <url>x</url>\n </a>\n"
        );
        assert_eq!((diff.added, diff.removed), (1, 1));
    }

    #[test]
    fn it_reads_as_similar_writes_it_where_no_secret_changes() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk";
        let after = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nK\nl";
        let diff = MaskedDiff::new("f", before, after, &Secrets::default());
        let expected = TextDiff::from_lines(before, after)
            .unified_diff()
            .context_radius(CONTEXT)
            .header("f", "f")
            .missing_newline_hint(true)
            .to_string();
        assert_eq!(diff.text, expected);
        assert!(
            diff.text.contains("\\ No newline at end of file"),
            "{}",
            diff.text
        );
        assert_eq!((diff.added, diff.removed), (3, 2));
        assert_eq!(
            MaskedDiff::new("f", "same\n", "same\n", &Secrets::default()).text,
            ""
        );
    }

    #[test]
    fn lines_split_as_similar_splits_them() {
        use similar::DiffableStr;
        for text in ["", "a", "a\n", "a\r\nb\rc\n\nd", "\r\r\n\n\r", "x\r"] {
            assert_eq!(lines(text), text.tokenize_lines(), "{text:?}");
        }
    }

    #[test]
    fn a_secret_with_a_line_break_falls_back_to_the_masked_texts() {
        let secrets = Secrets::new(&["two\nlines".into()]);
        let diff = MaskedDiff::new("f", "a\n", "a\nv=two\nlines\n", &secrets);
        assert_eq!(diff.text, "--- f\n+++ f\n@@ -1 +1,2 @@\n a\n+v=********\n");
        assert_eq!((diff.added, diff.removed), (1, 0));
        // A change all inside such a secret still shows as a change.
        let secrets = Secrets::new(&["two\nlines".into(), "one\nline".into()]);
        let diff = MaskedDiff::new("f", "v=one\nline\n", "v=two\nlines\n", &secrets);
        assert_eq!(
            diff.text,
            "--- f\n+++ f\n@@ a secret changed @@\n-********\n+********\n"
        );
        assert_eq!((diff.added, diff.removed), (1, 1));
    }

    #[test]
    fn a_password_over_several_lines_that_changes_shows_line_for_line() {
        let before = "<C keystorePass=\"old\n  tail\"/>\n";
        let after = "<C keystorePass=\"new\n  tail\"/>\n";
        let diff = MaskedDiff::new("f", before, after, &Secrets::default());
        assert_eq!(
            diff.text,
            "--- f\n+++ f\n@@ -1,2 +1,2 @@\n-<C keystorePass=\"********\n+<C keystorePass=\"********\n   ********\"/>\n"
        );
    }
}
