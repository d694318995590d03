//! A step on a Carbon 4.5+ home: the deployment.toml key that carries it
//! ([`carbon_config::deployment`]), named as WSO2's templates name it. A
//! step no key carries is an error that names the setting and the
//! product: the home's XML is rendered from deployment.toml at every start,
//! so an XML edit would be lost.

use carbon_config::datasources::Datasource;
use carbon_config::deployment::{self, Value};
use carbon_config::{Error, Outcome, Result, Session};

use super::Step;

/// The databases a 4.5+ pack's templates render from `[database.*]`, by
/// the datasource name they render: every other datasource is a
/// `[[datasource]]` entry, rendered under its `id`.
const DATABASES: [(&str, &str); 6] = [
    ("WSO2AM_DB", "database.apim_db"),
    ("WSO2_SHARED_DB", "database.shared_db"),
    ("WSO2USER_DB", "database.user"),
    ("WSO2CONFIG_DB", "database.config"),
    ("WSO2IDENTITY_DB", "database.identity_db"),
    ("WSO2_CARBON_DB", ""),
];

impl Step {
    /// This step as deployment.toml keys.
    pub(super) fn apply_to_deployment_toml(&self, s: &mut Session) -> Result<Vec<Outcome>> {
        let set = |s: &mut Session, key: &str, value: Value| deployment::set(s, key, &value);
        let text = |v: &str| Value::Text(v.to_string());
        Ok(vec![match self {
            Step::Offset(n) => set(s, "server.offset", Value::Number(i64::from(*n)))?,
            Step::HostName(h) => set(s, "server.hostname", text(h))?,
            // One key renders both host names.
            Step::MgtHostName(h) => match deployment::get(s, "server.hostname")? {
                Some(current) if current.trim_matches('"') == h => Outcome {
                    file: deployment::FILE.into(),
                    what: format!("server.hostname = {h:?} (the management host name too)"),
                    changed: false,
                },
                _ => {
                    return Err(no_key(
                        s,
                        "[server] mgt_hostname unlike hostname",
                        "server.hostname renders both host names",
                    ))
                }
            },
            // On when a membership scheme is set, as the templates say.
            Step::ClusteringEnabled(true) => Outcome {
                file: deployment::FILE.into(),
                what: "clustering on with clustering.membership_scheme".into(),
                changed: false,
            },
            Step::ClusteringEnabled(false) => {
                deployment::remove(s, "clustering.membership_scheme")?
            }
            Step::ClusteringParameter(name, value) => {
                let own = match name.as_str() {
                    "membershipScheme" => Some("membership_scheme"),
                    "domain" => Some("domain"),
                    "localMemberHost" => Some("local_member_host"),
                    "localMemberPort" => Some("local_member_port"),
                    _ => None,
                };
                // The templates render `clustering.properties` as more
                // clustering parameters, by name (which may hold dots).
                let path: Vec<&str> = match own {
                    Some(key) => vec!["clustering", key],
                    None => vec!["clustering", "properties", name.as_str()],
                };
                let value = match value.parse::<i64>() {
                    Ok(n) if name == "localMemberPort" => Value::Number(n),
                    _ => text(value),
                };
                deployment::set_path(s, &path, &value)?
            }
            Step::Members(members) => set(
                s,
                "clustering.members",
                Value::Texts(members.iter().map(ToString::to_string).collect()),
            )?,
            Step::MemberProperty(name, _) => {
                return Err(no_key(
                    s,
                    &format!("[clustering] properties {name} (a member property)"),
                    "the pack's template writes the member properties itself; its \
                     clustering.properties are clustering parameters, `parameters` in a recipe",
                ))
            }
            Step::ConnectorAttribute { port, name, value } if name == "proxyPort" => {
                let transport = match port {
                    9443 => "https",
                    9763 => "http",
                    other => {
                        return Err(no_key(
                            s,
                            &format!("the proxy port of connector {other}"),
                            "",
                        ))
                    }
                };
                let value = value
                    .parse::<i64>()
                    .map_or_else(|_| text(value), Value::Number);
                set(
                    s,
                    &format!("transport.{transport}.properties.proxyPort"),
                    value,
                )?
            }
            Step::UserStoreManager(kind) => set(s, "user_store.type", text(kind))?,
            Step::UserStoreProperty(name, value) => {
                set(s, &format!("user_store.properties.{name}"), text(value))?
            }
            Step::RealmDataSource(jndi) => {
                // API Manager 3.x's template writes `jdbc/` before the key's
                // value itself.
                let template = "repository/conf/user-mgt.xml.j2";
                let prefixed = deployment::template_holds(
                    s.home(),
                    template,
                    "jdbc/{{realm_manager.data_source}}",
                )?;
                let name = match prefixed {
                    true => jndi.strip_prefix("jdbc/").unwrap_or(jndi),
                    false => jndi.as_str(),
                };
                set(s, "realm_manager.data_source", text(name))?
            }
            Step::RealmProperty(name, value) => {
                set(s, &format!("realm_manager.properties.{name}"), text(value))?
            }
            // `[apim]` keys are API Manager 3.x's own names.
            Step::ApimSetting(key, value) => set(s, &format!("apim.{key}"), typed(value))?,
            Step::ApimEnvironments(environments) => {
                let mut out = Vec::new();
                for e in environments {
                    let id = ("name", e.name.as_str());
                    let fields = [
                        ("type", e.kind.clone().map(Value::Text)),
                        (
                            "display_in_api_console",
                            e.display_in_api_console.map(Value::Flag),
                        ),
                        ("description", e.description.clone().map(Value::Text)),
                        ("service_url", e.service_url.clone().map(Value::Text)),
                        ("username", e.username.clone().map(Value::Text)),
                        ("password", e.password.clone().map(Value::Text)),
                        ("http_endpoint", e.http_endpoint.clone().map(Value::Text)),
                        ("https_endpoint", e.https_endpoint.clone().map(Value::Text)),
                    ];
                    for (key, value) in fields {
                        if let Some(value) = value {
                            let array = "apim.gateway.environment";
                            out.push(deployment::set_in_entry(s, array, id, key, &value)?);
                        }
                    }
                }
                // Exactly these, as on API Manager 2.x's XML.
                let names: Vec<&str> = environments.iter().map(|e| e.name.as_str()).collect();
                let array = "apim.gateway.environment";
                out.push(deployment::retain_entries(s, array, "name", &names)?);
                return Ok(out);
            }
            Step::Datasource { spec, .. } => return datasource(s, spec),
            Step::Lib(..) => return self.apply_to_xml(s),
            Step::Raw { file, .. } => {
                return Err(Error::Invalid {
                    file: s.home().path().join(file),
                    message: "[[raw]] XML edits are refused on a Carbon 4.5+ home: its XML is \
                              rendered from repository/conf/deployment.toml at every start, so \
                              the edit would be lost"
                        .into(),
                })
            }
            other => return Err(no_key(s, &other.setting(), "")),
        }])
    }

