//! The datasources and the registry read into typed tables: each entry by
//! what names it (a datasource's `<name>`, a dbConfig's `name`, a remote
//! instance's `<id>`, a mount's `path`), new or changed ones only when
//! there is a baseline, and the baseline's datasources the home no longer
//! has active as `state`. Passwords become variables, but one kept in the
//! secure vault, which is the cipher tool's to set.

use std::collections::HashMap;
use std::path::Path;

use carbon_config::{files, CarbonHome};
use xmlsplice::{Document, Element};

use super::edits::literal;
use super::secrets::Variables;
use super::typed::{value_in, Keys, Table};
use super::write::string;

/// The `*-datasources.xml` files of `home`, by name.
pub(super) fn datasource_files(home: &CarbonHome) -> carbon_config::Result<Vec<String>> {
    let dir = match home.root().dir(Path::new(files::DATASOURCES_DIR)) {
        Ok(dir) => dir,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut names: Vec<String> = dir
        .list()?
        .into_iter()
        .filter(|e| !e.is_dir)
        .filter_map(|e| e.name.to_str().map(str::to_string))
        .filter(|n| n.ends_with("-datasources.xml"))
        .collect();
    names.sort();
    Ok(names)
}

/// What names an entry, as the recipe's tables find it again: an attribute
/// (`dbConfig[@name='…']`) or a child's text (`datasource[name='…']`).
#[derive(Clone, Copy)]
enum NamedBy {
    Attribute(&'static str),
    Child(&'static str),
}

impl NamedBy {
    /// The entry's name, read as capture writes it.
    fn name(self, doc: &Document, el: Element) -> Option<String> {
        match self {
            NamedBy::Attribute(name) => doc.attribute(el, name).map(str::to_string),
            NamedBy::Child(name) => value_in(doc, el, name),
        }
    }

    /// Every name a path's test finds the entry by: an attribute of that
    /// name in any namespace, or the text of any child of that name that
    /// holds no element.
    fn found_by(self, doc: &Document, el: Element) -> Vec<String> {
        let mut names: Vec<String> = match self {
            NamedBy::Attribute(local) => doc
                .attributes_expanded(el)
                .into_iter()
                .filter(|&(_, name, _)| name == local)
                .map(|(_, _, value)| value.to_string())
                .collect(),
            NamedBy::Child(local) => doc
                .children(el)
                .into_iter()
                .filter(|&c| doc.name(c) == local && !doc.has_children(c))
                .filter_map(|c| doc.element_text(c))
                .map(|text| text.trim().to_string())
                .collect(),
        };
        names.sort();
        names.dedup();
        names
    }

    /// The path that finds an entry of `path` by `name`.
    fn path(self, path: &str, name: &str) -> String {
        match self {
            NamedBy::Attribute(test) => format!("{path}[@{test}='{name}']"),
            NamedBy::Child(test) => format!("{path}[{test}='{name}']"),
        }
    }
}

/// The entries `path` selects below the root, each with its name and the
/// path that finds it again by that name: those that path finds alone (no
/// other entry answers to the name, and a quoted path can hold it). Each
/// entry's keys are then read below its element, not looked up again by
/// name among all its siblings (a file of thousands took the square of
/// their number, and the cube when they shared a name). An entry no path
/// finds alone has no keys read, as a lookup by name would read none.
fn entries(doc: &Document, path: &str, by: NamedBy) -> Vec<(String, String, Element)> {
    let found = doc.select((doc.root(), path)).unwrap_or_default();
    let mut answering: HashMap<String, usize> = HashMap::new();
    for &el in &found {
        for name in by.found_by(doc, el) {
            *answering.entry(name).or_default() += 1;
        }
    }
    found
        .into_iter()
        .filter_map(|el| Some((by.name(doc, el)?, el)))
        .filter(|(name, _)| answering.get(name) == Some(&1))
        .map(|(name, el)| (by.path(path, &name), name, el))
        .filter(|(own, _, _)| xmlsplice::Path::parse(own).is_ok())
        .map(|(own, name, el)| (name, own, el))
        .collect()
}

/// The baseline's entries as [`entries`] finds them, by name.
fn by_name<'b>(
    base: Option<&'b Document>,
    path: &str,
    by: NamedBy,
) -> HashMap<String, (&'b Document, Element)> {
    let Some(base) = base else {
        return HashMap::new();
    };
    entries(base, path, by)
        .into_iter()
        .map(|(name, _, el)| (name, (base, el)))
        .collect()
}

/// An entry of the home ([`entries`]), and the baseline's of its name.
struct Entry<'b> {
    name: String,
    /// The path that finds it by its name.
    own: String,
    el: Element,
    theirs: Option<(&'b Document, Element)>,
}

impl<'b> Entry<'b> {
    /// Its keys, each compared with the baseline's entry where there is
    /// one (`compare`); without one, every key is new.
    fn keys(&self, compare: bool) -> Keys<'b> {
        Keys::below(self.el, self.theirs, compare && self.theirs.is_some())
    }
}

/// The entries `path` selects in the home, each with the baseline's of its
/// name (when there is one).
fn against_base<'b>(
    doc: &Document,
    base: Option<&'b Document>,
    path: &str,
    by: NamedBy,
) -> Vec<Entry<'b>> {
    let theirs = by_name(base, path, by);
    entries(doc, path, by)
        .into_iter()
        .map(|(name, own, el)| Entry {
            theirs: theirs.get(&name).copied(),
            name,
            own,
            el,
        })
        .collect()
}

