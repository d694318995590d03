//! user-mgt.xml: the realm's user store database and its read-only flag.
//!
//! The realm's settings live in `<Realm><Configuration>`: a
//! `<Property name="dataSource">` naming a JNDI datasource (Carbon 4.x), or
//! the older JDBC properties (`url`, `userName`, `password`, `driverName`,
//! ...) that seed 000 uses, and `<ReadOnly>`.

use xmlsplice::NewElement;

use crate::datasources::jdbc_problem;
use crate::ensure::{check_predicate_value, edit_xml, Fallback};
use crate::error::{Error, Result};
use crate::home::files::USER_MGT;
use crate::registry::{Jdbc, JDBC_FIELDS};
use crate::session::{Outcome, Session};

const CONFIGURATION: &str = "Realm/Configuration";

/// Sets a realm `<Property name=...>`: the active one, else a commented-out
/// one uncommented, else a new one after the last property.
///
/// # Errors
/// A secure-vault-protected property (`svns:secretAlias`) given a value.
pub fn set_realm_property(session: &mut Session, name: &str, value: &str) -> Result<Outcome> {
    check_predicate_value(session.home().path().join(USER_MGT), "property name", name)?;
    let child = format!("Property[@name='{name}']");
    let shown = if crate::secrets::names_a_secret(name) {
        crate::secrets::MASK
    } else {
        value
    };
    edit_xml(
        session,
        USER_MGT,
        format!("realm property {name} = {shown}"),
        |t| {
            if let Some(existing) = t.doc.select_optional(&format!("{CONFIGURATION}/{child}"))? {
                if let Some(alias) = t.doc.attribute(existing, "svns:secretAlias") {
                    return Err(t.invalid(format!(
                        "realm property {name} is kept in the secure vault under alias {alias:?}; \
                     change it with the cipher tool, not here"
                    )));
                }
            }
            t.ensure_text(
                CONFIGURATION,
                &child,
                value,
                NewElement::new("Property").attribute("name", name),
                Fallback::After(&["Property"]),
            )
        },
    )
}

/// Points the realm at a JNDI datasource (`<Property name="dataSource">`).
pub fn set_realm_data_source(session: &mut Session, jndi: &str) -> Result<Outcome> {
    set_realm_property(session, "dataSource", jndi)
}

/// Sets the realm's older JDBC properties, one `<Property>` each.
pub fn set_realm_jdbc(session: &mut Session, jdbc: &Jdbc) -> Result<Vec<Outcome>> {
    debug_assert!(jdbc.fields().iter().all(|(f, _)| JDBC_FIELDS.contains(f)));
    if let Some(problem) = jdbc_problem(&jdbc.url, Some(&jdbc.driver_name)) {
        return Err(Error::Invalid {
            file: session.home().path().join(USER_MGT),
            message: format!("the user store's JDBC properties: {problem}"),
        });
    }
    jdbc.fields()
        .into_iter()
        .map(|(name, value)| set_realm_property(session, name, &value))
        .collect()
}

/// Sets the realm's `<ReadOnly>` flag.
pub fn set_realm_read_only(session: &mut Session, read_only: bool) -> Result<Outcome> {
    let value = read_only.to_string();
    edit_xml(
        session,
        USER_MGT,
        format!("realm ReadOnly = {value}"),
        |t| {
            t.ensure_text(
                CONFIGURATION,
                "ReadOnly",
                &value,
                NewElement::new("ReadOnly"),
                Fallback::After(&["EveryOneRoleName", "AdminUser", "AdminRole"]),
            )
        },
    )
}
