//! A home's cluster configuration as read: what an operator reviews before
//! and after an apply, typed.
//!
//! [`Summary::read`] reads what the operations edit (clustering and member
//! properties, ports with their proxy ports, host names, the deployment
//! synchronizer, datasources, the registry, the user store) from the files as
//! they are, and validates them. Nothing secret is kept: a datasource's
//! password is only said to be there, and a password given in a URL is
//! masked ([`crate::secrets`]). It serializes as the `inspect` command's
//! JSON (docs/json.md), numbers and booleans as such.

use std::path::PathBuf;

use serde::Serialize;
use xmlsplice::{Document, Element};

use crate::secrets::{mask_finding, names_a_secret, Secrets, MASK};
use crate::validate::{validate, Finding};
use crate::{files, CarbonHome, ConfigModel, Result, Session};

/// What a home's configuration says.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The product's name, from `bin/version.txt`.
    pub product: Option<String>,
    /// The product's version.
    pub version: Option<String>,
    /// Where the configuration lives, in words.
    #[serde(rename = "config_model", serialize_with = "model_words")]
    pub model: ConfigModel,
    /// axis2.xml's `<clustering>`; `None` without one (or without the file).
    pub clustering: Option<Clustering>,
    /// carbon.xml's port offset.
    pub offset: Option<u32>,
    /// The ports served, the offset applied: Tomcat's connectors
    /// (catalina-server.xml), or Carbon's defaults without that file.
    pub ports: Vec<Port>,
    /// carbon.xml's `<HostName>`; `None` while commented out.
    pub host_name: Option<String>,
    /// carbon.xml's `<MgtHostName>`.
    pub mgt_host_name: Option<String>,
    /// carbon.xml's `<DeploymentSynchronizer>`; `None` without an active one.
    pub deployment_synchronizer: Option<DeploymentSynchronizer>,
    /// Every datasource of every `*-datasources.xml`.
    pub datasources: Vec<Datasource>,
    /// registry.xml's databases, remote instances and mounts.
    pub registry: Registry,
    /// The user store's `dataSource` property (user-mgt.xml).
    pub user_store_data_source: Option<String>,
    /// The class of the active (first uncommented) `<UserStoreManager>`.
    pub user_store_manager: Option<String>,
    /// What validation finds, masked.
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// axis2.xml's clustering.
#[derive(Clone, Debug, Serialize)]
pub struct Clustering {
    /// Its `enable` attribute is `true`.
    pub enabled: bool,
    /// The `membershipScheme` parameter.
    pub membership_scheme: Option<String>,
    /// The `domain` parameter.
    pub domain: Option<String>,
    /// The `localMemberHost` parameter.
    pub local_member_host: Option<String>,
    /// The `localMemberPort` parameter; `None` when absent or not a number.
    pub local_member_port: Option<u32>,
    /// Each well-known member, `host:port`.
    pub members: Vec<String>,
    /// The member properties (`subDomain`, …), a secret's value masked.
    pub properties: Vec<Property>,
}

/// A member property.
#[derive(Clone, Debug, Serialize)]
pub struct Property {
    /// Its `name`.
    pub name: String,
    /// Its `value`, masked when the name is a secret's.
    pub value: Option<String>,
}

/// carbon.xml's deployment synchronizer (its password is never kept).
#[derive(Clone, Debug, Serialize)]
pub struct DeploymentSynchronizer {
    /// `<Enabled>`.
    pub enabled: Option<bool>,
    /// `<AutoCommit>`: this node writes the shared repository.
    pub auto_commit: Option<bool>,
    /// `<AutoCheckout>`.
    pub auto_checkout: Option<bool>,
    /// `<RepositoryType>`.
    pub repository_type: Option<String>,
    /// `<SvnUrl>`, a password given in it masked.
    pub svn_url: Option<String>,
    /// `<SvnUser>`.
    pub svn_user: Option<String>,
}

/// A port served.
#[derive(Clone, Debug, Serialize)]
pub struct Port {
    /// `HTTP`, `HTTPS` or `connector N` (N its port without the offset).
    pub name: String,
    /// The port, the offset applied.
    pub port: u32,
    /// The connector's `proxyPort` (a load balancer's port), if set.
    pub proxy_port: Option<u32>,
}

