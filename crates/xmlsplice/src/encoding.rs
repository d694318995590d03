//! Reading bytes in the encoding a document declares, and writing them back.
//!
//! The parser wants UTF-8 text, while Carbon files mostly declare ISO-8859-1 and
//! rarely hold anything but ASCII. A document is decoded once when it is
//! opened and encoded once when it is rendered. Latin-1 maps each byte to one
//! character, so an unedited document comes back byte for byte. Only the three
//! encodings Carbon files use are supported; anything else is refused rather
//! than guessed at.

use crate::error::{Error, ErrorKind, TextPos};

/// A document's character encoding, as declared in its XML declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8, the default when nothing is declared.
    Utf8 {
        /// Whether the file starts with a byte order mark; it is written back.
        bom: bool,
    },
    /// ISO-8859-1 (Latin-1): one byte per character, U+0000 to U+00FF.
    Latin1,
    /// US-ASCII: bytes 0 to 127 only.
    Ascii,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl Encoding {
    /// The encoding's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 { .. } => "UTF-8",
            Encoding::Latin1 => "ISO-8859-1",
            Encoding::Ascii => "US-ASCII",
        }
    }

    /// Whether `ch` can be written in this encoding as itself.
    pub fn can_encode(self, ch: char) -> bool {
        match self {
            Encoding::Utf8 { .. } => true,
            Encoding::Latin1 => (ch as u32) <= 0xFF,
            Encoding::Ascii => ch.is_ascii(),
        }
    }

    /// Finds the encoding of `bytes` from a byte order mark or the XML declaration.
    pub fn detect(bytes: &[u8]) -> Result<Encoding, Error> {
        if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
            return Err(Error::at(
                ErrorKind::UnsupportedEncoding("UTF-16".into()),
                TextPos { line: 1, column: 1 },
            ));
        }
        let bom = bytes.starts_with(UTF8_BOM);
        let rest = if bom { &bytes[3..] } else { bytes };
        let Some((label, offset)) = declared_encoding(rest) else {
            return Ok(Encoding::Utf8 { bom });
        };
        let normalized = label.to_ascii_lowercase().replace('_', "-");
        let encoding = match normalized.as_str() {
            "utf-8" | "utf8" => Encoding::Utf8 { bom },
            "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1" => Encoding::Latin1,
            "us-ascii" | "ascii" => Encoding::Ascii,
            _ => {
                let pos = TextPos {
                    line: 1,
                    column: offset as u32 + 1,
                };
                return Err(Error::at(ErrorKind::UnsupportedEncoding(label.into()), pos));
            }
        };
        if bom && encoding != (Encoding::Utf8 { bom }) {
            // A UTF-8 byte order mark in front of another declared encoding is a
            // contradiction; refuse it instead of picking one.
            return Err(Error::at(
                ErrorKind::UnsupportedEncoding(format!("{label} after a UTF-8 byte order mark")),
                TextPos { line: 1, column: 1 },
            ));
        }
        Ok(encoding)
    }

    /// Decodes `bytes` (in this encoding) to text, without the byte order mark.
    pub fn decode(self, bytes: &[u8]) -> Result<String, Error> {
        // The one copy a borrowed text needs; the rest is `decode_owned`'s.
        self.decode_owned(bytes.to_vec())
    }

    /// As [`Encoding::decode`], taking `bytes` over: UTF-8 and ASCII text is
    /// the bytes as they stand, so a large file is not copied.
    pub fn decode_owned(self, mut bytes: Vec<u8>) -> Result<String, Error> {
        match self {
            Encoding::Utf8 { bom } => {
                if bom {
                    bytes.drain(..UTF8_BOM.len());
                }
                String::from_utf8(bytes)
                    .map_err(|e| invalid_at(self, e.as_bytes(), e.utf8_error().valid_up_to()))
            }
            Encoding::Latin1 if !bytes.is_ascii() => Ok(bytes.iter().map(|&b| b as char).collect()),
            Encoding::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
                Some(at) => Err(invalid_at(self, &bytes, at)),
                None => Ok(String::from_utf8(bytes).expect("ASCII is UTF-8")),
            },
            // ASCII is valid UTF-8 as it stands: the common Latin-1 file.
            Encoding::Latin1 => Ok(String::from_utf8(bytes).expect("ASCII is UTF-8")),
        }
    }

    /// Encodes `text` in this encoding, adding the byte order mark if the
    /// original had one.
    ///
    /// Edits turn characters the encoding cannot hold into character
    /// references before they get here, so a failure here means an edit
    /// put such a character where no reference is allowed.
    pub fn encode(self, text: &str) -> Result<Vec<u8>, Error> {
        match self {
            Encoding::Utf8 { bom } => {
                let mut out = Vec::with_capacity(text.len() + 3);
                if bom {
                    out.extend_from_slice(UTF8_BOM);
                }
                out.extend_from_slice(text.as_bytes());
                Ok(out)
            }
            Encoding::Latin1 | Encoding::Ascii => {
                if text.is_ascii() {
                    return Ok(text.as_bytes().to_vec());
                }
                let mut out = Vec::with_capacity(text.len());
                for (offset, ch) in text.char_indices() {
                    if !self.can_encode(ch) {
                        return Err(Error::at(
                            ErrorKind::Unencodable {
                                ch,
                                encoding: self.name(),
                            },
                            TextPos::of_offset(text, offset),
                        ));
                    }
                    out.push(ch as u32 as u8);
                }
                Ok(out)
            }
        }
    }
}