/// Each datasource of one file that is new or changed, with the keys that
/// are; its password as a variable.
pub(super) fn datasources(
    doc: &Document,
    base: Option<&Document>,
    compare: bool,
    rel: &str,
    file: &str,
    variables: &mut Variables,
) -> Vec<Table> {
    let mut out = Vec::new();
    let short = file.strip_suffix("-datasources.xml").unwrap_or(file);
    let named = |name: &str, rest: Vec<(String, String)>| {
        let mut keys = vec![("name".to_string(), string(&literal(name)))];
        if short != "master" {
            keys.push(("file".into(), string(short)));
        }
        keys.extend(rest);
        Table {
            header: "datasource",
            array: true,
            keys,
        }
    };
    // The baseline's that the home no longer has active: commented out
    // where they stood, or gone.
    if let (Some(base), true) = (base, compare) {
        let names = |d: &Document| -> Vec<String> {
            d.select((d.root(), "datasources/datasource"))
                .unwrap_or_default()
                .into_iter()
                .filter_map(|ds| value_in(d, ds, "name"))
                .collect()
        };
        let active: std::collections::HashSet<String> = names(doc).into_iter().collect();
        for name in names(base).into_iter().filter(|n| !active.contains(n)) {
            let commented = doc
                .select_commented((
                    doc.root(),
                    format!("datasources/datasource[name='{name}']").as_str(),
                ))
                .is_ok_and(|found| !found.is_empty());
            let state = if commented { "commented_out" } else { "absent" };
            out.push(named(&name, vec![("state".into(), string(state))]));
        }
    }
    const DATASOURCE: &str = "datasources/datasource";
    for entry in against_base(doc, base, DATASOURCE, NamedBy::Child("name")) {
        let config = |child: &str| format!("definition/configuration/{child}");
        let mut keys = entry
            .keys(compare)
            .text(doc, "description", "description")
            .text(doc, "jndi", "jndiConfig/name")
            .text(doc, "url", &config("url"))
            .text(doc, "username", &config("username"))
            .text(doc, "driver", &config("driverClassName"))
            .number(doc, "max_active", &config("maxActive"))
            .number(doc, "max_wait", &config("maxWait"))
            .number(doc, "min_idle", &config("minIdle"))
            .boolean(doc, "test_on_borrow", &config("testOnBorrow"))
            .text(doc, "validation_query", &config("validationQuery"))
            .number(doc, "validation_interval", &config("validationInterval"))
            .boolean(doc, "default_auto_commit", &config("defaultAutoCommit"));
        let Entry {
            name,
            own,
            el: ds,
            theirs,
        } = entry;
        // One kept in the secure vault (`svns:secretAlias`) is the cipher
        // tool's to set: its text is a placeholder.
        let password_at = config("password");
        let vaulted = value_in(doc, ds, &format!("{password_at}/@svns:secretAlias")).is_some();
        if let Some(password) = value_in(doc, ds, &password_at).filter(|_| !vaulted) {
            let same =
                theirs.and_then(|(b, at)| value_in(b, at, &password_at)) == Some(password.clone());
            if !(password.is_empty() || compare && same) {
                let path = format!("/datasources-configuration/{own}/{password_at}");
                let reference = variables.reference(rel, &path, &password);
                keys.keys.push(("password".into(), string(&reference)));
            }
        }
        if keys.keys.is_empty() {
            continue;
        }
        out.push(named(&name, keys.keys));
    }
    out
}