/// One datasource.
#[derive(Clone, Debug, Serialize)]
pub struct Datasource {
    /// Its file, relative to the home (in JSON, any bytes that are not
    /// UTF-8 replaced).
    #[serde(serialize_with = "lossy")]
    pub file: PathBuf,
    /// Its `<name>`.
    pub name: Option<String>,
    /// Its JNDI name.
    pub jndi: Option<String>,
    /// Its URL, a password given in it masked.
    pub url: Option<String>,
    /// Its user name.
    pub username: Option<String>,
    /// Whether it has a password (shown as the mask, never its value).
    #[serde(rename = "password", serialize_with = "mask_if")]
    pub has_password: bool,
}

/// registry.xml.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Registry {
    /// Each `<dbConfig>`.
    pub db_configs: Vec<DbConfig>,
    /// Each `<remoteInstance>`.
    pub remote_instances: Vec<RemoteInstance>,
    /// Each `<mount>`.
    pub mounts: Vec<Mount>,
}

/// A registry database.
#[derive(Clone, Debug, Serialize)]
pub struct DbConfig {
    /// Its `name` attribute.
    pub name: Option<String>,
    /// Its `<dataSource>` (a JNDI name).
    pub data_source: Option<String>,
    /// Its `<url>`, a password given in it masked.
    pub url: Option<String>,
    /// Whether `<currentDBConfig>` names it.
    pub current: bool,
}

/// A remote registry instance.
#[derive(Clone, Debug, Serialize)]
pub struct RemoteInstance {
    /// Its `<id>`.
    pub id: Option<String>,
    /// Its `url` attribute, a password given in it masked.
    pub url: Option<String>,
    /// Its `<dbConfig>`.
    pub db_config: Option<String>,
    /// Its `<readOnly>`; `None` when absent or neither `true` nor `false`.
    pub read_only: Option<bool>,
}

/// A registry mount.
#[derive(Clone, Debug, Serialize)]
pub struct Mount {
    /// Its `path` attribute.
    pub path: Option<String>,
    /// Its `<instanceId>`.
    pub instance_id: Option<String>,
    /// Its `<targetPath>`.
    pub target_path: Option<String>,
}

impl Summary {
    /// Reads `home`. A Carbon 4.5+ home gives its product and model only:
    /// its XML is regenerated from deployment.toml at every start.
    ///
    /// # Errors
    /// A file that cannot be read (a link out of the home, a FIFO, too
    /// large) or does not parse, named with its path.
    pub fn read(home: &CarbonHome) -> Result<Summary> {
        let mut summary = Summary {
            product: home.product().map(String::from),
            version: home.version().map(String::from),
            model: home.model(),
            clustering: None,
            offset: None,
            ports: Vec::new(),
            host_name: None,
            mgt_host_name: None,
            deployment_synchronizer: None,
            datasources: Vec::new(),
            registry: Registry::default(),
            user_store_data_source: None,
            user_store_manager: None,
            findings: Vec::new(),
        };
        if home.model() == ConfigModel::DeploymentToml {
            return Ok(summary);
        }
        if let Some(doc) = open(home, files::AXIS2)? {
            summary.clustering = clustering(&doc)?;
        }
        if let Some(doc) = open(home, files::CARBON)? {
            summary.offset = first_text(&doc, "Ports/Offset").and_then(|t| t.parse().ok());
            summary.host_name = first_text(&doc, "HostName");
            summary.mgt_host_name = first_text(&doc, "MgtHostName");
            summary.deployment_synchronizer = deployment_synchronizer(&doc)?;
        }
        summary.ports = ports(home, summary.offset.unwrap_or(0))?;
        let mut total = 0;
        for file in home.datasource_files() {
            if let Some(doc) = open(home, &file.to_string_lossy())? {
                let (len, limit) = (doc.text().len(), crate::DEFAULT_MAX_FILE_SIZE);
                crate::validate::datasources_within(home, &mut total, len, limit)?;
                summary.datasources.extend(datasources(&doc, &file)?);
            }
        }
        if let Some(doc) = open(home, files::REGISTRY)? {
            summary.registry = registry(&doc)?;
        }
        if let Some(doc) = open(home, files::USER_MGT)? {
            summary.user_store_data_source =
                first_text(&doc, "Realm/Configuration/Property[@name='dataSource']");
            summary.user_store_manager = doc
                .select("Realm/UserStoreManager")?
                .first()
                .and_then(|m| doc.attribute(*m, "class"))
                .map(String::from);
        }
        // Masked here, once, so that every rendering shows the same (a
        // password parameter quoted from a file; a home has no recipe
        // secrets).
        summary.findings = validate(&Session::new(home))?
            .iter()
            .map(|f| mask_finding(f, &Secrets::default()))
            .collect();
        Ok(summary)
    }
}

