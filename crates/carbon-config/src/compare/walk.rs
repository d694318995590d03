//! The files two homes hold under `repository/conf` (and the jars of
//! `repository/components/lib`), read beneath each home and compared by
//! kind: XML, TOML, or bytes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use xmlsplice::{Document, TreeCache};

use super::{align, Difference, DifferenceKind, Side};
use crate::{CarbonHome, Result, DEFAULT_MAX_FILE_SIZE};

const CONF: &str = "repository/conf";
const LIB: &str = "repository/components/lib";

/// How deep and how many: a home's conf tree has a few dozen files a few
/// folders down; one that does not end is refused, not walked.
const MAX_DEPTH: usize = 12;
const MAX_FILES: usize = 20_000;

/// Compares `before`, with the files of `edited` in place of its own, and
/// `after`.
pub(super) fn compare(
    before: &CarbonHome,
    edited: &BTreeMap<PathBuf, Vec<u8>>,
    after: &CarbonHome,
    trees: Option<&TreeCache>,
) -> Result<Vec<Difference>> {
    let mut files: BTreeSet<PathBuf> = edited.keys().cloned().collect();
    for home in [before, after] {
        list(home, Path::new(CONF), 0, &mut files, true)?;
        list(home, Path::new(LIB), 0, &mut files, false)?;
    }
    let mut out = Vec::new();
    for rel in files {
        let read = |home: &CarbonHome| -> Result<Option<Vec<u8>>> {
            Ok(home.root().read(&rel, DEFAULT_MAX_FILE_SIZE)?)
        };
        let a = match edited.get(&rel) {
            Some(bytes) => Some(bytes.clone()),
            None => read(before)?,
        };
        let b = read(after)?;
        let mut push = |kind| {
            out.push(Difference {
                file: rel.clone(),
                kind,
            })
        };
        match (a, b) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => {
                for kind in compare_file(&rel, &a, &b, trees) {
                    push(kind);
                }
            }
            (Some(_), None) => push(DifferenceKind::OnlyIn { side: Side::Before }),
            (None, Some(_)) => push(DifferenceKind::OnlyIn { side: Side::After }),
            (None, None) => {}
        }
    }
    Ok(out)
}