/// `[registry]`'s current dbConfig, and each dbConfig (dataSource form),
/// remote instance and mount that is new or changed.
pub(super) fn registry(
    doc: &Document,
    base: Option<&Document>,
    compare: bool,
    variables: &mut Variables,
) -> Vec<Table> {
    let mut out = Vec::new();
    out.extend(
        Keys::new(base, compare)
            .text(doc, "current_db_config", "currentDBConfig")
            .table("registry", false),
    );
    for entry in against_base(doc, base, "dbConfig", NamedBy::Attribute("name")) {
        let mut keys = entry.keys(compare).text(doc, "data_source", "dataSource");
        let Entry {
            name,
            own,
            el,
            theirs,
        } = entry;
        let compare = compare && theirs.is_some();
        if let Some(jdbc) = jdbc(doc, el, theirs, compare, &own, variables) {
            keys.keys.push(("jdbc".into(), jdbc));
        }
        if let Some(mut table) = keys.table("registry.db_config", true) {
            table
                .keys
                .insert(0, ("name".into(), string(&literal(&name))));
            out.push(table);
        }
    }
    for entry in against_base(doc, base, "remoteInstance", NamedBy::Child("id")) {
        let keys = entry
            .keys(compare)
            .text(doc, "url", "@url")
            .text(doc, "db_config", "dbConfig")
            .boolean(doc, "read_only", "readOnly")
            .boolean(doc, "enable_cache", "enableCache")
            .text(doc, "registry_root", "registryRoot")
            .text(doc, "cache_id", "cacheId");
        if let Some(mut table) = keys.table("registry.remote_instance", true) {
            // `url` and `id` are required: the entry names its instance.
            if !table.keys.iter().any(|(k, _)| k == "url") {
                let url = doc.attribute(entry.el, "url").unwrap_or_default();
                table.keys.insert(0, ("url".into(), string(&literal(url))));
            }
            table
                .keys
                .insert(1, ("id".into(), string(&literal(&entry.name))));
            out.push(table);
        }
    }
    for entry in against_base(doc, base, "mount", NamedBy::Attribute("path")) {
        let keys = entry
            .keys(compare)
            .text(doc, "overwrite", "@overwrite")
            .text(doc, "instance_id", "instanceId")
            .text(doc, "target_path", "targetPath");
        if let Some(mut table) = keys.table("registry.mount", true) {
            // A mount entry names its instance and target, changed or not.
            for (k, child) in [("instance_id", "instanceId"), ("target_path", "targetPath")] {
                if !table.keys.iter().any(|(key, _)| key == k) {
                    let value = value_in(doc, entry.el, child).unwrap_or_default();
                    table.keys.push((k.into(), string(&literal(&value))));
                }
            }
            table
                .keys
                .insert(0, ("path".into(), string(&literal(&entry.name))));
            out.push(table);
        }
    }
    out
}

/// A dbConfig's JDBC form (`url`, `userName`, `password`, `driverName`, and
/// the pool sizes) as an inline table, when it has one that is new or
/// changed; its password as a variable.
fn jdbc(
    doc: &Document,
    el: Element,
    base: Option<(&Document, Element)>,
    compare: bool,
    own: &str,
    variables: &mut Variables,
) -> Option<String> {
    let child = |(d, at): (&Document, Element), name: &str| value_in(d, at, name);
    let home = (doc, el);
    if value_in(doc, el, "password/@svns:secretAlias").is_some() {
        return None;
    }
    let (url, username, password, driver) = (
        child(home, "url")?,
        child(home, "userName")?,
        child(home, "password")?,
        child(home, "driverName")?,
    );
    let same = base.is_some_and(|b| {
        carbon_config::registry::JDBC_FIELDS
            .iter()
            .all(|c| child(b, c) == child(home, c))
    });
    if compare && same {
        return None;
    }
    let path = format!("/wso2registry/{own}/password");
    let password = variables.reference(files::REGISTRY, &path, &password);
    let mut keys = vec![
        format!("url = {}", string(&literal(&url))),
        format!("username = {}", string(&literal(&username))),
        format!("password = {}", string(&password)),
        format!("driver = {}", string(&literal(&driver))),
    ];
    for (key, name) in [
        ("max_active", "maxActive"),
        ("max_wait", "maxWait"),
        ("min_idle", "minIdle"),
    ] {
        if let Some(n) = child(home, name).and_then(|v| v.parse::<u32>().ok()) {
            keys.push(format!("{key} = {n}"));
        }
    }
    Some(format!("{{ {} }}", keys.join(", ")))
}