/// What a home's files say a node listens on, as they are: carbon.xml's
/// port offset, and axis2.xml's `localMemberHost` and `localMemberPort`.
/// What a recipe leaves out, the home decides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterPorts {
    /// `<Ports><Offset>`.
    pub offset: Option<u32>,
    /// The `localMemberHost` parameter.
    pub local_member_host: Option<String>,
    /// The `localMemberPort` parameter.
    pub local_member_port: Option<u32>,
}

impl ClusterPorts {
    /// Reads them from `home` (none for a Carbon 4.5+ home).
    ///
    /// # Errors
    /// As [`Summary::read`].
    pub fn read(home: &CarbonHome) -> Result<ClusterPorts> {
        let mut ports = ClusterPorts::default();
        if home.model() == ConfigModel::DeploymentToml {
            return Ok(ports);
        }
        if let Some(doc) = open(home, files::CARBON)? {
            ports.offset = first_text(&doc, "Ports/Offset").and_then(|t| t.parse().ok());
        }
        if let Some(doc) = open(home, files::AXIS2)? {
            let param =
                |name: &str| first_text(&doc, &format!("clustering/parameter[@name='{name}']"));
            ports.local_member_host = param("localMemberHost");
            ports.local_member_port = param("localMemberPort").and_then(|p| p.parse().ok());
        }
        Ok(ports)
    }
}

/// The XML file `rel` of `home`, read through the home's root (no link
/// out of it, no FIFO); `None` when it does not exist.
fn open(home: &CarbonHome, rel: &str) -> Result<Option<Document>> {
    let Some(bytes) = home.root().read(rel, crate::DEFAULT_MAX_FILE_SIZE)? else {
        return Ok(None);
    };
    let doc = Document::parse(bytes).map_err(|e| e.with_path(home.path().join(rel)))?;
    Ok(Some(doc))
}

fn first_text(doc: &Document, path: &str) -> Option<String> {
    let el = doc.select(path).ok()?.into_iter().next()?;
    doc.element_text(el).map(|t| t.trim().to_string())
}

fn text_in(doc: &Document, el: Element, path: &str) -> Option<String> {
    let found = doc.select((el, path)).ok()?.into_iter().next()?;
    doc.element_text(found).map(|t| t.trim().to_string())
}

/// A URL as kept: a password given in it (`;password=…`) masked.
fn masked_url(url: String) -> String {
    crate::secrets::mask(&url, &Secrets::default())
}

fn clustering(doc: &Document) -> Result<Option<Clustering>> {
    let Some(clustering) = doc.select_optional("clustering")? else {
        return Ok(None);
    };
    let param = |name: &str| first_text(doc, &format!("clustering/parameter[@name='{name}']"));
    let members = doc
        .select("clustering/members/member")?
        .into_iter()
        .map(|m| {
            format!(
                "{}:{}",
                text_in(doc, m, "hostName").unwrap_or_default(),
                text_in(doc, m, "port").unwrap_or_default()
            )
        })
        .collect();
    let properties = doc
        .select("clustering/parameter[@name='properties']/property")?
        .into_iter()
        .filter_map(|p| {
            let name = doc.attribute(p, "name")?.to_string();
            let value = doc
                .attribute(p, "value")
                .map(|v| match names_a_secret(&name) {
                    true => MASK.to_string(),
                    false => v.to_string(),
                });
            Some(Property { name, value })
        })
        .collect();
    Ok(Some(Clustering {
        enabled: doc.attribute(clustering, "enable") == Some("true"),
        membership_scheme: param("membershipScheme"),
        domain: param("domain"),
        local_member_host: param("localMemberHost"),
        local_member_port: param("localMemberPort").and_then(|p| p.parse().ok()),
        members,
        properties,
    }))
}

