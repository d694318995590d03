//! A Carbon 4.5+ home's deployment.toml read back into the recipe's
//! tables: the keys `carbon_recipe`'s steps write there
//! (`step/deployment.rs`), the other way round. With a baseline, only keys
//! whose values differ; any other key that differs is left to the notes
//! (`[[raw]]` cannot edit a 4.5+ home).

use std::path::Path;

use carbon_config::{deployment, CarbonHome};

use super::edits::literal;
use super::secrets::Variables;
use super::typed::Table;
use super::write::{key, string};

/// The databases the templates render from `[database.*]`, by name.
const DATABASES: [(&str, &str); 5] = [
    ("apim_db", "WSO2AM_DB"),
    ("shared_db", "WSO2_SHARED_DB"),
    ("user", "WSO2USER_DB"),
    ("config", "WSO2CONFIG_DB"),
    ("identity_db", "WSO2IDENTITY_DB"),
];

/// Pool settings, by the XML names `pool_options` keeps and the recipe's.
const POOL: [(&str, &str); 7] = [
    ("maxActive", "max_active"),
    ("maxWait", "max_wait"),
    ("minIdle", "min_idle"),
    ("testOnBorrow", "test_on_borrow"),
    ("validationQuery", "validation_query"),
    ("validationInterval", "validation_interval"),
    ("defaultAutoCommit", "default_auto_commit"),
];

/// The tables `home`'s deployment.toml holds (those differing from
/// `baseline`'s when there is one).
pub(super) fn tables(
    home: &CarbonHome,
    baseline: Option<&CarbonHome>,
    variables: &mut Variables,
) -> carbon_config::Result<Vec<Table>> {
    let read = |h: &CarbonHome| -> carbon_config::Result<toml::Table> {
        let bytes = h.root().read(
            Path::new(deployment::FILE),
            carbon_config::DEFAULT_MAX_FILE_SIZE,
        )?;
        Ok(bytes
            .and_then(|b| String::from_utf8_lossy(&b).parse::<toml::Table>().ok())
            .unwrap_or_default())
    };
    let ours = read(home)?;
    let theirs = baseline.map(read).transpose()?;
    let reader = Reader {
        ours: &ours,
        theirs: theirs.as_ref(),
    };
    let mut out = Vec::new();
    let mut table = |header: &'static str, keys: Vec<(String, String)>| {
        if !keys.is_empty() {
            out.push(Table {
                header,
                array: false,
                keys,
            });
        }
    };
    table(
        "server",
        reader.keys(&[("hostname", "server.hostname"), ("offset", "server.offset")]),
    );
    let mut clustering = reader.keys(&[
        ("membership_scheme", "clustering.membership_scheme"),
        ("domain", "clustering.domain"),
        ("local_member_host", "clustering.local_member_host"),
        ("local_member_port", "clustering.local_member_port"),
        ("members", "clustering.members"),
    ]);
    clustering.extend(reader.map("parameters", "clustering.properties"));
    table("clustering", clustering);
    table(
        "tomcat",
        reader.keys(&[
            ("https_proxy_port", "transport.https.properties.proxyPort"),
            ("http_proxy_port", "transport.http.properties.proxyPort"),
        ]),
    );
    let mut user_store = reader.keys(&[
        ("type", "user_store.type"),
        ("data_source", "realm_manager.data_source"),
    ]);
    // Where the template writes `jdbc/` itself, the recipe's JNDI name
    // holds it.
    let template = "repository/conf/user-mgt.xml.j2";
    if deployment::template_holds(home, template, "jdbc/{{realm_manager.data_source}}")? {
        for (k, v) in &mut user_store {
            if k == "data_source" {
                *v = v.replacen('"', "\"jdbc/", 1);
            }
        }
    }
    user_store.extend(reader.map("manager_properties", "user_store.properties"));
    user_store.extend(reader.map("properties", "realm_manager.properties"));
    table("user_store", user_store);
    for (id, name) in DATABASES {
        let at = format!("database.{id}");
        let keys = reader.datasource(&at, variables);
        if !keys.is_empty() {
            let mut all = vec![("name".to_string(), string(name))];
            all.extend(keys);
            out.push(Table {
                header: "datasource",
                array: true,
                keys: all,
            });
        }
    }
    Ok(out)
}

/// The home's and the baseline's deployment.toml.
struct Reader<'t> {
    ours: &'t toml::Table,
    theirs: Option<&'t toml::Table>,
}

impl Reader<'_> {
    /// The value at dotted `key` in the home's file, when it is there and
    /// (with a baseline) differs from the baseline's.
    fn changed(&self, key: &str) -> Option<&toml::Value> {
        let ours = lookup(self.ours, key)?;
        let same = self.theirs.and_then(|t| lookup(t, key)) == Some(ours);
        (!same).then_some(ours)
    }

    /// Each recipe key given its deployment.toml key, where that changed.
    fn keys(&self, keys: &[(&str, &str)]) -> Vec<(String, String)> {
        keys.iter()
            .filter_map(|(recipe, toml)| Some((recipe.to_string(), rendered(self.changed(toml)?))))
            .collect()
    }

    /// A table of texts (`clustering.properties`) as an inline table under
    /// `recipe`, its changed keys only.
    fn map(&self, recipe: &str, toml: &str) -> Option<(String, String)> {
        let ours = lookup(self.ours, toml)?.as_table()?;
        let theirs = self
            .theirs
            .and_then(|t| lookup(t, toml))
            .and_then(toml::Value::as_table);
        let entries: Vec<String> = ours
            .iter()
            .filter(|(k, v)| theirs.and_then(|t| t.get(*k)) != Some(*v))
            .map(|(k, v)| format!("{} = {}", key(k), rendered(v)))
            .collect();
        (!entries.is_empty()).then(|| (recipe.to_string(), format!("{{ {} }}", entries.join(", "))))
    }

    /// A `[database.*]` table's changed keys as a `[[datasource]]`'s; its
    /// password a variable.
    fn datasource(&self, at: &str, variables: &mut Variables) -> Vec<(String, String)> {
        let mut keys = self.keys(&[
            ("url", &format!("{at}.url")),
            ("username", &format!("{at}.username")),
            ("driver", &format!("{at}.driver")),
        ]);
        for (xml, recipe) in POOL {
            if let Some(value) = self.changed(&format!("{at}.pool_options.{xml}")) {
                keys.push((recipe.to_string(), rendered(value)));
            }
        }
        if let Some(password) = self
            .changed(&format!("{at}.password"))
            .and_then(|v| v.as_str())
        {
            let reference =
                variables.reference(deployment::FILE, &format!("{at}.password"), password);
            keys.push(("password".into(), string(&reference)));
        }
        keys
    }
}

/// The value at dotted `key` of `table`.
fn lookup<'t>(table: &'t toml::Table, key: &str) -> Option<&'t toml::Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// A value as the recipe writes it: a string literally (`$${` for `${`),
/// anything else as TOML.
fn rendered(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => string(&literal(s)),
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(rendered).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}
