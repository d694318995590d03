//! The settings the recipe's tables know, read from a home into those
//! tables: `[server]`, `[deployment_synchronizer]`, `[mediation]`,
//! `[clustering]`, `[tomcat]`, `[identity]`, `[event_processor]`,
//! `[user_store]`, `[apim]` (`apim.rs`), and
//! `[[datasource]]` and `[registry]` (`stores.rs`). With a baseline, a key
//! is written only where the home's value differs from the baseline's, so
//! that the recipe says what someone configured, in the words a recipe
//! author would use. What these tables do not reproduce is left to
//! `[[raw]]` edits (`super::capture`).

use std::path::Path;

use carbon_config::{files, CarbonHome};
use xmlsplice::{Document, Element, TreeCache};

use super::edits::literal;
use super::secrets::Variables;
use super::stores;
use super::write::{key, string};

/// A recipe table: its header below the recipe or a node (`server`,
/// `registry.mount`), whether it is one of an array of tables, and its
/// keys with their values as TOML.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Table {
    pub header: &'static str,
    pub array: bool,
    pub keys: Vec<(String, String)>,
}

/// Reads `home`'s typed settings (those differing from `baseline`'s when
/// there is one); a secret becomes a reference to `variables`.
pub(crate) fn tables(
    home: &CarbonHome,
    baseline: Option<&CarbonHome>,
    variables: &mut Variables,
    trees: &TreeCache,
) -> carbon_config::Result<Vec<Table>> {
    let read = |h: &CarbonHome, rel: &str| -> carbon_config::Result<Option<Document>> {
        let bytes = h
            .root()
            .read(Path::new(rel), carbon_config::DEFAULT_MAX_FILE_SIZE)?;
        // Through the cache: the baseline's files are read for every home,
        // and a home's unchanged ones are the baseline's text.
        Ok(bytes.and_then(|b| Document::parse_with(b, trees).ok()))
    };
    let pair = |rel: &str| -> carbon_config::Result<(Option<Document>, Option<Document>)> {
        Ok((
            read(home, rel)?,
            baseline.map(|b| read(b, rel)).transpose()?.flatten(),
        ))
    };
    if home.model() == carbon_config::ConfigModel::DeploymentToml {
        return super::from_toml::tables(home, baseline, variables);
    }
    let mut out = Vec::new();
    let (carbon, carbon_base) = pair(files::CARBON)?;
    if let Some(doc) = &carbon {
        let server = Keys::new(carbon_base.as_ref(), baseline.is_some())
            .text(doc, "hostname", "HostName")
            .text(doc, "mgt_hostname", "MgtHostName")
            .number(doc, "offset", "Ports/Offset");
        out.extend(server.table("server", false));
        let sync = |leaf: &str| format!("DeploymentSynchronizer/{leaf}");
        let mut synchronizer = Keys::new(carbon_base.as_ref(), baseline.is_some())
            .boolean(doc, "enabled", &sync("Enabled"))
            .boolean(doc, "auto_commit", &sync("AutoCommit"))
            .boolean(doc, "auto_checkout", &sync("AutoCheckout"))
            .text(doc, "repository_type", &sync("RepositoryType"))
            .text(doc, "svn_url", &sync("SvnUrl"))
            .text(doc, "svn_user", &sync("SvnUser"));
        if let Some(password) = value_at(doc, &sync("SvnPassword")) {
            let base = carbon_base
                .as_ref()
                .and_then(|b| value_at(b, &sync("SvnPassword")));
            if !(password.is_empty() || baseline.is_some() && base.as_ref() == Some(&password)) {
                let path = format!("/Server/{}", sync("SvnPassword"));
                let reference = variables.reference(files::CARBON, &path, &password);
                synchronizer
                    .keys
                    .push(("svn_password".into(), string(&reference)));
            }
        }
        let synchronizer = synchronizer.boolean(
            doc,
            "svn_url_append_tenant_id",
            &sync("SvnUrlAppendTenantId"),
        );
        out.extend(synchronizer.table("deployment_synchronizer", false));
        let mediation = Keys::new(carbon_base.as_ref(), baseline.is_some()).boolean(
            doc,
            "load_from_registry",
            "MediationConfig/LoadFromRegistry",
        );
        out.extend(mediation.table("mediation", false));
    }
    let (axis2, axis2_base) = pair(files::AXIS2)?;
    if let Some(doc) = &axis2 {
        out.extend(clustering(doc, axis2_base.as_ref(), baseline.is_some()));
    }
    let (catalina, catalina_base) = pair(files::CATALINA)?;
    if let Some(doc) = &catalina {
        let connector = |port: &str| format!("Service/Connector[@port='{port}']/@proxyPort");
        let tomcat = Keys::new(catalina_base.as_ref(), baseline.is_some())
            .number(doc, "http_proxy_port", &connector("9763"))
            .number(doc, "https_proxy_port", &connector("9443"));
        out.extend(tomcat.table("tomcat", false));
    }
    for file in stores::datasource_files(home)? {
        let rel = format!("{}/{file}", files::DATASOURCES_DIR);
        let (doc, base) = pair(&rel)?;
        if let Some(doc) = &doc {
            out.extend(stores::datasources(
                doc,
                base.as_ref(),
                baseline.is_some(),
                &rel,
                &file,
                variables,
            ));
        }
    }
    let (registry, registry_base) = pair(files::REGISTRY)?;
    if let Some(doc) = &registry {
        out.extend(stores::registry(
            doc,
            registry_base.as_ref(),
            baseline.is_some(),
            variables,
        ));
    }
    let (apim, apim_base) = pair(files::API_MANAGER)?;
    if let Some(doc) = &apim {
        out.extend(super::apim::tables(
            doc,
            apim_base.as_ref(),
            baseline.is_some(),
            variables,
        ));
    }
    let (identity, identity_base) = pair(files::IDENTITY)?;
    if let Some(doc) = &identity {
        let identity = Keys::new(identity_base.as_ref(), baseline.is_some()).text(
            doc,
            "data_source",
            "JDBCPersistenceManager/DataSource/Name",
        );
        out.extend(identity.table("identity", false));
    }
    let (events, events_base) = pair(files::EVENT_PROCESSOR)?;
    if let Some(doc) = &events {
        for (mode, header) in [
            ("HA", "event_processor.ha"),
            ("Distributed", "event_processor.distributed"),
            ("SingleNode", "event_processor.single_node"),
        ] {
            let at = |rest: &str| format!("mode[@name='{mode}']{rest}");
            let mut keys = Keys::new(events_base.as_ref(), baseline.is_some())
                .boolean(doc, "enable", &at("/@enable"))
                .boolean(doc, "presenter", &at("/nodeType/presenter/@enable"))
                .boolean(doc, "persistence", &at("/persistence/@enable"));
            if mode == "HA" {
                keys = keys
                    .text(doc, "event_sync_host", &at("/eventSync/hostName"))
                    .number(doc, "event_sync_port", &at("/eventSync/port"));
            }
            out.extend(keys.table(header, false));
        }
    }
    let (users, users_base) = pair(files::USER_MGT)?;
    if let Some(doc) = &users {
        let user_store = Keys::new(users_base.as_ref(), baseline.is_some()).text(
            doc,
            "data_source",
            "Realm/Configuration/Property[@name='dataSource']",
        );
        out.extend(user_store.table("user_store", false));
    }
    for table in &mut out {
        guard_secrets(table, variables);
    }
    Ok(out)
}

