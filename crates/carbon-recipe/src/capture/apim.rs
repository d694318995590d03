//! API Manager's api-manager.xml read into `[apim]` tables: each setting
//! [`carbon_config::api_manager::SETTINGS`] knows, under the table its
//! name starts with (`key_manager.service_url` is `[apim.key_manager]
//! service_url`), and the gateway environments, all of them whenever one
//! differs (the recipe's environments are exactly the file's).

use carbon_config::api_manager::SETTINGS;
use carbon_config::files;
use xmlsplice::{Document, Element};

use super::edits::literal;
use super::secrets::Variables;
use super::typed::{value_at, value_in, Table};
use super::write::string;

/// The settings written as booleans and as port numbers; the rest are text.
const FLAGS: [&str; 5] = [
    "key_manager.enable_thrift_server",
    "throttling.enable_data_publishing",
    "throttling.enable_blacklist_condition",
    "throttling.enable_decision_connection",
    "analytics.enable",
];
const PORTS: [&str; 2] = [
    "key_manager.thrift_client_port",
    "key_manager.thrift_server_port",
];

/// The `[apim.*]` tables of `doc` (those differing from `base`'s, when
/// comparing), in the order of [`SETTINGS`], then the environments.
pub(super) fn tables(
    doc: &Document,
    base: Option<&Document>,
    compare: bool,
    variables: &mut Variables,
) -> Vec<Table> {
    let mut out: Vec<Table> = Vec::new();
    for &(setting, context, leaf) in SETTINGS {
        let path = format!("{context}/{leaf}");
        let Some(value) = value_at(doc, &path) else {
            continue;
        };
        if compare && base.and_then(|b| value_at(b, &path)).as_deref() == Some(value.as_str()) {
            continue;
        }
        let rendered = if FLAGS.contains(&setting) {
            match value.as_str() {
                "true" | "false" => value.clone(),
                _ => continue,
            }
        } else if PORTS.contains(&setting) {
            match value.parse::<u16>() {
                Ok(port) if port > 0 => port.to_string(),
                _ => continue,
            }
        } else {
            string(&literal(&value))
        };
        let (table, key) = setting.split_once('.').expect("settings are table.key");
        let header = table_header(table);
        match out.iter_mut().find(|t| t.header == header) {
            Some(t) => t.keys.push((key.to_string(), rendered)),
            None => out.push(Table {
                header,
                array: false,
                keys: vec![(key.to_string(), rendered)],
            }),
        }
    }
    let ours = environments(doc);
    if !compare || base.map(environments) != Some(ours.clone()) {
        for e in &ours {
            out.push(environment(e, variables));
        }
    }
    out
}

/// The header of `[apim.NAME]`: a static name, as tables are written.
pub(super) fn table_header(table: &str) -> &'static str {
    match table {
        "key_manager" => "apim.key_manager",
        "auth_manager" => "apim.auth_manager",
        "oauth_config" => "apim.oauth_config",
        "throttling" => "apim.throttling",
        "analytics" => "apim.analytics",
        "devportal" => "apim.devportal",
        "publisher" => "apim.publisher",
        other => unreachable!("SETTINGS names no table {other}"),
    }
}

/// One gateway environment as the file has it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Environment {
    name: String,
    fields: Vec<(&'static str, Option<String>)>,
}

fn environments(doc: &Document) -> Vec<Environment> {
    let Ok(found) = doc.select((doc.root(), "APIGateway/Environments/Environment")) else {
        return Vec::new();
    };
    found
        .into_iter()
        .filter_map(|el: Element| {
            let name = value_in(doc, el, "Name")?;
            let endpoint = value_in(doc, el, "GatewayEndpoint").unwrap_or_default();
            let mut parts = endpoint.split(',').map(|p| p.trim().to_string());
            let (http, https) = (parts.next(), parts.next());
            Some(Environment {
                name,
                fields: vec![
                    ("type", doc.attribute(el, "type").map(str::to_string)),
                    (
                        "display_in_api_console",
                        doc.attribute(el, "api-console").map(str::to_string),
                    ),
                    ("description", value_in(doc, el, "Description")),
                    ("service_url", value_in(doc, el, "ServerURL")),
                    ("username", value_in(doc, el, "Username")),
                    ("password", value_in(doc, el, "Password")),
                    ("http_endpoint", http.filter(|h| !h.is_empty())),
                    ("https_endpoint", https.filter(|h| !h.is_empty())),
                ],
            })
        })
        .collect()
}

/// `[[apim.gateway.environment]]`: its password a variable.
fn environment(e: &Environment, variables: &mut Variables) -> Table {
    let mut keys = vec![("name".to_string(), string(&literal(&e.name)))];
    for (key, value) in &e.fields {
        let Some(value) = value else {
            continue;
        };
        let rendered = match *key {
            "display_in_api_console" => match value.as_str() {
                "true" | "false" => value.clone(),
                _ => continue,
            },
            "password" if value.is_empty() => continue,
            "password" => {
                let path = format!(
                    "/APIManager/APIGateway/Environments/Environment[Name='{}']/Password",
                    e.name
                );
                string(&variables.reference(files::API_MANAGER, &path, value))
            }
            _ => string(&literal(value)),
        };
        keys.push((key.to_string(), rendered));
    }
    Table {
        header: "apim.gateway.environment",
        array: true,
        keys,
    }
}
