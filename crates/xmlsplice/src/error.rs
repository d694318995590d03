//! Errors, each with the place in the text it is about.
//!
//! An [`Error`] carries a [`ErrorKind`], the line and column it points at (when
//! there is one), and the file name once a caller has attached it with
//! [`Error::with_path`]. It prints the way compilers and grep do:
//! `conf/axis2.xml:12:5: message`, so an operator can jump straight to it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A line and column in a document's text, both counted from 1.
///
/// Columns count characters, not bytes, like roxmltree's `TextPos`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TextPos {
    /// Line number, from 1.
    pub line: u32,
    /// Column number in characters, from 1.
    pub column: u32,
}

impl TextPos {
    /// The line and column of byte `offset` in `text`, both counted from 1.
    ///
    /// The column counts characters (`char`s), not bytes, from the start of
    /// the line; only `\n` ends a line, so a `\r` before it is a character
    /// of the line. An offset inside a character points at that character,
    /// and one past the end just after the last character.
    pub fn of_offset(text: &str, offset: usize) -> TextPos {
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &text[..end];
        // memchr's vectorised count: the findings of a fleet's plan place
        // hundreds of elements in files of several thousand lines.
        let line_start = memchr::memrchr(b'\n', before.as_bytes()).map_or(0, |i| i + 1);
        let line = memchr::memchr_iter(b'\n', before.as_bytes()).count() + 1;
        let column = before[line_start..].chars().count() + 1;
        TextPos {
            line: line as u32,
            column: column as u32,
        }
    }
}

/// Where a text's lines start, and how many characters come before each
/// block of it, counted once: then each position in it costs a binary
/// search and a count within one block, where [`TextPos::of_offset`] counts
/// from the start (an error listing thousands of matches in a large file,
/// or thousands of findings, would cost their number times its size).
#[derive(Debug)]
pub struct Lines {
    starts: Vec<usize>,
    chars_before_block: Vec<usize>,
    /// The length of the text counted, to catch another text given.
    len: usize,
}

/// The bytes of a block of [`Lines`].
const BLOCK: usize = 4096;

/// A byte that starts a character (not a UTF-8 continuation byte).
fn starts_char(byte: &u8) -> bool {
    byte & 0xC0 != 0x80
}

impl Lines {
    /// The lines of `text`, counted once.
    pub fn of(text: &str) -> Lines {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        let mut chars_before_block = vec![0];
        for block in bytes.chunks(BLOCK) {
            let before = chars_before_block[chars_before_block.len() - 1];
            chars_before_block.push(before + block.iter().filter(|b| starts_char(b)).count());
        }
        Lines {
            starts,
            chars_before_block,
            len: text.len(),
        }
    }

    /// The line holding byte `offset`, counted from 1 (a line feed is its
    /// line's last byte).
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }

    /// Where the line holding byte `offset` starts.
    pub(crate) fn line_start(&self, offset: usize) -> usize {
        self.starts[self.line_of(offset) - 1]
    }

    /// Where the first line feed at or after byte `offset` is: the end of
    /// its line.
    pub(crate) fn newline_from(&self, offset: usize) -> Option<usize> {
        self.starts.get(self.line_of(offset)).map(|start| start - 1)
    }

    /// [`TextPos::of_offset`] of `offset` in `text`, the text these lines
    /// were counted in.
    pub fn pos(&self, text: &str, offset: usize) -> TextPos {
        assert_eq!(text.len(), self.len, "the text these lines were counted in");
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let line = self.line_of(end);
        let line_start = self.starts[line - 1];
        let chars_before = |at: usize| {
            let block = at / BLOCK;
            let counted = text.as_bytes()[block * BLOCK..at].iter();
            self.chars_before_block[block] + counted.filter(|b| starts_char(b)).count()
        };
        TextPos {
            line: line as u32,
            column: (chars_before(end) - chars_before(line_start) + 1) as u32,
        }
    }
}

impl TextPos {
    /// The byte offset of this position in `text` (clamped to its end).
    pub(crate) fn offset_in(self, text: &str) -> usize {
        let mut line_start = 0;
        for _ in 1..self.line {
            match text[line_start..].find('\n') {
                Some(i) => line_start += i + 1,
                None => return text.len(),
            }
        }
        text[line_start..]
            .char_indices()
            .nth(self.column.saturating_sub(1) as usize)
            .map_or(text.len(), |(i, _)| line_start + i)
    }
}

