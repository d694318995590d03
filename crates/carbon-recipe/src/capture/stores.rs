//! The datasources and the registry read into typed tables: each entry by
//! what names it (a datasource's `<name>`, a dbConfig's `name`, a remote
//! instance's `<id>`, a mount's `path`), new or changed ones only when
//! there is a baseline, and the baseline's datasources the home no longer
//! has active as `state`. Passwords become variables, but one kept in the
//! secure vault, which is the cipher tool's to set.

use std::path::Path;

use carbon_config::{files, CarbonHome};
use xmlsplice::{Document, Element};

use super::edits::literal;
use super::secrets::Variables;
use super::typed::{value_at, value_at_element, Keys, Table};
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
    let Ok(found) = doc.select((doc.root(), "datasources/datasource")) else {
        return Vec::new();
    };
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
                .filter_map(|ds| value_at_element(d, ds, "name"))
                .collect()
        };
        let active = names(doc);
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
    for ds in found {
        let Some(name) = value_at_element(doc, ds, "name") else {
            continue;
        };
        let own = format!("datasources/datasource[name='{name}']");
        let theirs = base.filter(|b| value_at(b, &format!("{own}/name")).is_some());
        let config = |child: &str| format!("{own}/definition/configuration/{child}");
        let mut keys = Keys::new(theirs, compare && theirs.is_some())
            .text(doc, "description", &format!("{own}/description"))
            .text(doc, "jndi", &format!("{own}/jndiConfig/name"))
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
        // One kept in the secure vault (`svns:secretAlias`) is the cipher
        // tool's to set: its text is a placeholder.
        let vaulted = value_at(doc, &format!("{}/@svns:secretAlias", config("password"))).is_some();
        if let Some(password) = value_at(doc, &config("password")).filter(|_| !vaulted) {
            let same =
                theirs.and_then(|b| value_at(b, &config("password"))) == Some(password.clone());
            if !(password.is_empty() || compare && same) {
                let path = format!("/datasources-configuration/{}", config("password"));
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
    let each = |path: &str, name_of: &dyn Fn(Element) -> Option<String>| -> Vec<(String, String)> {
        doc.select((doc.root(), path))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|el| Some((name_of(el)?, path.to_string())))
            .collect()
    };
    let attribute =
        |name: &'static str| move |el: Element| doc.attribute(el, name).map(str::to_string);
    for (name, _) in each("dbConfig", &attribute("name")) {
        let own = format!("dbConfig[@name='{name}']");
        let theirs = base.filter(|b| value_at(b, &format!("{own}/@name")).is_some());
        let mut keys = Keys::new(theirs, compare && theirs.is_some()).text(
            doc,
            "data_source",
            &format!("{own}/dataSource"),
        );
        if let Some(jdbc) = jdbc(doc, theirs, compare && theirs.is_some(), &own, variables) {
            keys.keys.push(("jdbc".into(), jdbc));
        }
        if let Some(mut table) = keys.table("registry.db_config", true) {
            table
                .keys
                .insert(0, ("name".into(), string(&literal(&name))));
            out.push(table);
        }
    }
    for (id, _) in each("remoteInstance", &|el| value_at_element(doc, el, "id")) {
        let own = format!("remoteInstance[id='{id}']");
        let theirs = base.filter(|b| value_at(b, &format!("{own}/id")).is_some());
        let keys = Keys::new(theirs, compare && theirs.is_some())
            .text(doc, "url", &format!("{own}/@url"))
            .text(doc, "db_config", &format!("{own}/dbConfig"))
            .boolean(doc, "read_only", &format!("{own}/readOnly"))
            .boolean(doc, "enable_cache", &format!("{own}/enableCache"))
            .text(doc, "registry_root", &format!("{own}/registryRoot"))
            .text(doc, "cache_id", &format!("{own}/cacheId"));
        if let Some(mut table) = keys.table("registry.remote_instance", true) {
            // `url` and `id` are required: the entry names its instance.
            if !table.keys.iter().any(|(k, _)| k == "url") {
                let url = value_at(doc, &format!("{own}/@url")).unwrap_or_default();
                table.keys.insert(0, ("url".into(), string(&literal(&url))));
            }
            table.keys.insert(1, ("id".into(), string(&literal(&id))));
            out.push(table);
        }
    }
    for (path, _) in each("mount", &attribute("path")) {
        let own = format!("mount[@path='{path}']");
        let theirs = base.filter(|b| value_at(b, &format!("{own}/@path")).is_some());
        let keys = Keys::new(theirs, compare && theirs.is_some())
            .text(doc, "overwrite", &format!("{own}/@overwrite"))
            .text(doc, "instance_id", &format!("{own}/instanceId"))
            .text(doc, "target_path", &format!("{own}/targetPath"));
        if let Some(mut table) = keys.table("registry.mount", true) {
            // A mount entry names its instance and target, changed or not.
            for (k, child) in [("instance_id", "instanceId"), ("target_path", "targetPath")] {
                if !table.keys.iter().any(|(key, _)| key == k) {
                    let value = value_at(doc, &format!("{own}/{child}")).unwrap_or_default();
                    table.keys.push((k.into(), string(&literal(&value))));
                }
            }
            table
                .keys
                .insert(0, ("path".into(), string(&literal(&path))));
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
    base: Option<&Document>,
    compare: bool,
    own: &str,
    variables: &mut Variables,
) -> Option<String> {
    let child = |d: &Document, name: &str| value_at(d, &format!("{own}/{name}"));
    if value_at(doc, &format!("{own}/password/@svns:secretAlias")).is_some() {
        return None;
    }
    let (url, username, password, driver) = (
        child(doc, "url")?,
        child(doc, "userName")?,
        child(doc, "password")?,
        child(doc, "driverName")?,
    );
    let same = base.is_some_and(|b| {
        carbon_config::registry::JDBC_FIELDS
            .iter()
            .all(|c| child(b, c) == child(doc, c))
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
        if let Some(n) = child(doc, name).and_then(|v| v.parse::<u32>().ok()) {
            keys.push(format!("{key} = {n}"));
        }
    }
    Some(format!("{{ {} }}", keys.join(", ")))
}