/// Tomcat's connectors, or Carbon's two when catalina-server.xml is
/// missing; `offset` added.
fn ports(home: &CarbonHome, offset: u32) -> Result<Vec<Port>> {
    let number = |doc: &Document, c: Element, name: &str| doc.attribute(c, name)?.parse().ok();
    let connectors: Vec<(u32, Option<u32>)> = match open(home, files::CATALINA)? {
        Some(doc) => doc
            .select("//Connector")?
            .into_iter()
            .filter_map(|c| Some((number(&doc, c, "port")?, number(&doc, c, "proxyPort"))))
            .collect(),
        None => vec![(9763, None), (9443, None)],
    };
    // A port pushed past any port by the offset (a hostile file's) is left
    // out: it is no port the server could open.
    Ok(connectors
        .into_iter()
        .filter_map(|(port, proxy_port)| {
            Some(Port {
                name: match port {
                    9763 => "HTTP".to_string(),
                    9443 => "HTTPS".to_string(),
                    other => format!("connector {other}"),
                },
                port: port.checked_add(offset)?,
                proxy_port,
            })
        })
        .collect())
}

fn deployment_synchronizer(doc: &Document) -> Result<Option<DeploymentSynchronizer>> {
    let Some(sync) = doc.select_optional("DeploymentSynchronizer")? else {
        return Ok(None);
    };
    let text = |name: &str| text_in(doc, sync, name);
    let flag = |name: &str| text(name).and_then(|t| t.parse().ok());
    Ok(Some(DeploymentSynchronizer {
        enabled: flag("Enabled"),
        auto_commit: flag("AutoCommit"),
        auto_checkout: flag("AutoCheckout"),
        repository_type: text("RepositoryType"),
        svn_url: text("SvnUrl").map(masked_url),
        svn_user: text("SvnUser"),
    }))
}

fn datasources(doc: &Document, file: &std::path::Path) -> Result<Vec<Datasource>> {
    let mut found = Vec::new();
    for ds in doc.select("datasources/datasource")? {
        found.push(Datasource {
            file: file.to_path_buf(),
            name: text_in(doc, ds, "name"),
            jndi: text_in(doc, ds, "jndiConfig/name"),
            url: text_in(doc, ds, "definition/configuration/url").map(masked_url),
            username: text_in(doc, ds, "definition/configuration/username"),
            has_password: doc
                .select_optional((ds, "definition/configuration/password"))?
                .is_some(),
        });
    }
    Ok(found)
}

fn registry(doc: &Document) -> Result<Registry> {
    let current = first_text(doc, "currentDBConfig");
    let mut registry = Registry::default();
    for db in doc.select("dbConfig")? {
        let name = doc.attribute(db, "name").map(String::from);
        registry.db_configs.push(DbConfig {
            current: current.is_some() && current == name,
            data_source: text_in(doc, db, "dataSource"),
            url: text_in(doc, db, "url").map(masked_url),
            name,
        });
    }
    for instance in doc.select("remoteInstance")? {
        registry.remote_instances.push(RemoteInstance {
            id: text_in(doc, instance, "id"),
            url: doc.attribute(instance, "url").map(|u| masked_url(u.into())),
            db_config: text_in(doc, instance, "dbConfig"),
            read_only: text_in(doc, instance, "readOnly").and_then(|r| r.parse().ok()),
        });
    }
    for mount in doc.select("mount")? {
        registry.mounts.push(Mount {
            path: doc.attribute(mount, "path").map(String::from),
            instance_id: text_in(doc, mount, "instanceId"),
            target_path: text_in(doc, mount, "targetPath"),
        });
    }
    Ok(registry)
}

fn model_words<S: serde::Serializer>(
    model: &ConfigModel,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(match model {
        ConfigModel::Xml => "xml (Carbon 4.x: repository/conf XML files)",
        ConfigModel::DeploymentToml => "deployment.toml (Carbon 4.5+: XML regenerated at start)",
    })
}