impl fmt::Display for TextPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not well-formed XML (the parser's own message).
    Malformed(String),
    /// The declared encoding is not one this crate reads and writes.
    UnsupportedEncoding(String),
    /// A byte sequence that is not valid in the document's encoding.
    InvalidEncoding {
        /// The encoding the bytes were read as.
        encoding: &'static str,
    },
    /// A selector path that does not follow the path syntax.
    InvalidPath {
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: String,
        /// Where in the path (from 1, in characters), when it is one place.
        column: Option<usize>,
    },
    /// A path that had to match exactly one element matched none.
    NotFound {
        /// The path as written.
        path: String,
    },
    /// A path that had to match exactly one element matched several.
    Ambiguous {
        /// The path as written.
        path: String,
        /// Where the matches are.
        matches: Vec<TextPos>,
    },
    /// Two staged edits touch the same bytes.
    OverlappingEdits {
        /// What the first edit does.
        first: &'static str,
        /// What the second edit does.
        second: &'static str,
        /// Where the second edit starts.
        second_at: TextPos,
    },
    /// A markup fragment given for insertion is not a single well-formed element.
    InvalidFragment(String),
    /// A value holds a character that XML 1.0 does not allow at all.
    InvalidChar(char),
    /// An element or attribute name that is not an XML name.
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A character the document's encoding cannot hold, in a place where a
    /// character reference is not allowed (a name or a comment).
    Unencodable {
        /// The character.
        ch: char,
        /// The document's encoding.
        encoding: &'static str,
    },
    /// An edit that this element's content does not allow.
    Unsupported(String),
    /// The edited text no longer parses: a fragment or an edit broke it.
    EditBrokeDocument(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Malformed(msg) => write!(f, "malformed XML: {msg}"),
            ErrorKind::UnsupportedEncoding(name) => write!(
                f,
                "unsupported encoding {name:?} (UTF-8, ISO-8859-1 and US-ASCII are supported)"
            ),
            ErrorKind::InvalidEncoding { encoding } => {
                write!(f, "byte sequence is not valid {encoding}")
            }
            ErrorKind::InvalidPath {
                path,
                reason,
                column: Some(column),
            } => {
                write!(f, "invalid path {path:?} at column {column}: {reason}")
            }
            ErrorKind::InvalidPath { path, reason, .. } => {
                write!(f, "invalid path {path:?}: {reason}")
            }
            ErrorKind::NotFound { path } => write!(f, "no element matches {path:?}"),
            ErrorKind::Ambiguous { path, matches } => {
                write!(f, "{} elements match {path:?} where one was expected (at ", matches.len())?;
                for (i, pos) in matches.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{pos}")?;
                }
                f.write_str(")")
            }
            ErrorKind::OverlappingEdits {
                first,
                second,
                second_at,
            } => write!(f, "edits overlap: {first} and {second} (at {second_at}) touch the same text"),
            ErrorKind::InvalidFragment(msg) => write!(f, "invalid XML fragment: {msg}"),
            ErrorKind::InvalidChar(ch) => {
                write!(f, "character U+{:04X} is not allowed in XML", *ch as u32)
            }
            ErrorKind::InvalidName { name, reason } => {
                write!(f, "invalid XML name {name:?}: {reason}")
            }
            ErrorKind::Unencodable { ch, encoding } => write!(
                f,
                "character U+{:04X} cannot be written in {encoding} here (only text and attribute values can hold character references)",
                *ch as u32
            ),
            ErrorKind::Unsupported(msg) => f.write_str(msg),
            ErrorKind::EditBrokeDocument(msg) => {
                write!(f, "the edited document does not parse: {msg}")
            }
        }
    }
}

