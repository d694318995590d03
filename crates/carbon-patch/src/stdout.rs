//! Standard output as the commands write to it.
//!
//! Its errors say that they are its own: a full disk under a redirection
//! otherwise reads as if a home's disk were full (the kind is kept, so a
//! closed pipe is still recognised).
//!
//! A JSON document also has Unicode's bidirectional embeddings, overrides
//! and isolates (U+202A to U+202E, U+2066 to U+2069) written as `\u202e`
//! escapes: serde_json writes them as they are, and a value from a home
//! holding one would show, wherever the document is read, as another
//! ("Trojan Source"). In JSON they can only stand inside strings, where the
//! escape means the same character, so the document's meaning is unchanged.
//! Text output escapes them where it is made (the `visible` crate).

use std::io::Write;

/// Standard output (or any writer), its errors tagged, and bidirectional
/// controls escaped when it carries JSON.
pub struct Stdout<W: Write> {
    inner: W,
    json: bool,
    /// The first bytes of a character a write ended in the middle of.
    pending: Vec<u8>,
}

/// The lead byte of every bidirectional control in UTF-8.
const LEAD: u8 = 0xE2;

impl<W: Write> Stdout<W> {
    pub fn new(inner: W, json: bool) -> Self {
        Stdout {
            inner,
            json,
            pending: Vec::new(),
        }
    }

    fn tagged(err: std::io::Error) -> std::io::Error {
        std::io::Error::new(
            err.kind(),
            format!("cannot write to standard output: {err}"),
        )
    }

    /// `bytes` (after what is pending) with each bidirectional control
    /// escaped; a character cut off at the end waits for the next write.
    fn escaped(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut all = std::mem::take(&mut self.pending);
        all.extend_from_slice(bytes);
        let mut out = Vec::with_capacity(all.len());
        let mut i = 0;
        while i < all.len() {
            if all[i] != LEAD {
                out.push(all[i]);
                i += 1;
                continue;
            }
            let Some(sequence) = all.get(i..i + 3) else {
                self.pending = all[i..].to_vec();
                break;
            };
            match std::str::from_utf8(sequence)
                .ok()
                .and_then(|s| s.chars().next())
            {
                Some(c) if visible::is_bidirectional(c) => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                _ => out.extend_from_slice(sequence),
            }
            i += 3;
        }
        out
    }
}

impl<W: Write> Write for Stdout<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.json || (self.pending.is_empty() && !buf.contains(&LEAD)) {
            return self.inner.write(buf).map_err(Self::tagged);
        }
        let escaped = self.escaped(buf);
        self.inner.write_all(&escaped).map_err(Self::tagged)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.inner.write_all(&pending).map_err(Self::tagged)?;
        self.inner.flush().map_err(Self::tagged)
    }
}

impl<W: Write> Drop for Stdout<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(json: bool, pieces: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut stdout = Stdout::new(&mut out, json);
            for piece in pieces {
                stdout.write_all(piece).unwrap();
            }
            stdout.flush().unwrap();
        }
        out
    }

    #[test]
    fn bidirectional_controls_in_json_are_escaped_wherever_a_write_cuts() {
        let text = "{\"path\": \"conf/\u{202e}lmx.xml \u{2014} \u{2069}\"}";
        let expected = b"{\"path\": \"conf/\\u202elmx.xml \xE2\x80\x94 \\u2069\"}".to_vec();
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(written(true, &[a, b]), expected, "cut at {cut}");
        }
        let value: serde_json::Value = serde_json::from_slice(&expected).unwrap();
        assert_eq!(value["path"], "conf/\u{202e}lmx.xml \u{2014} \u{2069}");
        // Text output is left to `visible`; a lone lead byte at the end stays.
        assert_eq!(written(false, &[text.as_bytes()]), text.as_bytes());
        assert_eq!(written(true, &[b"x\xE2"]), b"x\xE2");
    }
}
