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

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table};

use crate::error::{Error, Result};
use crate::home::CarbonHome;
use crate::session::{Outcome, Session};

/// The file, relative to the home.
pub const FILE: &str = "repository/conf/deployment.toml";

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

/// The keys a pack takes, as its own files name them: every dotted name in
/// its templates (`{{clustering.local_member_host}}`, `{% for m in
/// clustering.members %}`), every key of its `default.json`, `infer.json`
/// and `key-mappings.json`, and every key its deployment.toml holds.
#[derive(Clone, Debug, Default)]
pub struct PackKeys {
    names: BTreeSet<String>,
}

impl PackKeys {
    /// Reads `home`'s templates and key files; `None` when it ships none.
    ///
    /// # Errors
    /// A file that cannot be read.
    pub fn read(home: &CarbonHome) -> Result<Option<PackKeys>> {
        let mut keys = PackKeys::default();
        let mut found = false;
        let mut folders = vec![PathBuf::from(RESOURCES).join("templates")];
        while let Some(folder) = folders.pop() {
            let dir = match home.root().dir(&folder) {
                Ok(dir) => dir,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            for entry in dir.list()? {
                let path = folder.join(&entry.name);
                if entry.is_dir {
                    if folders.len() < 64 {
                        folders.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "j2") {
                    if let Some(bytes) = home.root().read(&path, crate::DEFAULT_MAX_FILE_SIZE)? {
                        found = true;
                        keys.add_template(&String::from_utf8_lossy(&bytes));
                    }
                }
            }
        }
        // The keys the file already holds are the pack's (or the user's):
        // `[database.apim_db] username` whose template another pack keeps.
        if let Some(bytes) = home
            .root()
            .read(Path::new(FILE), crate::DEFAULT_MAX_FILE_SIZE)?
        {
            if let Ok(doc) = String::from_utf8_lossy(&bytes).parse::<DocumentMut>() {
                keys.add_toml("", doc.as_table());
            }
        }
        for name in ["default.json", "infer.json", "key-mappings.json"] {
            let path = Path::new(RESOURCES).join(name);
            if let Some(bytes) = home.root().read(&path, crate::DEFAULT_MAX_FILE_SIZE)? {
                found = true;
                keys.add_json(&String::from_utf8_lossy(&bytes));
            }
        }
        Ok(found.then_some(keys))
    }

    /// Every dotted name inside `{{ }}` and `{% %}`, a loop's variable
    /// read as what it loops over (`data.url` in `{% for data in
    /// datasource %}` is `datasource.url`).
    fn add_template(&mut self, text: &str) {
        let mut aliases: Vec<(String, String)> = Vec::new();
        for piece in text.split("{%").skip(1) {
            let inner = piece.split("%}").next().unwrap_or_default().trim();
            let Some(rest) = inner.strip_prefix("for ") else {
                continue;
            };
            if let Some((var, over)) = rest.split_once(" in ") {
                let (var, over) = (var.trim(), over.trim());
                if !var.contains(',') && !over.contains('(') {
                    aliases.push((var.to_string(), over.to_string()));
                }
            }
        }
        let unalias = |word: &str| -> String {
            let (head, tail) = word.split_once('.').unwrap_or((word, ""));
            match aliases.iter().find(|(var, _)| var == head) {
                Some((_, over)) if !tail.is_empty() => format!("{over}.{tail}"),
                _ => word.to_string(),
            }
        };
        for (open, close) in [("{{", "}}"), ("{%", "%}")] {
            for piece in text.split(open).skip(1) {
                let inner = piece.split(close).next().unwrap_or_default();
                let is_name = |c: char| c.is_alphanumeric() || "_.-".contains(c);
                let mut rest = inner;
                while let Some(start) = rest.find(is_name) {
                    let len = rest[start..]
                        .find(|c| !is_name(c))
                        .unwrap_or(rest.len() - start);
                    let word = &rest[start..start + len];
                    rest = &rest[start + len..];
                    // `clustering.properties.items()`: a method of the name.
                    let word = match rest.starts_with('(') {
                        true => word.rsplit_once('.').map_or(word, |(name, _)| name),
                        false => word,
                    };
                    if word.contains('.') && word.starts_with(|c: char| c.is_ascii_alphabetic()) {
                        self.names.insert(unalias(word.trim_end_matches('.')));
                    }
                }
            }
        }
    }

    /// Every key of `table`, dotted, below `prefix`.
    fn add_toml(&mut self, prefix: &str, table: &Table) {
        for (key, item) in table.iter() {
            let name = if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            };
            match item {
                Item::Table(inner) => self.add_toml(&name, inner),
                Item::ArrayOfTables(entries) => {
                    for entry in entries.iter() {
                        self.add_toml(&name, entry);
                    }
                }
                _ => {
                    self.names.insert(name);
                }
            }
        }
    }

    /// The JSON files' keys: each `"name":` (the config mapper's keys are
    /// dotted names at the top level).
    fn add_json(&mut self, text: &str) {
        for piece in text.split('"').collect::<Vec<_>>().windows(2) {
            if piece[1].trim_start().starts_with(':') && piece[0].contains('.') {
                self.names.insert(piece[0].to_string());
            }
        }
    }

    /// Whether the pack takes `key`: a name it uses is `key`, or is inside
    /// it (`clustering.members` for `clustering`), or holds it
    /// (`clustering.properties`, whose items a template loops over, for
    /// `clustering.properties.subDomain`).
    pub fn takes(&self, key: &str) -> bool {
        // Segment by segment; the mapper's `$1` stands for any one.
        let inside = |outer: &str, inner: &str| {
            let (outer, inner): (Vec<&str>, Vec<&str>) =
                (outer.split('.').collect(), inner.split('.').collect());
            outer.len() <= inner.len()
                && outer
                    .iter()
                    .zip(&inner)
                    .all(|(a, b)| a == b || a.starts_with('$') || b.starts_with('$'))
        };
        self.names
            .iter()
            .any(|name| inside(key, name) || inside(name, key))
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
    edit(s, &format!("{key} = {value}"), |doc| {
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
    })
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
        |doc| {
            let parts: Vec<&str> = array.split('.').collect();
            let (last, path) = parts.split_last().expect("an array has a name");
            let parent = table_for(doc.as_table_mut(), path)?;
            if !parent.contains_key(last) {
                parent.insert(last, Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
            }
            let Some(entries) = parent.get_mut(last).and_then(Item::as_array_of_tables_mut) else {
                return Err(format!("{array} is not an array of tables ([[{array}]])"));
            };
            let at = entries
                .iter()
                .position(|t| t.get(id_key).and_then(Item::as_str) == Some(id));
            let entry = match at {
                Some(at) => entries.get_mut(at).expect("found"),
                None => {
                    let mut entry = Table::new();
                    entry.insert(id_key, toml_edit::value(id));
                    entries.push(entry);
                    entries.get_mut(entries.len() - 1).expect("pushed")
                }
            };
            let parts: Vec<&str> = key.split('.').collect();
            let (last, path) = parts.split_last().expect("a key has a part");
            let table = table_for(entry, path)?;
            if table.get(last).is_some_and(|item| value.is_in(item)) {
                return Ok(false);
            }
            table.insert(last, toml_edit::value(value.to_toml()));
            Ok(true)
        },
    )
}

/// Keeps only the entries of the array of tables `array` whose `id_key`
/// is one of `ids`: the others are removed.
///
/// # Errors
/// The file is missing or is not TOML.
pub fn retain_entries(s: &mut Session, array: &str, id_key: &str, ids: &[&str]) -> Result<Outcome> {
    edit(s, &format!("[[{array}]] only {}", ids.join(", ")), |doc| {
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
                .is_some_and(|id| ids.contains(&id))
        });
        Ok(entries.len() != before)
    })
}