/// The error for an invalid byte at `at`, positioned by the valid text before it.
fn invalid_at(encoding: Encoding, bytes: &[u8], at: usize) -> Error {
    // Everything before `at` decoded fine, so it is valid UTF-8 in both cases.
    let before = std::str::from_utf8(&bytes[..at]).unwrap_or("");
    Error::at(
        ErrorKind::InvalidEncoding {
            encoding: encoding.name(),
        },
        TextPos::of_offset(before, before.len()),
    )
}

/// The `encoding` pseudo-attribute of an XML declaration, with its byte offset.
fn declared_encoding(bytes: &[u8]) -> Option<(&str, usize)> {
    if !bytes.starts_with(b"<?xml") || !bytes.get(5).is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let end = bytes.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&bytes[..end]).ok()?;
    let key = decl.find("encoding")?;
    let after = decl[key + "encoding".len()..].trim_start();
    let after = after.strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|&c| c == '"' || c == '\'')?;
    let value = &after[1..];
    let close = value.find(quote)?;
    let offset = decl.len() - value.len();
    Some((&value[..close], offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_declared_encodings() {
        let cases: [(&[u8], Encoding); 6] = [
            (b"<root/>", Encoding::Utf8 { bom: false }),
            (b"\xEF\xBB\xBF<root/>", Encoding::Utf8 { bom: true }),
            (
                b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>",
                Encoding::Latin1,
            ),
            (
                b"<?xml version='1.0' encoding='utf-8'?><a/>",
                Encoding::Utf8 { bom: false },
            ),
            (
                b"<?xml version=\"1.0\" encoding = \"us-ascii\" ?><a/>",
                Encoding::Ascii,
            ),
            (
                b"<?xml version=\"1.0\"?><a/>",
                Encoding::Utf8 { bom: false },
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(Encoding::detect(bytes).unwrap(), expected, "{bytes:?}");
        }
    }

    #[test]
    fn refuses_other_encodings_with_the_column_of_the_name() {
        let err =
            Encoding::detect(b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a/>").unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::UnsupportedEncoding("windows-1252".into())
        );
        assert_eq!(
            err.position(),
            Some(TextPos {
                line: 1,
                column: 31
            })
        );
        assert!(Encoding::detect(b"\xFF\xFE<\0a\0/\0>\0").is_err());
    }

    #[test]
    fn latin1_round_trips_every_byte() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        let text = Encoding::Latin1.decode(&bytes).unwrap();
        assert_eq!(text.chars().count(), 256);
        assert_eq!(Encoding::Latin1.encode(&text).unwrap(), bytes);
    }

    #[test]
    fn invalid_utf8_is_reported_where_it_starts() {
        let err = Encoding::Utf8 { bom: false }
            .decode(b"<a>\n  ok \xC3(</a>")
            .unwrap_err();
        assert_eq!(err.position(), Some(TextPos { line: 2, column: 6 }));
        let err = Encoding::Ascii.decode(b"<a>\xE9</a>").unwrap_err();
        assert_eq!(err.position(), Some(TextPos { line: 1, column: 4 }));
        // Counted from after a byte order mark, as the text is.
        let err = Encoding::Utf8 { bom: true }
            .decode(b"\xEF\xBB\xBF<a>\n\xC3(</a>")
            .unwrap_err();
        assert_eq!(err.position(), Some(TextPos { line: 2, column: 1 }));
    }

    #[test]
    fn bom_is_stripped_and_restored() {
        let enc = Encoding::Utf8 { bom: true };
        let text = enc.decode(b"\xEF\xBB\xBF<a/>").unwrap();
        assert_eq!(text, "<a/>");
        assert_eq!(enc.encode(&text).unwrap(), b"\xEF\xBB\xBF<a/>");
    }

    #[test]
    fn owned_utf8_and_ascii_bytes_become_the_text_without_a_copy() {
        for (encoding, text) in [
            (Encoding::Utf8 { bom: false }, "<a>\u{e9}</a>"),
            (Encoding::Latin1, "<a>ascii</a>"),
            (Encoding::Ascii, "<a>ascii</a>"),
        ] {
            let bytes = text.as_bytes().to_vec();
            let buffer = bytes.as_ptr();
            let decoded = encoding.decode_owned(bytes).unwrap();
            assert_eq!(decoded, text);
            assert_eq!(decoded.as_ptr(), buffer, "{encoding:?} copied");
        }
        // The byte order mark goes in place.
        let decoded = Encoding::Utf8 { bom: true }
            .decode_owned(b"\xEF\xBB\xBF<a/>".to_vec())
            .unwrap();
        assert_eq!(decoded, "<a/>");
    }

    #[test]
    fn encoding_refuses_what_latin1_cannot_hold() {
        let err = Encoding::Latin1.encode("<a>\u{20AC}</a>").unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::Unencodable { ch: '\u{20AC}', .. }
        ));
    }
}
