//! registry.xml: databases, remote instances and mounts.
//!
//! Shipped files have one active `<dbConfig name="wso2registry">` in the
//! `dataSource` form, and remoteInstance and mount only as commented-out
//! samples. New elements go after the last active element of their kind.
//! The samples stay as they are: they are documentation, not switches.
//! An element of the same name (dbConfig), id (remoteInstance) or path (mount)
//! is changed in place, child by child, so its comments and layout stay.

use xmlsplice::NewElement;

use crate::datasources::jdbc_problem;
use crate::ensure::{check_predicate_value, edit_xml, edit_xml_adding};
use crate::error::{Error, Result};
use crate::home::files::REGISTRY;
use crate::session::{Outcome, Session};

/// How a `<dbConfig>` reaches its database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbConfig {
    /// `<dataSource>jdbc/...</dataSource>`: a JNDI name from a datasources file.
    DataSource(String),
    /// The older JDBC form that seed 000 uses.
    Jdbc(Jdbc),
}

/// JDBC settings, as registry.xml (and user-mgt.xml) spell them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Jdbc {
    /// `url`.
    pub url: String,
    /// `userName`.
    pub user_name: String,
    /// `password` (never printed by this crate).
    pub password: String,
    /// `driverName`.
    pub driver_name: String,
    /// `maxActive`.
    pub max_active: Option<u32>,
    /// `maxWait`, in milliseconds.
    pub max_wait: Option<u32>,
    /// `minIdle`.
    pub min_idle: Option<u32>,
}

/// The JDBC element names, in the order WSO2 writes them.
pub const JDBC_FIELDS: [&str; 7] = [
    "url",
    "userName",
    "password",
    "driverName",
    "maxActive",
    "maxWait",
    "minIdle",
];

impl Jdbc {
    /// The fields that are set, as (element name, value), in WSO2's order.
    pub(crate) fn fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("url", self.url.clone()),
            ("userName", self.user_name.clone()),
            ("password", self.password.clone()),
            ("driverName", self.driver_name.clone()),
        ];
        for (name, value) in [
            ("maxActive", self.max_active),
            ("maxWait", self.max_wait),
            ("minIdle", self.min_idle),
        ] {
            if let Some(v) = value {
                fields.push((name, v.to_string()));
            }
        }
        fields
    }
}

/// A `<remoteInstance url=...>`, found by its `id`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteInstance {
    /// The `url` attribute: the remote registry's endpoint.
    pub url: String,
    /// `<id>`, which mounts refer to.
    pub id: String,
    /// `<dbConfig>`: the dbConfig it reads through.
    pub db_config: Option<String>,
    /// `<readOnly>`.
    pub read_only: Option<bool>,
    /// `<enableCache>`.
    pub enable_cache: Option<bool>,
    /// `<registryRoot>`.
    pub registry_root: Option<String>,
    /// `<cacheId>`.
    pub cache_id: Option<String>,
}

/// A `<mount path=... overwrite=...>`, found by its path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mount {
    /// The `path` attribute: where the mount appears locally.
    pub path: String,
    /// The `overwrite` attribute: true, false or virtual.
    pub overwrite: String,
    /// `<instanceId>`: the remote instance's id.
    pub instance_id: String,
    /// `<targetPath>`: the path in the remote registry.
    pub target_path: String,
}

fn invalid(session: &Session, message: String) -> Error {
    Error::Invalid {
        file: session.home().path().join(REGISTRY),
        message,
    }
}

fn check_key(session: &Session, what: &str, value: &str) -> Result<()> {
    check_predicate_value(session.home().path().join(REGISTRY), what, value)
}

/// Sets `<currentDBConfig>`.
pub fn set_current_db_config(session: &mut Session, name: &str) -> Result<Outcome> {
    check_key(session, "currentDBConfig", name)?;
    edit_xml(
        session,
        REGISTRY,
        format!("currentDBConfig = {name}"),
        |t| {
            t.ensure_text(
                ".",
                "currentDBConfig",
                name,
                NewElement::new("currentDBConfig"),
                crate::ensure::Fallback::After(&[]),
            )
        },
    )
}