/// Removes `key`, when it is there.
///
/// # Errors
/// The file is missing or is not TOML.
pub fn remove(s: &mut Session, key: &str) -> Result<Outcome> {
    edit(s, &format!("no {key}"), |doc| {
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
    })
}

/// The value of `key`, as TOML, when it is there.
///
/// # Errors
/// The file is missing or is not TOML.
pub fn get(s: &mut Session, key: &str) -> Result<Option<String>> {
    let doc = parse(s)?;
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

/// Whether the home's pack takes `key` ([`PackKeys::takes`]).
///
/// # Errors
/// A template or key file that cannot be read.
pub fn takes(home: &CarbonHome, key: &str) -> Result<bool> {
    Ok(PackKeys::read(home)?.is_some_and(|keys| keys.takes(key)))
}

/// Refuses a key the pack does not take, naming it and the product.
fn check_key(s: &mut Session, key: &str) -> Result<()> {
    let home = s.home();
    let keys = PackKeys::read(home)?;
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

fn parse(s: &mut Session) -> Result<DocumentMut> {
    let file = s.home().path().join(FILE);
    let text = s.text(FILE)?;
    text.parse::<DocumentMut>().map_err(|e| Error::Invalid {
        file,
        message: format!("not TOML: {}", e.to_string().trim()),
    })
}

/// Runs `change` on the parsed file and writes it back when it changed.
fn edit(
    s: &mut Session,
    what: &str,
    change: impl FnOnce(&mut DocumentMut) -> std::result::Result<bool, String>,
) -> Result<Outcome> {
    let mut doc = parse(s)?;
    let file = s.home().path().join(FILE);
    let before: Vec<String> = doc.as_table().iter().map(|(k, _)| k.to_string()).collect();
    let changed = change(&mut doc).map_err(|message| Error::Invalid { file, message })?;
    if changed {
        // A table the file lacked goes beside WSO2's commented-out sample
        // of it, where there is one.
        let created = doc
            .as_table()
            .iter()
            .map(|(k, _)| k.to_string())
            .find(|k| !before.contains(k));
        let text = s.text(FILE)?;
        let mut new = doc.to_string();
        if let Some(placed) = created.and_then(|name| beside_sample(&new, &name)) {
            new = placed;
        }
        // In the file's own line endings, and without a final newline
        // where it had none.
        if text.contains("\r\n") {
            new = new.replace("\r\n", "\n").replace('\n', "\r\n");
        }
        if !text.is_empty() && !text.ends_with('\n') {
            let kept = new.trim_end_matches(['\r', '\n']).len();
            new.truncate(kept);
        }
        *text = new;
    }
    Ok(Outcome {
        file: PathBuf::from(FILE),
        what: what.to_string(),
        changed,
    })
}

/// `text` with the table `name` (with its subtables), which toml_edit
/// appended at the end, moved to just after the commented-out sample of it
/// (`#[name]` and the comment lines after it), where that sample stands
/// between tables; `None` where there is no such sample.
fn beside_sample(text: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let header = |line: &str, open: &str| {
        let rest = line.trim_start().strip_prefix(open)?;
        let rest = rest.trim_start().strip_prefix('[').unwrap_or(rest);
        let rest = rest.trim_start().strip_prefix(name)?;
        rest.starts_with(']')
            .then_some(())
            .or(rest.starts_with('.').then_some(()))
    };
    let ours = |line: &str| header(line, "[").is_some();
    // Where the appended table starts: the first of its headers in the
    // run of lines at the end that holds no other table's header.
    let last = lines
        .iter()
        .rposition(|l| ours(l) && !l.trim_start().starts_with('#'))?;
    let region = (0..=last)
        .rev()
        .take_while(|&i| ours(lines[i]) || !lines[i].trim_start().starts_with('['))
        .last()?;
    let start = (region..=last).find(|&i| ours(lines[i]))?;
    if lines[start..]
        .iter()
        .any(|l| l.trim_start().starts_with('#') || (l.trim_start().starts_with('[') && !ours(l)))
    {
        return None;
    }
    // The sample of that very table (`#[clustering]` for `[clustering]`)
    // and the comment lines after it, followed by a table (or the appended
    // one), so that no key below it joins our table.
    let first = lines[start].trim();
    let sample = lines[..start].iter().position(|l| {
        l.trim_start()
            .strip_prefix('#')
            .is_some_and(|rest| rest.trim() == first)
    })?;
    let end = sample
        + lines[sample..start]
            .iter()
            .take_while(|l| l.trim_start().starts_with('#'))
            .count();
    let next = lines[end..start].iter().find(|l| !l.trim().is_empty());
    if next.is_some_and(|l| !l.trim_start().starts_with('[')) {
        return None;
    }
    let block: Vec<&str> = lines[start..].to_vec();
    let mut out = String::with_capacity(text.len());
    lines[..end].iter().for_each(|l| out.push_str(l));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    block.iter().for_each(|l| out.push_str(l));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let rest: Vec<&str> = lines[end..start].to_vec();
    let rest = rest.join("");
    let rest = rest.trim_end_matches(['\n', '\r']);
    if !rest.trim().is_empty() {
        if !rest.starts_with(['\n', '\r']) {
            out.push('\n');
        }
        out.push_str(rest);
        out.push('\n');
    }
    Some(out)
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
