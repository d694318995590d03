//! `repository/conf/datasources/*-datasources.xml`: named datasources.
//!
//! A `<datasource>` is found by its `<name>`. An existing one is changed in
//! place, field by field. A new one goes after the last active datasource.
//! The commented-out SAMPLE_DATA_SOURCE that kernels ship stays as it is.

use std::path::Path;

use xmlsplice::{Document, Element, NewElement};

use crate::ensure::{check_predicate_value, edit_xml, edit_xml_adding};
use crate::error::{Error, Result};
use crate::home::files::DATASOURCES_DIR;
use crate::home::CarbonHome;
use crate::session::{Outcome, Session};

/// A datasource definition. Fields left `None` (or out of `configuration`)
/// are not touched on an existing datasource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Datasource {
    /// `<name>`, which identifies it.
    pub name: String,
    /// `<description>`.
    pub description: Option<String>,
    /// `<jndiConfig><name>`: the JNDI name other files refer to.
    pub jndi: Option<String>,
    /// `<definition type=...>`; `RDBMS` for a new datasource when not given.
    pub definition_type: Option<String>,
    /// Children of `<definition><configuration>`, in order: url, username,
    /// password, driverClassName, maxActive, maxWait, minIdle, testOnBorrow,
    /// validationQuery, validationInterval, defaultAutoCommit, or any other.
    pub configuration: Vec<(String, String)>,
}

/// The JDBC URL schemes of the drivers whose jars WSO2's guides name, and
/// the driver classes that take each (MariaDB's driver takes MySQL URLs too).
const URL_DRIVERS: &[(&str, &[&str])] = &[
    ("jdbc:mysql:", &["com.mysql.", "org.mariadb."]),
    ("jdbc:mariadb:", &["org.mariadb."]),
    ("jdbc:postgresql:", &["org.postgresql."]),
    ("jdbc:oracle:", &["oracle.jdbc"]),
    ("jdbc:sqlserver:", &["com.microsoft.sqlserver."]),
    ("jdbc:db2:", &["com.ibm.db2."]),
    ("jdbc:h2:", &["org.h2."]),
];

/// What is wrong with a JDBC `url` and its `driver` class, if anything: a
/// URL that is not JDBC's (`mysql://…` for `jdbc:mysql://…`), or a driver
/// of one database for the URL of another, either of which stops the
/// server at start-up. A driver or URL scheme not in [`URL_DRIVERS`] (a
/// wrapper such as P6Spy, another database) is not judged.
pub(crate) fn jdbc_problem(url: &str, driver: Option<&str>) -> Option<String> {
    let url = url.trim();
    if !url.starts_with("jdbc:") {
        return Some(format!("url {url:?} is not a JDBC URL (jdbc:…)"));
    }
    let driver = driver?.trim();
    let known = |d: &str| {
        URL_DRIVERS
            .iter()
            .any(|(_, ds)| ds.iter().any(|p| d.starts_with(p)))
    };
    let (scheme, drivers) = URL_DRIVERS
        .iter()
        .find(|(scheme, _)| url.starts_with(scheme))?;
    if known(driver) && !drivers.iter().any(|p| driver.starts_with(p)) {
        return Some(format!(
            "driver {driver} does not take {scheme} URLs ({url:?})"
        ));
    }
    None
}

/// Checks that `file` names a datasources file of the home.
fn check_file(file: &str) -> Result<()> {
    let path = Path::new(file);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if path.parent() != Some(Path::new(DATASOURCES_DIR)) || !name.ends_with("-datasources.xml") {
        return Err(Error::OutsideHome {
            path: path.to_path_buf(),
            reason: format!("datasources live in {DATASOURCES_DIR}/*-datasources.xml"),
        });
    }
    // Whether it stays inside the home is checked when it is read.
    Ok(())
}

fn check_name(session: &Session, file: &str, name: &str) -> Result<()> {
    check_predicate_value(session.home().path().join(file), "datasource name", name)
}

fn path_of(name: &str) -> String {
    format!("datasources/datasource[name='{name}']")
}