fn lossy<S: serde::Serializer>(
    path: &std::path::Path,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

fn mask_if<S: serde::Serializer>(present: &bool, s: S) -> std::result::Result<S::Ok, S::Error> {
    match present {
        true => s.serialize_str(MASK),
        false => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_home_reads_typed() {
        let home = CarbonHome::open("../../fixtures/homes/carbon-4.4").unwrap();
        let summary = Summary::read(&home).unwrap();
        let clustering = summary
            .clustering
            .as_ref()
            .expect("axis2.xml has clustering");
        assert!(!clustering.enabled);
        assert_eq!(clustering.membership_scheme.as_deref(), Some("multicast"));
        assert_eq!(clustering.local_member_port, Some(4000));
        assert_eq!(clustering.members, ["127.0.0.1:4000"]);
        let properties: Vec<(&str, Option<&str>)> = clustering
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_deref()))
            .collect();
        assert_eq!(properties[1], ("subDomain", Some("worker")));
        let sync = summary
            .deployment_synchronizer
            .as_ref()
            .expect("carbon.xml has one");
        assert_eq!((sync.enabled, sync.auto_commit), (Some(false), Some(false)));
        assert_eq!(
            summary.user_store_manager.as_deref(),
            Some("org.example.user.core.jdbc.JDBCUserStoreManager")
        );
        assert_eq!(summary.offset, Some(0));
        let ports: Vec<(&str, u32, Option<u32>)> = summary
            .ports
            .iter()
            .map(|p| (p.name.as_str(), p.port, p.proxy_port))
            .collect();
        assert_eq!(ports, [("HTTP", 9763, None), ("HTTPS", 9443, None)]);
        assert!(summary.datasources.iter().any(|d| d.has_password));
    }

    /// A member property that names a secret is masked; a connector's
    /// proxy port is read.
    #[test]
    fn secrets_stay_masked_and_proxy_ports_show() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.4");
        golden::copy_tree(&fixture, dir.path());
        // Bytes: carbon.xml is Latin-1.
        let edit = |rel: &str, from: &str, to: &str| {
            let path = dir.path().join(rel);
            let bytes = std::fs::read(&path).unwrap();
            let at = bytes
                .windows(from.len())
                .position(|w| w == from.as_bytes())
                .unwrap_or_else(|| panic!("{rel} holds no {from}"));
            let edited = [&bytes[..at], to.as_bytes(), &bytes[at + from.len()..]].concat();
            std::fs::write(&path, edited).unwrap();
        };
        edit(
            files::AXIS2,
            r#"<property name="subDomain" value="worker"/>"#,
            r#"<property name="subDomain" value="worker"/><property name="keyStorePassword" value="S3cret"/>"#,
        );
        edit(
            files::CATALINA,
            "<Connector ",
            r#"<Connector proxyPort="80" "#,
        );
        edit(
            files::CARBON,
            "<SvnUrl>http://",
            "<SvnUrl>http://deployer:Hunter2@",
        );
        // A hostile port number, pushed past any by the offset: no panic, no port.
        edit(files::CATALINA, r#"port="9443""#, r#"port="4294967295""#);
        edit(files::CARBON, "<Offset>0</Offset>", "<Offset>1</Offset>");
        let summary = Summary::read(&CarbonHome::open(dir.path()).unwrap()).unwrap();
        let properties = &summary.clustering.unwrap().properties;
        assert_eq!(properties[2].value.as_deref(), Some(MASK));
        assert_eq!(summary.ports[0].proxy_port, Some(80));
        let ports: Vec<u32> = summary.ports.iter().map(|p| p.port).collect();
        assert_eq!(ports, [9764], "the port past any port is left out");
        let svn_url = summary.deployment_synchronizer.unwrap().svn_url.unwrap();
        assert_eq!(svn_url, "http://deployer:********@svn.example.org/repos/");
    }

    #[test]
    fn a_deployment_toml_home_gives_its_model_only() {
        let home = CarbonHome::open("../../fixtures/homes/carbon-4.5").unwrap();
        let summary = Summary::read(&home).unwrap();
        assert_eq!(summary.model, ConfigModel::DeploymentToml);
        assert!(summary.clustering.is_none() && summary.ports.is_empty());
    }
}
