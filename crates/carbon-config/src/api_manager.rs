//! API Manager 1.9 to 2.x: `repository/conf/api-manager.xml`, what its
//! clustering and distributed-deployment guides set on each profile (key
//! manager, gateway, traffic manager, publisher, store).
//!
//! Each setting is named as API Manager 3.x's `deployment.toml` names it
//! (`[apim.key_manager] service_url`), so that a recipe carries over to the
//! products that configure themselves from that file. Elements the file
//! ships commented out (`ThriftClientPort`) are uncommented in place.

use xmlsplice::{Element, NewElement};

use crate::ensure::{check_predicate_value, edit_xml, Fallback, Target};
use crate::error::Result;
use crate::home::files::API_MANAGER;
use crate::session::{Outcome, Session};

/// Every setting: its name, the element that holds it, and the leaf.
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("key_manager.service_url", "APIKeyValidator", "ServerURL"),
    (
        "key_manager.client_type",
        "APIKeyValidator",
        "KeyValidatorClientType",
    ),
    (
        "key_manager.enable_thrift_server",
        "APIKeyValidator",
        "EnableThriftServer",
    ),
    (
        "key_manager.thrift_client_port",
        "APIKeyValidator",
        "ThriftClientPort",
    ),
    (
        "key_manager.thrift_server_host",
        "APIKeyValidator",
        "ThriftServerHost",
    ),
    (
        "key_manager.thrift_server_port",
        "APIKeyValidator",
        "ThriftServerPort",
    ),
    ("auth_manager.service_url", "AuthManager", "ServerURL"),
    (
        "oauth_config.revoke_endpoint",
        "OAuthConfigurations",
        "RevokeAPIURL",
    ),
    (
        "throttling.enable_data_publishing",
        "ThrottlingConfigurations/DataPublisher",
        "Enabled",
    ),
    (
        "throttling.receiver_url",
        "ThrottlingConfigurations/DataPublisher",
        "ReceiverUrlGroup",
    ),
    (
        "throttling.auth_url",
        "ThrottlingConfigurations/DataPublisher",
        "AuthUrlGroup",
    ),
    (
        "throttling.policy_deployer_url",
        "ThrottlingConfigurations/PolicyDeployer",
        "ServiceURL",
    ),
    (
        "throttling.enable_blacklist_condition",
        "ThrottlingConfigurations/BlockCondition",
        "Enabled",
    ),
    (
        "throttling.enable_decision_connection",
        "ThrottlingConfigurations/JMSConnectionDetails",
        "Enabled",
    ),
    (
        "throttling.decision_url",
        "ThrottlingConfigurations/JMSConnectionDetails",
        "ServiceURL",
    ),
    ("analytics.enable", "Analytics", "Enabled"),
    ("analytics.receiver_url", "Analytics", "DASServerURL"),
    ("analytics.store_api_url", "Analytics", "DASRestApiURL"),
    ("devportal.url", "APIStore", "URL"),
    ("publisher.url", "APIPublisher", "URL"),
];

/// Sets one of [`SETTINGS`] to `value`.
///
/// # Errors
/// An unknown setting; a file without the element that holds it.
pub fn set(session: &mut Session, setting: &str, value: &str) -> Result<Outcome> {
    let Some(&(_, context, leaf)) = SETTINGS.iter().find(|(name, ..)| *name == setting) else {
        let file = session.home().path().join(API_MANAGER);
        return Err(crate::Error::Invalid {
            file,
            message: format!("unknown API Manager setting {setting:?}"),
        });
    };
    edit_xml(
        session,
        API_MANAGER,
        format!("{context}/{leaf} = {value}"),
        |t| {
            t.ensure_text(
                context,
                leaf,
                value,
                NewElement::new(leaf),
                Fallback::LastChild,
            )
        },
    )
}

/// A gateway environment (`<APIGateway><Environments><Environment>`), as
/// `[[apim.gateway.environment]]` names its fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environment {
    /// `<Name>`: what identifies it.
    pub name: String,
    /// The `type` attribute: `hybrid`, `production` or `sandbox`.
    pub kind: Option<String>,
    /// The `api-console` attribute.
    pub display_in_api_console: Option<bool>,
    /// `<Description>`.
    pub description: Option<String>,
    /// `<ServerURL>`: the gateway's admin services.
    pub service_url: Option<String>,
    /// `<Username>`.
    pub username: Option<String>,
    /// `<Password>`.
    pub password: Option<String>,
    /// The HTTP half of `<GatewayEndpoint>`.
    pub http_endpoint: Option<String>,
    /// The HTTPS half of `<GatewayEndpoint>`.
    pub https_endpoint: Option<String>,
}