/// A value that holds a secret by what surrounds it (a URL's
/// `user:password`), made a variable as a whole.
fn guard_secrets(table: &mut Table, variables: &mut Variables) {
    let name = table
        .keys
        .iter()
        .find(|(k, _)| k == "name" || k == "id" || k == "path")
        .and_then(|(_, v)| parsed(v))
        .unwrap_or_default();
    for (key, value) in &mut table.keys {
        let Some(text) = parsed(value) else {
            continue;
        };
        if carbon_config::secrets::holds_secret(&text) {
            let path = format!("{}[name='{name}']/{key}", table.header);
            *value = string(&variables.reference(table.header, &path, &text));
        }
    }
}

/// The string a rendered TOML value holds, when it is one.
fn parsed(value: &str) -> Option<String> {
    let table: toml::Table = format!("v = {value}").parse().ok()?;
    let text = table.get("v")?.as_str()?.replace("$${", "${");
    Some(text)
}

/// The keys of one table, each read from the home's document and kept
/// when the baseline's differs (or there is no baseline).
pub(super) struct Keys<'b> {
    /// Where the home's paths start: its document's root, or an element.
    home_at: Option<Element>,
    /// The baseline's document and where its paths start.
    base: Option<(&'b Document, Element)>,
    compare: bool,
    pub(super) keys: Vec<(String, String)>,
}

