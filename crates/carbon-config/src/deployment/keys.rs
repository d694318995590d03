//! Which keys a 4.5+ pack takes: the names its own templates and key
//! files use, read as WSO2's config mapper reads them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table};

use super::RESOURCES;
use crate::error::Result;
use crate::home::CarbonHome;

/// The keys a pack takes, as its own files name them: every dotted name in
/// its templates (`{{clustering.local_member_host}}`, `{% for m in
/// clustering.members %}`), every key of its `default.json`, `infer.json`
/// and `key-mappings.json`, and every key its deployment.toml holds.
#[derive(Clone, Debug, Default)]
pub struct PackKeys {
    names: BTreeSet<String>,
}

/// The most entries the templates' folders may hold.
const MAX_ENTRIES: usize = 10_000;

impl PackKeys {
    /// Reads `home`'s templates and key files; `None` when it ships none.
    ///
    /// # Errors
    /// A file that cannot be read.
    pub fn read(home: &CarbonHome, max_file_size: u64) -> Result<Option<PackKeys>> {
        let mut keys = PackKeys::default();
        let mut found = false;
        let templates = PathBuf::from(RESOURCES).join("templates");
        let mut folders = vec![templates.clone()];
        let mut entries = 0usize;
        while let Some(folder) = folders.pop() {
            let dir = match home.root().dir(&folder) {
                Ok(dir) => dir,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            for entry in dir.list()? {
                // A pack ships a few dozen templates; a tree that does not
                // end (a link to a folder above) is refused, not walked.
                entries += 1;
                if entries > MAX_ENTRIES {
                    return Err(crate::Error::Invalid {
                        file: home.path().join(&templates),
                        message: format!("more than {MAX_ENTRIES} entries to read templates from"),
                    });
                }
                let path = folder.join(&entry.name);
                if entry.is_dir {
                    folders.push(path);
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
        let raise = " (raise it with --max-file-size)";
        if let Some(bytes) = super::read_within(home, max_file_size, raise)? {
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
        // By variable, the first loop's: a pack's templates are the home
        // owner's to write, thousands of loops among thousands of names.
        let mut aliases: HashMap<&str, &str> = HashMap::new();
        for piece in text.split("{%").skip(1) {
            let inner = piece.split("%}").next().unwrap_or_default().trim();
            let Some(rest) = inner.strip_prefix("for ") else {
                continue;
            };
            if let Some((var, over)) = rest.split_once(" in ") {
                let (var, over) = (var.trim(), over.trim());
                if !var.contains(',') && !over.contains('(') {
                    aliases.entry(var).or_insert(over);
                }
            }
        }
        let unalias = |word: &str| -> String {
            let (head, tail) = word.split_once('.').unwrap_or((word, ""));
            match aliases.get(head) {
                Some(over) if !tail.is_empty() => format!("{over}.{tail}"),
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
