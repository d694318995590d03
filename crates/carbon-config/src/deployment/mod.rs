//! deployment.toml, where a Carbon 4.5+ home keeps its configuration: the
//! server renders its XML from the templates under
//! `repository/resources/conf/templates` at every start, so a setting is a
//! key here, never an XML edit.
//!
//! Edits go through `toml_edit`, which keeps every comment, blank line and
//! key order of the file: a key that holds the value already changes
//! nothing, a changed one keeps its place, a new one goes at the end of
//! its table, and a missing table just after WSO2's commented-out sample
//! of it (`#[clustering]` and its comment lines), else at the end of the
//! file. A key is written only if the pack takes it: its templates,
//! `default.json`, `infer.json`, `key-mappings.json` or deployment.toml
//! name it ([`PackKeys`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table};

use crate::error::{Error, Result};
use crate::home::CarbonHome;
use crate::session::{Outcome, Session};

mod keys;
mod placement;

pub use keys::PackKeys;
use placement::beside_sample;

/// The file, relative to the home.
pub const FILE: &str = "repository/conf/deployment.toml";

/// The largest deployment.toml (or other TOML file of a home) carbon-patch
/// parses, given the limit for a file: a sixteenth of it, 4 MiB by default,
/// where a pack ships one of a few kilobytes. A TOML document takes many
/// times more memory than its text once parsed, several times what an XML
/// file takes: the home's owner could otherwise make one file cost root
/// gigabytes.
pub fn size_limit(max_file_size: u64) -> u64 {
    max_file_size / 16
}

/// Refuses a TOML file of `len` bytes over [`size_limit`] of
/// `max_file_size`, saying so.
///
/// # Errors
/// The message, for the caller to name the file in.
pub fn check_size(len: usize, max_file_size: u64) -> std::result::Result<(), String> {
    let limit = size_limit(max_file_size);
    if len as u64 > limit {
        return Err(format!(
            "{len} bytes is over the {limit}-byte limit for a TOML file, a sixteenth of the \
             limit for a file"
        ));
    }
    Ok(())
}

/// `home`'s deployment.toml, read whole and refused past [`size_limit`] of
/// `max_file_size`; `None` where the home has none. `raise`, said after
/// the message of one too large, tells how to raise the limit where the
/// command can ("" where it cannot).
///
/// # Errors
/// The file cannot be read, or is too large.
pub fn read_within(home: &CarbonHome, max_file_size: u64, raise: &str) -> Result<Option<Vec<u8>>> {
    let bytes = home.root().read(Path::new(FILE), max_file_size)?;
    if let Some(bytes) = &bytes {
        check_size(bytes.len(), max_file_size).map_err(|message| Error::Invalid {
            file: home.path().join(FILE),
            message: format!("{message}{raise}"),
        })?;
    }
    Ok(bytes)
}

/// Where a pack keeps what it renders its XML from.
const RESOURCES: &str = "repository/resources/conf";

/// A value to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A string.
    Text(String),
    /// An integer.
    Number(i64),
    /// A boolean.
    Flag(bool),
    /// An array of strings (`members = ["a:4000"]`).
    Texts(Vec<String>),
}

impl Value {
    fn to_toml(&self) -> toml_edit::Value {
        match self {
            Value::Text(s) => s.as_str().into(),
            Value::Number(n) => (*n).into(),
            Value::Flag(b) => (*b).into(),
            Value::Texts(all) => all
                .iter()
                .map(String::as_str)
                .collect::<toml_edit::Array>()
                .into(),
        }
    }