/// An error, with where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    pos: Option<TextPos>,
    path: Option<PathBuf>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error {
            kind,
            pos: None,
            path: None,
        }
    }

    pub(crate) fn at(kind: ErrorKind, pos: TextPos) -> Error {
        Error {
            kind,
            pos: Some(pos),
            path: None,
        }
    }

    /// Names the file this error is about; its message then starts with it.
    pub fn with_path(mut self, path: impl AsRef<Path>) -> Error {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The line and column the error points at, if it points at one.
    pub fn position(&self) -> Option<TextPos> {
        self.pos
    }

    /// The file, if a caller named it.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.pos) {
            (Some(path), Some(pos)) => write!(f, "{}:{pos}: ", path.display())?,
            (Some(path), None) => write!(f, "{}: ", path.display())?,
            (None, Some(pos)) => write!(f, "{pos}: ")?,
            (None, None) => {}
        }
        self.kind.fmt(f)
    }
}

impl std::error::Error for Error {}

/// Converts a roxmltree error on `text` into ours, keeping its position.
pub(crate) fn from_parse(err: &roxmltree::Error, text: &str) -> Error {
    let message = strip_position(&err.to_string());
    Error::at(
        ErrorKind::Malformed(message),
        TextPos::of_offset(text, offset_of(err, text)),
    )
}

/// Where in `parsed` roxmltree found `err`, as a byte offset. A text that
/// ends too soon, inside markup or with its root element open, is reported
/// at its end: roxmltree gives those errors no position (1:1), which sent
/// readers of a truncated file to its first line.
pub(crate) fn offset_of(err: &roxmltree::Error, parsed: &str) -> usize {
    match err {
        roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode => {
            parsed.len()
        }
        _ => {
            let pos = err.pos();
            TextPos {
                line: pos.row,
                column: pos.col,
            }
            .offset_in(parsed)
        }
    }
}

/// roxmltree appends " at 3:7" to its messages; we print the position in front.
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at ") {
        Some(i)
            if message[i + 4..]
                .split(':')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            message[..i].to_string()
        }
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_character_columns() {
        let text = "ab\ncé\r\nxyz";
        assert_eq!(TextPos::of_offset(text, 0), TextPos { line: 1, column: 1 });
        assert_eq!(TextPos::of_offset(text, 3), TextPos { line: 2, column: 1 });
        // 'é' is two bytes but one column.
        assert_eq!(TextPos::of_offset(text, 6), TextPos { line: 2, column: 3 });
        // An offset inside 'é' points at it.
        assert_eq!(TextPos::of_offset(text, 5), TextPos { line: 2, column: 2 });
        assert_eq!(TextPos::of_offset(text, 8), TextPos { line: 3, column: 1 });
        assert_eq!(TextPos::of_offset(text, 99), TextPos { line: 3, column: 4 });
    }

    /// Counted once, lines say what counting from the start says, at
    /// every offset: multi-byte characters, `\r\n`, lines longer than a
    /// block, a block boundary inside a character.
    #[test]
    fn lines_counted_once_give_every_position_alike() {
        let long = "é".repeat(3000) + "x".repeat(5000).as_str();
        for text in [
            "",
            "ab\ncé\r\nxyz",
            "\n\n",
            long.as_str(),
            &format!("a\n{long}\nb\n{long}"),
        ] {
            let lines = Lines::of(text);
            for offset in 0..=text.len() + 1 {
                assert_eq!(
                    lines.pos(text, offset),
                    TextPos::of_offset(text, offset),
                    "offset {offset}"
                );
            }
        }
    }

    #[test]
    fn positions_map_back_to_offsets() {
        let text = "ab\ncé\r\nxyz";
        for offset in [0, 1, 3, 4, 6, 8, 10] {
            assert_eq!(TextPos::of_offset(text, offset).offset_in(text), offset);
        }
    }

    #[test]
    fn display_puts_path_and_position_first() {
        let err = Error::at(
            ErrorKind::NotFound { path: "a/b".into() },
            TextPos { line: 3, column: 7 },
        )
        .with_path("conf/x.xml");
        assert_eq!(
            err.to_string(),
            "conf/x.xml:3:7: no element matches \"a/b\""
        );
    }

    #[test]
    fn parser_positions_move_to_the_front() {
        assert_eq!(
            strip_position("unexpected end of stream at 2:5"),
            "unexpected end of stream"
        );
        assert_eq!(strip_position("look at this"), "look at this");
    }
}
