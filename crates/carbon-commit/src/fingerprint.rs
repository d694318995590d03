//! What tells that a file holds the bytes it was planned from, without
//! keeping them.

use std::io::Read;

use serde::{Deserialize, Serialize};

/// A file's length and hash. XXH3, because every changed file is hashed
/// several times (staged, checked before its swap, checked again after it)
/// and a cryptographic hash would cost more than the rest of a commit; no
/// one crafts a collision against their own configuration while it is
/// being applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fingerprint {
    pub len: u64,
    pub xxh3: u64,
}

/// The most of a file read at once to fingerprint it: a large file is
/// hashed piece by piece, not held whole (a 50 MB axis2.xml would cost 50 MB
/// of fresh memory, and its page faults, to be checked).
const READ_PIECE: usize = 1 << 20;

impl Fingerprint {
    pub fn of(bytes: &[u8]) -> Fingerprint {
        Fingerprint {
            len: bytes.len() as u64,
            xxh3: xxhash_rust::xxh3::xxh3_64(bytes),
        }
    }

    /// What the file `name` in `dir` holds, told from each of `expected`
    /// (see [`Fingerprint::of_file_like`]); `None` when it does not exist.
    pub fn of_name_like(
        dir: &beneath::Dir,
        name: &std::ffi::OsStr,
        expected: &[Option<Fingerprint>],
    ) -> crate::Result<Option<Fingerprint>> {
        let Some((mut file, meta)) = dir.open_read(name)? else {
            return Ok(None);
        };
        Fingerprint::of_file_like(&mut file, meta.len, expected)
            .map(Some)
            .map_err(|e| crate::Error::io("cannot read", dir.shown(name), e))
    }

    /// The fingerprint of `file`, whose stat says `len` bytes, as far as it
    /// takes to tell it from each of `expected`: read only when one of them
    /// has that length (a file of another length is another file, whatever
    /// it holds, and a sparse terabyte put in a file's place is not read),
    /// and then no further than one byte past `len` (a file that grows
    /// while it is read is another file too).
    pub fn of_file_like(
        file: &mut impl Read,
        len: u64,
        expected: &[Option<Fingerprint>],
    ) -> std::io::Result<Fingerprint> {
        if !expected.iter().flatten().any(|e| e.len == len) {
            return Ok(Fingerprint { len, xxh3: 0 });
        }
        Fingerprint::of_file(&mut file.take(len.saturating_add(1)), len)
    }

    /// The fingerprint of what `file` holds from where it stands to its end,
    /// read in pieces; the same as [`Fingerprint::of`] those bytes. `len` is
    /// the length expected (its stat's): a file that holds exactly that
    /// much is read in one piece and a read that finds the end.
    pub fn of_file(file: &mut impl Read, len: u64) -> std::io::Result<Fingerprint> {
        let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
        let mut piece = vec![0; (len as usize).saturating_add(1).min(READ_PIECE)];
        let mut read = 0;
        loop {
            match file.read(&mut piece) {
                Ok(0) => break,
                Ok(n) => {
                    hasher.update(&piece[..n]);
                    read += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Fingerprint {
            len: read,
            xxh3: hasher.digest(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_in_pieces_has_the_fingerprint_of_its_bytes() {
        // Lengths around XXH3's internal block sizes and the read piece.
        for len in [
            0,
            1,
            16,
            17,
            128,
            129,
            240,
            241,
            1024,
            100_000,
            READ_PIECE + 7,
        ] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            for expected in [len as u64, 0, 2 * len as u64] {
                let mut reader = std::io::Cursor::new(&bytes);
                let read = Fingerprint::of_file(&mut reader, expected).unwrap();
                assert_eq!(
                    read,
                    Fingerprint::of(&bytes),
                    "{len} bytes, {expected} expected"
                );
            }
        }
    }
}
