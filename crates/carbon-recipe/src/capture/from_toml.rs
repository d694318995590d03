//! A Carbon 4.5+ home's deployment.toml read back into the recipe's
//! tables: the keys `carbon_recipe`'s steps write there
//! (`step/deployment.rs`), the other way round. With a baseline, only keys
//! whose values differ; any other key that differs is left to the notes
//! (`[[raw]]` cannot edit a 4.5+ home).

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
        // `capture` takes no `--max-file-size`: nothing to say of raising it.
        let bytes = deployment::read_within(h, carbon_config::DEFAULT_MAX_FILE_SIZE, "")?;
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
    // `[[datasource]]` entries, by `id`: new or changed ones.
    let entries = |t: &toml::Table, array: &str| -> Vec<toml::Table> {
        lookup(t, array)
            .and_then(toml::Value::as_array)
            .map(|a| a.iter().filter_map(|e| e.as_table().cloned()).collect())
            .unwrap_or_default()
    };
    let base_entries = theirs
        .as_ref()
        .map(|t| entries(t, "datasource"))
        .unwrap_or_default();
    for entry in entries(&ours, "datasource") {
        let Some(id) = entry.get("id").and_then(toml::Value::as_str) else {
            continue;
        };
        if base_entries.contains(&entry) {
            continue;
        }
        let one = Reader {
            ours: &entry,
            theirs: None,
        };
        let mut keys = vec![("name".to_string(), string(&literal(id)))];
        keys.extend(one.datasource_keys("", &format!("datasource.{id}"), variables));
        out.push(Table {
            header: "datasource",
            array: true,
            keys,
        });
    }
    // `[apim.*]`: the settings the recipe names, under their tables.
    for &(setting, ..) in carbon_config::api_manager::SETTINGS {
        let Some(value) = reader.changed(&format!("apim.{setting}")) else {
            continue;
        };
        let (table, key) = setting.split_once('.').expect("settings are table.key");
        let header = super::apim::table_header(table);
        let pair = (key.to_string(), rendered(value));
        match out.iter_mut().find(|t| t.header == header) {
            Some(t) => t.keys.push(pair),
            None => out.push(Table {
                header,
                array: false,
                keys: vec![pair],
            }),
        }
    }
    // The gateway environments, all of them when one differs.
    let environments = entries(&ours, "apim.gateway.environment");
    let base_environments = theirs
        .as_ref()
        .map(|t| entries(t, "apim.gateway.environment"))
        .unwrap_or_default();
    if environments != base_environments {
        for e in &environments {
            let Some(name) = e.get("name").and_then(toml::Value::as_str) else {
                continue;
            };
            let one = Reader {
                ours: e,
                theirs: None,
            };
            let mut keys = vec![("name".to_string(), string(&literal(name)))];
            keys.extend(one.keys(&[
                ("type", "type"),
                ("display_in_api_console", "display_in_api_console"),
                ("description", "description"),
                ("service_url", "service_url"),
                ("username", "username"),
                ("http_endpoint", "http_endpoint"),
                ("https_endpoint", "https_endpoint"),
            ]));
            if let Some(password) = e.get("password").and_then(toml::Value::as_str) {
                let at = format!("apim.gateway.environment.{name}.password");
                let reference = variables.reference(deployment::FILE, &at, password);
                keys.push(("password".into(), string(&reference)));
            }
            out.push(Table {
                header: "apim.gateway.environment",
                array: true,
                keys,
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
        self.datasource_keys(&format!("{at}."), at, variables)
    }

    /// The datasource keys below `prefix` (`database.apim_db.`, or `""` in
    /// an entry); `at` names the password's variable.
    fn datasource_keys(
        &self,
        prefix: &str,
        at: &str,
        variables: &mut Variables,
    ) -> Vec<(String, String)> {
        let mut keys = self.keys(&[
            ("url", &format!("{prefix}url")),
            ("username", &format!("{prefix}username")),
            ("driver", &format!("{prefix}driver")),
        ]);
        for (xml, recipe) in POOL {
            if let Some(value) = self.changed(&format!("{prefix}pool_options.{xml}")) {
                keys.push((recipe.to_string(), rendered(value)));
            }
        }
        let password = self
            .changed(&format!("{prefix}password"))
            .and_then(|v| v.as_str());
        if let Some(password) = password {
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