impl<'b> Keys<'b> {
    pub(super) fn new(base: Option<&'b Document>, compare: bool) -> Keys<'b> {
        Keys {
            home_at: None,
            base: base.map(|b| (b, b.root())),
            compare,
            keys: Vec::new(),
        }
    }

    /// Keys of one entry (a datasource, a dbConfig), read below its
    /// element `home_at` in the home and below `base`'s element in the
    /// baseline: found once, not again by name for each key.
    pub(super) fn below(
        home_at: Element,
        base: Option<(&'b Document, Element)>,
        compare: bool,
    ) -> Keys<'b> {
        Keys {
            home_at: Some(home_at),
            base,
            compare,
            keys: Vec::new(),
        }
    }

    /// Keeps `key` = `value` (TOML) when the home's text at `path` (read
    /// by `read`) differs from the baseline's.
    pub(super) fn keep(
        &mut self,
        key: &str,
        path: &str,
        home: &Document,
        render: impl Fn(&str) -> Option<String>,
    ) {
        let at = self.home_at.unwrap_or_else(|| home.root());
        let Some(value) = value_in(home, at, path) else {
            return;
        };
        let base = self.base.and_then(|(b, at)| value_in(b, at, path));
        if self.compare && base.as_deref() == Some(value.as_str()) {
            return;
        }
        if let Some(rendered) = render(&value) {
            self.keys.push((key.to_string(), rendered));
        }
    }

    pub(super) fn text(mut self, doc: &Document, key: &str, path: &str) -> Keys<'b> {
        self.keep(key, path, doc, |v| Some(string(&literal(v))));
        self
    }

    pub(super) fn number(mut self, doc: &Document, key: &str, path: &str) -> Keys<'b> {
        self.keep(key, path, doc, |v| {
            v.parse::<u32>().ok().map(|n| n.to_string())
        });
        self
    }

    pub(super) fn boolean(mut self, doc: &Document, key: &str, path: &str) -> Keys<'b> {
        self.keep(key, path, doc, |v| match v {
            "true" | "false" => Some(v.to_string()),
            _ => None,
        });
        self
    }

    pub(super) fn table(self, header: &'static str, array: bool) -> Option<Table> {
        (!self.keys.is_empty()).then_some(Table {
            header,
            array,
            keys: self.keys,
        })
    }
}

/// The trimmed text of the element `path` selects below the root, or the
/// attribute its last step `@name` names.
pub(super) fn value_at(doc: &Document, path: &str) -> Option<String> {
    value_in(doc, doc.root(), path)
}

/// [`value_at`], with `path` relative to the element `at` (`@name`: an
/// attribute of `at` itself).
pub(super) fn value_in(doc: &Document, at: Element, path: &str) -> Option<String> {
    if let Some(attribute) = path.strip_prefix('@') {
        return doc.attribute(at, attribute).map(str::to_string);
    }
    match xmlsplice::attribute_step(path) {
        Some((element, attribute)) => {
            let el = doc.select_optional((at, element)).ok()??;
            doc.attribute(el, attribute).map(str::to_string)
        }
        None => {
            let el = doc.select_optional((at, path)).ok()??;
            doc.element_text(el).map(|t| t.trim().to_string())
        }
    }
}