/// The regular files under `rel` (with `deep`, in its folders too).
fn list(
    home: &CarbonHome,
    rel: &Path,
    depth: usize,
    found: &mut BTreeSet<PathBuf>,
    deep: bool,
) -> Result<()> {
    let dir = match home.root().dir(rel) {
        Ok(dir) => dir,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for entry in dir.list()? {
        let path = rel.join(&entry.name);
        if entry.is_dir {
            if deep && depth < MAX_DEPTH {
                list(home, &path, depth + 1, found, deep)?;
            }
        } else if found.len() < MAX_FILES {
            found.insert(path);
        } else {
            return Err(crate::Error::Invalid {
                file: home.root().display_path(rel),
                message: format!("more than {MAX_FILES} files to compare"),
            });
        }
    }
    Ok(())
}

/// The differences of one file both homes hold, with different bytes.
fn compare_file(rel: &Path, a: &[u8], b: &[u8], trees: Option<&TreeCache>) -> Vec<DifferenceKind> {
    let unreadable = |e: String| {
        vec![DifferenceKind::Content {
            unreadable: Some(e),
        }]
    };
    if rel == Path::new(crate::files::SPARK_DEFAULTS) {
        let (a, b) = (properties(a), properties(b));
        let values = |all: &[(String, String)]| -> Vec<(String, toml::Value)> {
            all.iter()
                .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
                .collect()
        };
        return keyed_differences(&values(&a), &values(&b))
            .into_iter()
            .map(|(key, before, after)| DifferenceKind::Property {
                key,
                before: before.and_then(|v| v.as_str().map(str::to_string)),
                after: after.and_then(|v| v.as_str().map(str::to_string)),
            })
            .collect();
    }
    match rel.extension().and_then(|e| e.to_str()) {
        Some("xml") => match (parse(a, trees), parse(b, trees)) {
            (Ok(a), Ok(b)) => align::compare_documents(&a, &b)
                .into_iter()
                .map(DifferenceKind::Xml)
                .collect(),
            (Err(e), _) | (_, Err(e)) => unreadable(e.to_string()),
        },
        Some("toml") => match (toml_table(a), toml_table(b)) {
            (Ok(a), Ok(b)) => toml_differences(&a, &b),
            (Err(e), _) | (_, Err(e)) => unreadable(e),
        },
        _ => vec![DifferenceKind::Content { unreadable: None }],
    }
}

fn parse(
    bytes: &[u8],
    trees: Option<&TreeCache>,
) -> std::result::Result<Document, xmlsplice::Error> {
    match trees {
        Some(trees) => Document::parse_with(bytes, trees),
        None => Document::parse(bytes),
    }
}

/// A TOML file's table, unless it is over the size a TOML file may have
/// ([`crate::deployment::size_limit`]).
fn toml_table(bytes: &[u8]) -> std::result::Result<toml::Table, String> {
    crate::deployment::check_size(bytes.len(), DEFAULT_MAX_FILE_SIZE)?;
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    text.parse::<toml::Table>().map_err(|e| e.to_string())
}

/// Key by key, each table's keys dotted; arrays and values compared whole.
fn toml_differences(a: &toml::Table, b: &toml::Table) -> Vec<DifferenceKind> {
    let (mut fa, mut fb) = (Vec::new(), Vec::new());
    flatten("", a, &mut fa);
    flatten("", b, &mut fb);
    keyed_differences(&fa, &fb)
        .into_iter()
        .map(|(key, before, after)| DifferenceKind::Toml {
            key,
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
        })
        .collect()
}

/// Each key whose value differs, with its values (`None`: absent): in
/// `b`'s order, then those `a` alone has.
#[allow(clippy::type_complexity)]
fn keyed_differences<V: Clone + PartialEq>(
    a: &[(String, V)],
    b: &[(String, V)],
) -> Vec<(String, Option<V>, Option<V>)> {
    // Each side by key (its first value), not searched: the home's owner
    // may write tens of thousands of keys.
    fn by_key<V>(all: &[(String, V)]) -> HashMap<&str, &V> {
        let mut map = HashMap::with_capacity(all.len());
        for (key, value) in all {
            map.entry(key.as_str()).or_insert(value);
        }
        map
    }
    let (in_a, in_b) = (by_key(a), by_key(b));
    let mut out = Vec::new();
    for (key, value) in b {
        let before = in_a.get(key.as_str()).map(|&v| v.clone());
        if before.as_ref() != Some(value) {
            out.push((key.clone(), before, Some(value.clone())));
        }
    }
    for (key, value) in a {
        if !in_b.contains_key(key.as_str()) {
            out.push((key.clone(), Some(value.clone()), None));
        }
    }
    out
}

/// The active `key value` lines of a spark-defaults.conf (`#` starts a
/// comment), each key once: a key on several lines has its last value, as
/// Spark reads the file.
fn properties(bytes: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    // Where each key is in `out`.
    let mut at: HashMap<String, usize> = HashMap::new();
    for line in String::from_utf8_lossy(bytes).lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(char::is_whitespace) {
            Some((key, value)) => (key.to_string(), value.trim().to_string()),
            None => (line.to_string(), String::new()),
        };
        match at.get(&key) {
            Some(&i) => out[i].1 = value,
            None => {
                at.insert(key.clone(), out.len());
                out.push((key, value));
            }
        }
    }
    out
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (key, value) in table {
        let bare = key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
        let key = match (prefix.is_empty(), bare) {
            (true, true) => key.clone(),
            (true, false) => format!("{key:?}"),
            (false, true) => format!("{prefix}.{key}"),
            (false, false) => format!("{prefix}.{key:?}"),
        };
        match value {
            toml::Value::Table(inner) => flatten(&key, inner, out),
            other => out.push((key, other.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{properties, toml_table};

    #[test]
    fn a_toml_file_over_its_limit_is_not_parsed() {
        let limit = crate::deployment::size_limit(crate::DEFAULT_MAX_FILE_SIZE) as usize;
        let mut text = b"a = 1\n#".to_vec();
        text.resize(limit, b'x');
        assert!(toml_table(&text).is_ok(), "at the limit");
        text.push(b'x');
        assert_eq!(
            toml_table(&text).unwrap_err(),
            format!(
                "{} bytes is over the {limit}-byte limit for a TOML file, a sixteenth of the \
                 limit for a file",
                limit + 1
            )
        );
    }

    #[test]
    fn a_spark_key_on_several_lines_has_its_last_value() {
        let conf =
            b"# a comment\nspark.executor.memory 1g\nspark.cores 2\nspark.executor.memory  2g\n";
        assert_eq!(
            properties(conf),
            [
                ("spark.executor.memory".to_string(), "2g".to_string()),
                ("spark.cores".to_string(), "2".to_string()),
            ]
        );
    }
}