/// Ensures datasource `ds` in `file` (e.g.
/// `repository/conf/datasources/master-datasources.xml`).
///
/// # Errors
/// A file outside the datasources folder; a password kept in the secure vault.
pub fn ensure_datasource(session: &mut Session, file: &str, ds: &Datasource) -> Result<Outcome> {
    check_file(file)?;
    check_name(session, file, &ds.name)?;
    let setting = |key: &str| {
        ds.configuration
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let rdbms = ds.definition_type.as_deref().is_none_or(|t| t == "RDBMS");
    let url = setting("url");
    let full = session.home().path().join(file);
    if let (true, Some(url)) = (rdbms, url) {
        if let Some(problem) = jdbc_problem(url, setting("driverClassName")) {
            return Err(Error::Invalid {
                file: full,
                message: format!("datasource {}: {problem}", ds.name),
            });
        }
    }
    let path = path_of(&ds.name);
    let what = match &ds.jndi {
        Some(jndi) => format!("datasource {} ({jndi})", ds.name),
        None => format!("datasource {}", ds.name),
    };
    let result = edit_xml_adding(session, file, what, |t| {
        if t.doc.select_optional(&path)?.is_none() {
            // A new RDBMS datasource without a url stops the server at
            // start-up; an existing one keeps its own. (The driver may be
            // left out: a JDBC 4 driver is found from the url.)
            if rdbms && url.is_none() {
                return Err(Error::Invalid {
                    file: full,
                    message: format!(
                        "datasource {} is new in this file and has no url: a new datasource \
                         needs one",
                        ds.name
                    ),
                });
            }
            let mut element = NewElement::new("datasource").text_child("name", &ds.name);
            if let Some(description) = &ds.description {
                element = element.text_child("description", description);
            }
            if let Some(jndi) = &ds.jndi {
                element = element.child(NewElement::new("jndiConfig").text_child("name", jndi));
            }
            let mut configuration = NewElement::new("configuration");
            for (key, value) in &ds.configuration {
                configuration = configuration.text_child(key, value);
            }
            element = element.child(
                NewElement::new("definition")
                    .attribute("type", ds.definition_type.as_deref().unwrap_or("RDBMS"))
                    .child(configuration),
            );
            t.insert_after_kind("datasources", "datasource", &[], &element)?;
            return Ok(true);
        }
        let mut changed = false;
        if let Some(description) = &ds.description {
            changed |= t.ensure_leaves(&path, &[("description", description.clone())], &[])?;
        }
        if let Some(jndi) = &ds.jndi {
            changed |= t.ensure_active(
                &path,
                "jndiConfig",
                &NewElement::new("jndiConfig").text_child("name", jndi),
                crate::ensure::Fallback::After(&["description", "name"]),
            )?;
            changed |= t.ensure_leaves(
                &format!("{path}/jndiConfig"),
                &[("name", jndi.clone())],
                &[],
            )?;
        }
        if let Some(kind) = &ds.definition_type {
            changed |= t.set_attribute(&format!("{path}/definition"), "type", kind)?;
        }
        let leaves: Vec<(&str, String)> = ds
            .configuration
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        if !leaves.is_empty() {
            changed |=
                t.ensure_leaves(&format!("{path}/definition/configuration"), &leaves, &[])?;
        }
        Ok(changed)
    });
    result.map_err(|e| named_if_missing(session.home(), file, e))
}

/// A datasources file that does not exist, named with those the home has:
/// the operations change the files a product ships, and create none (a
/// datasources file needs its provider declarations, which differ between
/// products).
fn named_if_missing(home: &CarbonHome, file: &str, err: Error) -> Error {
    let full = home.path().join(file);
    match &err {
        Error::Io { path, error }
            if *path == full && error.kind() == std::io::ErrorKind::NotFound =>
        {
            let have: Vec<String> = home
                .datasource_files()
                .into_iter()
                .filter_map(|rel| Some(rel.file_name()?.to_string_lossy().into_owned()))
                .collect();
            let have = if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            };
            Error::Invalid {
                file: full,
                message: format!(
                    "no such file; this home's datasources files are: {have}. \
                     carbon-patch changes the files a product ships and creates none"
                ),
            }
        }
        _ => err,
    }
}

/// Comments datasource `name` out (seed 001 does so for WSO2_CARBON_DB).
/// Already commented out, or absent, is "already so".
pub fn comment_out_datasource(session: &mut Session, file: &str, name: &str) -> Result<Outcome> {
    let what = format!("datasource {name} commented out");
    take_out_datasource(session, file, name, what, Document::comment_out)
}

/// Removes datasource `name`, with its lines. Absent is "already so".
pub fn remove_datasource(session: &mut Session, file: &str, name: &str) -> Result<Outcome> {
    let what = format!("datasource {name} removed");
    take_out_datasource(session, file, name, what, Document::remove)
}

/// Takes datasource `name`'s element out of `file` with `take_out`
/// (comment it out, or remove it); nothing to do when it is not there.
fn take_out_datasource(
    session: &mut Session,
    file: &str,
    name: &str,
    what: String,
    take_out: fn(&mut Document, Element) -> std::result::Result<(), xmlsplice::Error>,
) -> Result<Outcome> {
    check_file(file)?;
    check_name(session, file, name)?;
    let result = edit_xml(session, file, what, |t| {
        match t.doc.select_optional(&path_of(name))? {
            Some(element) => {
                take_out(t.doc, element)?;
                Ok(true)
            }
            None => Ok(false),
        }
    });
    result.map_err(|e| named_if_missing(session.home(), file, e))
}