/// `[clustering]`, when clustering is on in the home.
fn clustering(doc: &Document, base: Option<&Document>, compare: bool) -> Option<Table> {
    let enabled = |d: &Document| value_at(d, "clustering/@enable").as_deref() == Some("true");
    if !enabled(doc) {
        return None;
    }
    let parameter = |name: &str| format!("clustering/parameter[@name='{name}']");
    let mut keys = Keys::new(base, compare)
        .text(doc, "membership_scheme", &parameter("membershipScheme"))
        .text(doc, "domain", &parameter("domain"))
        .text(doc, "local_member_host", &parameter("localMemberHost"))
        .number(doc, "local_member_port", &parameter("localMemberPort"));
    // With wka, a recipe without `members` derives them from its other
    // nodes: they are written whenever there are any (capture leaves them
    // out again where the recipe would derive the same).
    let wka = value_at(doc, &parameter("membershipScheme")).as_deref() == Some("wka");
    let ours = members(doc);
    if !ours.is_empty() && (wka || !compare || base.map(members) != Some(ours.clone())) {
        let listed: Vec<String> = ours.iter().map(|m| string(&literal(m))).collect();
        keys.keys
            .push(("members".into(), format!("[{}]", listed.join(", "))));
    }
    let properties = |d: &Document| -> Vec<(String, String)> {
        let Ok(found) = d.select((
            d.root(),
            "clustering/parameter[@name='properties']/property",
        )) else {
            return Vec::new();
        };
        found
            .into_iter()
            .filter_map(|p| {
                Some((
                    d.attribute(p, "name")?.to_string(),
                    d.attribute(p, "value")?.to_string(),
                ))
            })
            .collect()
    };
    let theirs = base.map(properties).unwrap_or_default();
    let changed: Vec<String> = properties(doc)
        .into_iter()
        .filter(|p| !compare || !theirs.contains(p))
        .map(|(name, value)| format!("{} = {}", key(&name), string(&literal(&value))))
        .collect();
    if !changed.is_empty() {
        keys.keys
            .push(("properties".into(), format!("{{ {} }}", changed.join(", "))));
    }
    if compare && keys.keys.is_empty() && base.is_some_and(enabled) {
        return None;
    }
    let mut table = keys.table("clustering", false).unwrap_or(Table {
        header: "clustering",
        array: false,
        keys: Vec::new(),
    });
    if table.keys.is_empty() {
        table.keys.push(("enable".into(), "true".into()));
    }
    Some(table)
}

/// A clustered node's well-known membership: its own member (`host:port`)
/// and its members, when its clustering is on with wka.
pub(crate) struct Membership {
    pub host: String,
    pub port: u32,
    pub own: String,
    pub members: Vec<String>,
}

/// `home`'s wka membership, read as [`clustering`] reads it.
pub(crate) fn membership(
    home: &CarbonHome,
    trees: &TreeCache,
) -> carbon_config::Result<Option<Membership>> {
    let bytes = home.root().read(
        Path::new(files::AXIS2),
        carbon_config::DEFAULT_MAX_FILE_SIZE,
    )?;
    let Some(doc) = bytes.and_then(|b| Document::parse_with(b, trees).ok()) else {
        return Ok(None);
    };
    let parameter = |name: &str| value_at(&doc, &format!("clustering/parameter[@name='{name}']"));
    let on = value_at(&doc, "clustering/@enable").as_deref() == Some("true");
    let (Some(host), Some(port)) = (parameter("localMemberHost"), parameter("localMemberPort"))
    else {
        return Ok(None);
    };
    let Ok(number) = port.parse::<u32>() else {
        return Ok(None);
    };
    if !on || parameter("membershipScheme").as_deref() != Some("wka") {
        return Ok(None);
    }
    Ok(Some(Membership {
        own: member(&host, &port),
        host,
        port: number,
        members: members(&doc),
    }))
}

fn member(host: &str, port: &str) -> String {
    // An IPv6 host needs brackets, unless the file wrote them.
    match host.contains(':') && !host.starts_with('[') {
        true => format!("[{host}]:{port}"),
        false => format!("{host}:{port}"),
    }
}

/// The well-known members, `host:port`.
fn members(d: &Document) -> Vec<String> {
    let Ok(found) = d.select((d.root(), "clustering/members/member")) else {
        return Vec::new();
    };
    found
        .into_iter()
        .filter_map(|m| {
            let host = value_in(d, m, "hostName")?;
            let port = value_in(d, m, "port")?;
            Some(member(&host, &port))
        })
        .collect()
}