    /// Whether `item` holds this value, whatever its layout.
    fn is_in(&self, item: &Item) -> bool {
        match (self, item.as_value()) {
            (Value::Text(s), Some(v)) => v.as_str() == Some(s),
            (Value::Number(n), Some(v)) => v.as_integer() == Some(*n),
            (Value::Flag(b), Some(v)) => v.as_bool() == Some(*b),
            (Value::Texts(all), Some(toml_edit::Value::Array(a))) => {
                a.len() == all.len() && a.iter().zip(all).all(|(x, y)| x.as_str() == Some(y))
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_toml().to_string().trim())
    }
}

/// Sets `key` (dotted: `clustering.local_member_port`) to `value`, unless
/// it holds it already.
///
/// # Errors
/// The file is missing or is not TOML; a key on the way is not a table; the
/// pack does not take the key.
pub fn set(s: &mut Session, key: &str, value: &Value) -> Result<Outcome> {
    let parts: Vec<&str> = key.split('.').collect();
    set_path(s, &parts, value)
}

/// [`set`], the key given by its parts: a part may hold dots
/// (`clustering.properties."hazelcast.max.no.heartbeat.seconds"`).
///
/// # Errors
/// As [`set`].
pub fn set_path(s: &mut Session, parts: &[&str], value: &Value) -> Result<Outcome> {
    let key = written_key(parts);
    check_key(s, &parts.join("."))?;
    edit(
        s,
        &format!("{key} = {value}"),
        parts.first().copied(),
        |Parsed { doc, entries, .. }| {
            entries.clear();
            let (last, path) = parts.split_last().expect("a key has a part");
            let table = table_for(doc.as_table_mut(), path)?;
            if table.get(last).is_some_and(|item| value.is_in(item)) {
                return Ok(false);
            }
            match table.get_mut(last) {
                // Changed where it stands, its comments and layout kept.
                Some(Item::Value(old)) => {
                    let decor = old.decor().clone();
                    *old = value.to_toml();
                    *old.decor_mut() = decor;
                }
                _ => {
                    table.insert(last, toml_edit::value(value.to_toml()));
                }
            }
            Ok(true)
        },
    )
}

/// A key as TOML writes it: each part bare where it can be, else quoted.
fn written_key(parts: &[&str]) -> String {
    let written: Vec<String> = parts
        .iter()
        .map(|p| {
            match p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
            {
                true if !p.is_empty() => p.to_string(),
                _ => toml_edit::Value::from(*p).to_string().trim().to_string(),
            }
        })
        .collect();
    written.join(".")
}

/// Sets `key` of the entry of the array of tables `array` (`datasource`,
/// `apim.gateway.environment`) whose `id` key (`id`, `name`) holds the
/// given value, adding the entry when there is none.
///
/// # Errors
/// As [`set`].
pub fn set_in_entry(
    s: &mut Session,
    array: &str,
    id: (&str, &str),
    key: &str,
    value: &Value,
) -> Result<Outcome> {
    let (id_key, id) = id;
    check_key(s, &format!("{array}.{key}"))?;
    edit(
        s,
        &format!("[[{array}]] {id_key} = {id:?}: {key} = {value}"),
        array.split('.').next(),
        |Parsed {
             doc, entries: all, ..
         }| {
            let parts: Vec<&str> = array.split('.').collect();
            let (last, path) = parts.split_last().expect("an array has a name");
            let parent = table_for(doc.as_table_mut(), path)?;
            if !parent.contains_key(last) {
                parent.insert(last, Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
            }
            let Some(entries) = parent.get_mut(last).and_then(Item::as_array_of_tables_mut) else {
                return Err(format!("{array} is not an array of tables ([[{array}]])"));
            };
            let places = all
                .entry((array.to_string(), id_key.to_string()))
                .or_insert_with(|| {
                    let mut places = HashMap::new();
                    for (at, t) in entries.iter().enumerate() {
                        if let Some(id) = t.get(id_key).and_then(Item::as_str) {
                            places.entry(id.to_string()).or_insert(at);
                        }
                    }
                    places
                });
            let parts: Vec<&str> = key.split('.').collect();
            let (last, path) = parts.split_last().expect("a key has a part");
            let set = |entry: &mut Table| -> std::result::Result<bool, String> {
                let table = table_for(entry, path)?;
                if table.get(last).is_some_and(|item| value.is_in(item)) {
                    return Ok(false);
                }
                table.insert(last, toml_edit::value(value.to_toml()));
                Ok(true)
            };
            let changed = match places.get(id) {
                Some(&at) => set(entries.get_mut(at).expect("found"))?,
                // A new entry goes in only once its key is set: an edit that
                // fails or changes nothing leaves none behind.
                None => {
                    let mut entry = Table::new();
                    entry.insert(id_key, toml_edit::value(id));
                    let changed = set(&mut entry)?;
                    if changed {
                        entries.push(entry);
                        places.insert(id.to_string(), entries.len() - 1);
                    }
                    changed
                }
            };
            // A key that is the id of an index (this one's, or another's
            // id key) puts the entry under another id there.
            if changed {
                all.retain(|(a, k), _| !(a == array && k == parts[0]));
            }
            Ok(changed)
        },
    )
}

/// Keeps only the entries of the array of tables `array` whose `id_key`
/// is one of `ids`: the others are removed.
///
/// # Errors
/// The file is missing or is not TOML.
pub fn retain_entries(s: &mut Session, array: &str, id_key: &str, ids: &[&str]) -> Result<Outcome> {
    // A set: a captured recipe may keep tens of thousands.
    let keep: std::collections::HashSet<&str> = ids.iter().copied().collect();
    edit(
        s,
        &format!("[[{array}]] only {}", ids.join(", ")),
        None,
        |Parsed { doc, entries, .. }| {
            entries.clear();
            let mut item = doc.as_item_mut();
            for part in array.split('.') {
                match item.get_mut(part) {
                    Some(inner) => item = inner,
                    None => return Ok(false),
                }
            }
            let Some(entries) = item.as_array_of_tables_mut() else {
                return Ok(false);
            };
            let before = entries.len();
            entries.retain(|t| {
                t.get(id_key)
                    .and_then(Item::as_str)
                    .is_some_and(|id| keep.contains(id))
            });
            Ok(entries.len() != before)
        },
    )
}

/// Removes `key`, when it is there.
///
/// # Errors
/// The file is missing or is not TOML.
pub fn remove(s: &mut Session, key: &str) -> Result<Outcome> {
    edit(
        s,
        &format!("no {key}"),
        None,
        |Parsed { doc, entries, .. }| {
            entries.clear();
            let (path, last) = match key.rsplit_once('.') {
                Some((path, last)) => (Some(path), last),
                None => (None, key),
            };
            let mut table = doc.as_table_mut();
            for part in path.into_iter().flat_map(|p| p.split('.')) {
                match table.get_mut(part).and_then(Item::as_table_mut) {
                    Some(inner) => table = inner,
                    None => return Ok(false),
                }
            }
            Ok(table.remove(last).is_some())
        },
    )
}

/// The value of `key`, as TOML, when it is there.
///
/// # Errors
/// The file is missing or is not TOML.
pub fn get(s: &mut Session, key: &str) -> Result<Option<String>> {
    let doc = &s.deployment()?.doc;
    let mut item = doc.as_item();
    for part in key.split('.') {
        match item.get(part) {
            Some(inner) => item = inner,
            None => return Ok(None),
        }
    }
    Ok(item.as_value().map(|v| v.to_string().trim().to_string()))
}

/// Whether the pack's template `rel` (below `templates/`, as
/// `repository/conf/user-mgt.xml.j2`) holds `needle`.
///
/// # Errors
/// The template cannot be read.
pub fn template_holds(home: &CarbonHome, rel: &str, needle: &str) -> Result<bool> {
    let path = Path::new(RESOURCES).join("templates").join(rel);
    let bytes = home.root().read(&path, crate::DEFAULT_MAX_FILE_SIZE)?;
    Ok(bytes.is_some_and(|b| String::from_utf8_lossy(&b).contains(needle)))
}

/// Whether the session's home's pack takes `key` ([`PackKeys::takes`]).
///
/// # Errors
/// A template or key file that cannot be read.
pub fn takes(s: &Session, key: &str) -> Result<bool> {
    Ok(s.pack_keys()?.is_some_and(|keys| keys.takes(key)))
}

/// Refuses a key the pack does not take, naming it and the product.
fn check_key(s: &mut Session, key: &str) -> Result<()> {
    let keys = s.pack_keys()?;
    let home = s.home();
    let product = home.product().unwrap_or("this product").to_string();
    match keys {
        Some(keys) if keys.takes(key) => Ok(()),
        Some(_) => Err(Error::Invalid {
            file: home.path().join(FILE),
            message: format!(
                "{product} takes no deployment.toml key {key}: its templates and key files \
                 under {RESOURCES} never name it"
            ),
        }),
        None => Err(Error::Invalid {
            file: home.path().join(FILE),
            message: format!(
                "{product} ships no templates or key files under {RESOURCES}, so which \
                 deployment.toml keys it takes cannot be known"
            ),
        }),
    }
}

/// deployment.toml as a session keeps it between edits.
pub(crate) struct Parsed {
    doc: DocumentMut,
    /// Whether edits made `doc` newer than the session's text of the file.
    edited: bool,
    /// Where the entries of an array of tables stand, by array and id key,
    /// then by id (the first entry of each): looked up, not searched for at
    /// each edit (a captured recipe sets every key of thousands of
    /// datasources). Made when first asked for; dropped by an edit that may
    /// move entries, and for one id key when a key of that name is set.
    entries: HashMap<(String, String), HashMap<String, usize>>,
}

impl Parsed {
    /// The file's `text` parsed; `file` names it in the error.
    pub(crate) fn of(text: &str, file: PathBuf) -> Result<Parsed> {
        let doc = text
            .parse()
            .map_err(|e: toml_edit::TomlError| Error::Invalid {
                file,
                message: format!("not TOML: {}", e.to_string().trim()),
            })?;
        Ok(Parsed {
            doc,
            edited: false,
            entries: HashMap::new(),
        })
    }

    /// The text edits made, where they made any, in the line endings of
    /// `like` (the file as read) and without a final newline where it had
    /// none.
    pub(crate) fn rendered(&self, like: &str) -> Option<String> {
        if !self.edited {
            return None;
        }
        let mut new = self.doc.to_string();
        if like.contains("\r\n") {
            new = new.replace("\r\n", "\n").replace('\n', "\r\n");
        }
        if !like.is_empty() && !like.ends_with('\n') {
            let kept = new.trim_end_matches(['\r', '\n']).len();
            new.truncate(kept);
        }
        Some(new)
    }
}

/// Runs `change` on the parsed file, which the session keeps parsed
/// ([`Session::deployment`]): its text is rendered once, when asked for.
/// `top` is the top-level key the change may add (the first part of the key
/// it sets), looked up before and after, not found among all the file's.
/// A change that may move entries of an array of tables clears
/// [`Parsed::entries`].
fn edit(
    s: &mut Session,
    what: &str,
    top: Option<&str>,
    change: impl FnOnce(&mut Parsed) -> std::result::Result<bool, String>,
) -> Result<Outcome> {
    let file = s.home().path().join(FILE);
    let parsed = s.deployment()?;
    let had = top.is_some_and(|top| parsed.doc.contains_key(top));
    let changed = change(parsed).map_err(|message| Error::Invalid {
        file: file.clone(),
        message,
    })?;
    let doc = &mut parsed.doc;
    if changed {
        // A table the file lacked goes beside WSO2's commented-out sample
        // of it, where there is one: moved in the text, then parsed anew.
        let created = top
            .filter(|top| !had && doc.contains_key(top))
            .map(str::to_string);
        if let Some(placed) = created.and_then(|name| beside_sample(&doc.to_string(), &name)) {
            *doc = placed
                .parse()
                .map_err(|e: toml_edit::TomlError| Error::Invalid {
                    file,
                    message: format!(
                        "moved beside its sample, not TOML: {}",
                        e.to_string().trim()
                    ),
                })?;
            parsed.entries.clear();
        }
        parsed.edited = true;
    }
    Ok(Outcome {
        file: PathBuf::from(FILE),
        what: what.to_string(),
        changed,
    })
}

/// The table that holds `key`'s last part, created (at the end of the file)
/// where missing, and that part.
fn table_for<'t>(root: &'t mut Table, path: &[&str]) -> std::result::Result<&'t mut Table, String> {
    let mut table = root;
    for (i, part) in path.iter().enumerate() {
        let so_far = || written_key(&path[..=i]);
        if !table.contains_key(part) {
            let mut new = Table::new();
            new.set_implicit(true);
            table.insert(part, Item::Table(new));
        }
        table = match table.get_mut(part) {
            Some(Item::Table(inner)) => inner,
            Some(Item::Value(toml_edit::Value::InlineTable(_))) => {
                return Err(format!(
                    "{} is an inline table ({{ … }}); carbon-patch sets keys in [tables]: \
                     write it as [{}]",
                    so_far(),
                    so_far()
                ))
            }
            _ => return Err(format!("{} is not a table", so_far())),
        };
    }
    Ok(table)
}