const ENVIRONMENTS: &str = "APIGateway/Environments";
const ENVIRONMENT: &str = "APIGateway/Environments/Environment";

/// Makes the gateway environments exactly `environments`, by name: one the
/// file has is updated in place (its comments and other children kept),
/// a new one goes after the last, and any other (the shipped one, unless
/// the recipe names it) is removed.
///
/// # Errors
/// A file without `<APIGateway><Environments>`; two environments of one name.
pub fn set_environments(session: &mut Session, environments: &[Environment]) -> Result<Outcome> {
    let names: Vec<&str> = environments.iter().map(|e| e.name.as_str()).collect();
    for name in &names {
        check_predicate_value(
            session.home().path().join(API_MANAGER),
            "environment name",
            name,
        )?;
    }
    edit_xml(
        session,
        API_MANAGER,
        format!("gateway environments {}", names.join(", ")),
        |t| {
            let mut changed = false;
            // Those the recipe does not name go first.
            for existing in t.doc.select(ENVIRONMENT)?.into_iter().rev() {
                let name = environment_name(t, existing);
                if !name.as_deref().is_some_and(|n| names.contains(&n)) {
                    t.doc.remove(existing)?;
                    changed = true;
                }
            }
            if changed {
                t.doc.apply()?;
            }
            for environment in environments {
                changed |= ensure_environment(t, environment)?;
            }
            Ok(changed)
        },
    )
}

fn environment_name(t: &Target, environment: Element) -> Option<String> {
    let name = t.doc.select_optional((environment, "Name")).ok()??;
    t.doc.element_text(name).map(|n| n.trim().to_string())
}

/// One environment as the recipe gives it: found by name and updated field
/// by field, or added after the last.
fn ensure_environment(t: &mut Target, environment: &Environment) -> Result<bool> {
    let found: Vec<Element> = t
        .doc
        .select(ENVIRONMENT)?
        .into_iter()
        .filter(|&e| environment_name(t, e).as_deref() == Some(environment.name.as_str()))
        .collect();
    if found.len() > 1 {
        return Err(t.invalid(format!(
            "{} gateway environments are named {:?}; names tell them apart",
            found.len(),
            environment.name
        )));
    }
    let mut changed = false;
    if found.is_empty() {
        let new = NewElement::new("Environment").text_child("Name", &environment.name);
        t.insert_after_kind(ENVIRONMENTS, "Environment", &[], &new)?;
        t.doc.apply()?;
        changed = true;
    }
    let path = format!("{ENVIRONMENTS}/Environment[Name='{}']", environment.name);
    if let Some(kind) = &environment.kind {
        changed |= t.set_attribute(&path, "type", kind)?;
    }
    if let Some(console) = environment.display_in_api_console {
        changed |= t.set_attribute(&path, "api-console", if console { "true" } else { "false" })?;
    }
    let endpoint = match (&environment.http_endpoint, &environment.https_endpoint) {
        (None, None) => None,
        (http, https) => {
            let current = t
                .doc
                .select_optional((t.one(&path)?, "GatewayEndpoint"))?
                .and_then(|e| t.doc.element_text(e))
                .unwrap_or_default();
            let mut parts = current.split(',').map(|p| p.trim().to_string());
            let (old_http, old_https) = (parts.next(), parts.next());
            let http = http.clone().or(old_http).unwrap_or_default();
            let https = https.clone().or(old_https).unwrap_or_default();
            Some(format!("{http},{https}"))
        }
    };
    let leaves: Vec<(&str, String)> = [
        ("Description", environment.description.clone()),
        ("ServerURL", environment.service_url.clone()),
        ("Username", environment.username.clone()),
        ("Password", environment.password.clone()),
        ("GatewayEndpoint", endpoint),
    ]
    .into_iter()
    .filter_map(|(leaf, value)| value.map(|v| (leaf, v)))
    .collect();
    changed |= t.ensure_leaves(&path, &leaves, &[])?;
    Ok(changed)
}