    /// The recipe setting behind this step, in the recipe's words.
    fn setting(&self) -> String {
        match self {
            Step::CommentOutMemberProperty(name) => {
                format!("[clustering] comment_out_properties {name}")
            }
            Step::ConnectorAttribute { port, name, .. } => {
                format!("[tomcat] {name} of connector {port}")
            }
            Step::DeploymentSynchronizer(key, _) => format!("[deployment_synchronizer] {key}"),
            Step::LoadFromRegistry(_) => "[mediation] load_from_registry".into(),
            Step::CommentOutDatasource { name, .. } | Step::RemoveDatasource { name, .. } => {
                format!("datasource {name}'s state")
            }
            Step::DbConfig(..) => "[[registry.db_config]]".into(),
            Step::CurrentDbConfig(_) => "[registry] current_db_config".into(),
            Step::RemoteInstance(_) => "[[registry.remote_instance]]".into(),
            Step::Mount(_) => "[[registry.mount]]".into(),
            Step::RealmDataSource(_)
            | Step::RealmJdbc(_)
            | Step::RealmReadOnly(_)
            | Step::RealmProperty(..)
            | Step::UserStoreManager(_)
            | Step::UserStoreProperty(..) => "[user_store]".into(),
            Step::IdentityDataSource(_) => "[identity] data_source".into(),
            Step::EventMode { .. }
            | Step::Presenter { .. }
            | Step::Persistence { .. }
            | Step::EventSync { .. } => "[event_processor]".into(),
            Step::ApimSetting(key, _) => format!("[apim] {key}"),
            Step::ApimEnvironments(_) => "[[apim.gateway.environment]]".into(),
            Step::Spark(key, _) => format!("[spark] {key}"),
            other => format!("{other:?}"),
        }
    }
}