/// Ensures `<dbConfig name=...>` in the given form. One of the same name is
/// changed in place; switching form removes the other form's children.
pub fn ensure_db_config(session: &mut Session, name: &str, config: &DbConfig) -> Result<Outcome> {
    check_key(session, "dbConfig name", name)?;
    if let DbConfig::Jdbc(jdbc) = config {
        if let Some(problem) = jdbc_problem(&jdbc.url, Some(&jdbc.driver_name)) {
            return Err(invalid(session, format!("dbConfig {name}: {problem}")));
        }
    }
    let (leaves, remove): (Vec<(&str, String)>, Vec<&str>) = match config {
        DbConfig::DataSource(jndi) => (vec![("dataSource", jndi.clone())], JDBC_FIELDS.to_vec()),
        DbConfig::Jdbc(jdbc) => (jdbc.fields(), vec!["dataSource"]),
    };
    let form = match config {
        DbConfig::DataSource(jndi) => format!("dataSource {jndi}"),
        DbConfig::Jdbc(jdbc) => format!("JDBC {}", jdbc.url),
    };
    let path = format!("dbConfig[@name='{name}']");
    edit_xml_adding(session, REGISTRY, format!("dbConfig {name}: {form}"), |t| {
        let root = t.one(".")?;
        if t.doc.select_optional((root, &path))?.is_none() {
            let mut element = NewElement::new("dbConfig").attribute("name", name);
            for (leaf, value) in &leaves {
                element = element.text_child(*leaf, value);
            }
            t.insert_after_kind(
                ".",
                "dbConfig",
                &["registryRoot", "readOnly", "currentDBConfig"],
                &element,
            )?;
            return Ok(true);
        }
        t.ensure_leaves(&path, &leaves, &remove)
    })
}

/// Ensures `<remoteInstance>` with this `id`: a new one after the last
/// active remote instance (or dbConfig), or the existing one set in place.
pub fn ensure_remote_instance(session: &mut Session, instance: &RemoteInstance) -> Result<Outcome> {
    check_key(session, "remoteInstance id", &instance.id)?;
    let mut leaves: Vec<(&str, String)> = vec![("id", instance.id.clone())];
    if let Some(v) = &instance.db_config {
        leaves.push(("dbConfig", v.clone()));
    }
    if let Some(v) = instance.read_only {
        leaves.push(("readOnly", v.to_string()));
    }
    if let Some(v) = instance.enable_cache {
        leaves.push(("enableCache", v.to_string()));
    }
    if let Some(v) = &instance.registry_root {
        leaves.push(("registryRoot", v.clone()));
    }
    if let Some(v) = &instance.cache_id {
        leaves.push(("cacheId", v.clone()));
    }
    let path = format!("remoteInstance[id='{}']", instance.id);
    let what = format!("remoteInstance {} at {}", instance.id, instance.url);
    edit_xml_adding(session, REGISTRY, what, |t| {
        let root = t.one(".")?;
        if t.doc.select_optional((root, &path))?.is_none() {
            let mut element = NewElement::new("remoteInstance").attribute("url", &instance.url);
            for (leaf, value) in &leaves {
                element = element.text_child(*leaf, value);
            }
            t.insert_after_kind(".", "remoteInstance", &["dbConfig"], &element)?;
            return Ok(true);
        }
        let url = t.set_attribute(&path, "url", &instance.url)?;
        Ok(t.ensure_leaves(&path, &leaves, &[])? || url)
    })
}

/// Ensures `<mount path=...>`: a new one after the last active mount (or
/// remote instance, or dbConfig), or the existing one set in place.
pub fn ensure_mount(session: &mut Session, mount: &Mount) -> Result<Outcome> {
    check_key(session, "mount path", &mount.path)?;
    if !["true", "false", "virtual"].contains(&mount.overwrite.as_str()) {
        return Err(invalid(
            session,
            format!(
                "mount overwrite {:?} must be true, false or virtual",
                mount.overwrite
            ),
        ));
    }
    let leaves = vec![
        ("instanceId", mount.instance_id.clone()),
        ("targetPath", mount.target_path.clone()),
    ];
    let path = format!("mount[@path='{}']", mount.path);
    let what = format!(
        "mount {} -> {}:{}",
        mount.path, mount.instance_id, mount.target_path
    );
    edit_xml_adding(session, REGISTRY, what, |t| {
        let root = t.one(".")?;
        if t.doc.select_optional((root, &path))?.is_none() {
            let mut element = NewElement::new("mount")
                .attribute("path", &mount.path)
                .attribute("overwrite", &mount.overwrite);
            for (leaf, value) in &leaves {
                element = element.text_child(*leaf, value);
            }
            t.insert_after_kind(".", "mount", &["remoteInstance", "dbConfig"], &element)?;
            return Ok(true);
        }
        let overwrite = t.set_attribute(&path, "overwrite", &mount.overwrite)?;
        Ok(t.ensure_leaves(&path, &leaves, &[])? || overwrite)
    })
}