/// A datasource as `[database.*]` keys or a `[[datasource]]` entry.
fn datasource(s: &mut Session, spec: &Datasource) -> Result<Vec<Outcome>> {
    let database = DATABASES
        .iter()
        .find(|(name, _)| *name == spec.name)
        .map(|(_, key)| *key);
    if database == Some("") {
        return Err(no_key(
            s,
            &format!("datasource {}", spec.name),
            "the pack's template fixes it",
        ));
    }
    for (given, what) in [
        (&spec.jndi, "jndi"),
        (&spec.description, "description"),
        (&spec.definition_type, "definition_type"),
    ] {
        if given.is_some() {
            return Err(no_key(
                s,
                &format!("datasource {} {what}", spec.name),
                "the pack's template writes it",
            ));
        }
    }
    let mut out = Vec::new();
    for (name, value) in &spec.configuration {
        let key = match name.as_str() {
            "url" => "url".to_string(),
            "username" => "username".to_string(),
            "password" => "password".to_string(),
            "driverClassName" => "driver".to_string(),
            other => format!("pool_options.{other}"),
        };
        let value = match value.as_str() {
            "true" | "false" => Value::Flag(value == "true"),
            _ => match value.parse::<i64>() {
                Ok(n) if key.starts_with("pool_options.") => Value::Number(n),
                _ => Value::Text(value.clone()),
            },
        };
        out.push(match database {
            Some(table) => deployment::set(s, &format!("{table}.{key}"), &value)?,
            None => deployment::set_in_entry(s, "datasource", ("id", &spec.name), &key, &value)?,
        });
        // The database's `type` picks the mapper's defaults for it (its
        // validation query, say): it follows the URL, where the pack has one.
        if let (Some(table), "url") = (database, key.as_str()) {
            let kind = DATABASE_TYPES
                .iter()
                .find(|(scheme, _)| value_text(&spec.configuration, "url").starts_with(scheme));
            let type_key = format!("{table}.type");
            if let Some((_, kind)) = kind {
                if deployment::takes(s, &type_key)? {
                    out.push(deployment::set(
                        s,
                        &type_key,
                        &Value::Text(kind.to_string()),
                    )?);
                }
            }
        }
    }
    Ok(out)
}

/// A value as TOML types it: `true`/`false` a boolean, digits an integer.
fn typed(value: &str) -> Value {
    match value {
        "true" | "false" => Value::Flag(value == "true"),
        _ => match value.parse::<i64>() {
            Ok(n) if !value.starts_with('0') || value == "0" => Value::Number(n),
            _ => Value::Text(value.to_string()),
        },
    }
}

/// The `type` WSO2's config mapper gives each JDBC URL scheme.
const DATABASE_TYPES: [(&str, &str); 6] = [
    ("jdbc:mysql:", "mysql"),
    ("jdbc:h2:", "h2"),
    ("jdbc:postgresql:", "postgre"),
    ("jdbc:sqlserver:", "mssql"),
    ("jdbc:oracle:", "oracle"),
    ("jdbc:db2:", "db2"),
];

fn value_text<'c>(configuration: &'c [(String, String)], name: &str) -> &'c str {
    configuration
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.trim())
}

/// No deployment.toml key carries `setting` on this home's product.
fn no_key(s: &Session, setting: &str, why: &str) -> Error {
    let product = s.home().product().unwrap_or("this product");
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" ({why})")
    };
    Error::Invalid {
        file: s.home().path().join(deployment::FILE),
        message: format!(
            "{setting} has no deployment.toml key on {product}{why}: a Carbon 4.5+ home renders \
             its XML from deployment.toml at every start, so it cannot be set there"
        ),
    }
}
