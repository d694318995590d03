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

/// The primary user store managers WSO2 ships in user-mgt.xml, by the name
/// Identity Server's `deployment.toml` gives each (`[user_store] type`).
pub const USER_STORE_MANAGERS: &[(&str, &str)] = &[
    (
        "database",
        "org.wso2.carbon.user.core.jdbc.JDBCUserStoreManager",
    ),
    (
        "read_write_ldap",
        "org.wso2.carbon.user.core.ldap.ReadWriteLDAPUserStoreManager",
    ),
    (
        "read_only_ldap",
        "org.wso2.carbon.user.core.ldap.ReadOnlyLDAPUserStoreManager",
    ),
    (
        "active_directory",
        "org.wso2.carbon.user.core.ldap.ActiveDirectoryUserStoreManager",
    ),
];

/// Makes the primary user store the one of `kind` (one of
/// [`USER_STORE_MANAGERS`]): the `<UserStoreManager>` of its class active,
/// every other commented out, each where it stands.
///
/// # Errors
/// An unknown kind; a file with neither an active nor a commented-out
/// manager of that class.
pub fn set_user_store_manager(session: &mut Session, kind: &str) -> Result<Outcome> {
    let file = session.home().path().join(USER_MGT);
    let Some(&(_, class)) = USER_STORE_MANAGERS.iter().find(|(k, _)| *k == kind) else {
        let kinds: Vec<&str> = USER_STORE_MANAGERS.iter().map(|(k, _)| *k).collect();
        return Err(Error::Invalid {
            file,
            message: format!(
                "unknown user store type {kind:?} (one of {})",
                kinds.join(", ")
            ),
        });
    };
    let wanted = format!("Realm/UserStoreManager[@class='{class}']");
    edit_xml(
        session,
        USER_MGT,
        format!("primary user store {kind}"),
        |t| {
            let mut changed = false;
            // The others first, commented out where they stand.
            for active in t.doc.select("Realm/UserStoreManager")?.into_iter().rev() {
                if t.doc.attribute(active, "class") != Some(class) {
                    t.doc.comment_out(active)?;
                    changed = true;
                }
            }
            if changed {
                t.doc.apply()?;
            }
            if t.doc.select_optional(wanted.as_str())?.is_none() {
                match t.doc.select_commented(wanted.as_str())?.as_slice() {
                    [one] => {
                        t.doc.uncomment(one)?;
                        t.doc.apply()?;
                        changed = true;
                    }
                    [] => {
                        return Err(t.invalid(format!(
                            "no <UserStoreManager class=\"{class}\">, active or commented out, to make primary"
                        )))
                    }
                    _ => {
                        return Err(t.invalid(format!(
                            "several commented-out <UserStoreManager class=\"{class}\">; uncomment the one you mean by hand"
                        )))
                    }
                }
            }
            Ok(changed)
        },
    )
}

/// Sets a `<Property name=...>` of the active user store manager (the
/// primary one): the property in place, else a new one after the last.
///
/// # Errors
/// No active user store manager, or several.
pub fn set_user_store_property(session: &mut Session, name: &str, value: &str) -> Result<Outcome> {
    check_predicate_value(session.home().path().join(USER_MGT), "property name", name)?;
    let shown = if crate::secrets::names_a_secret(name) {
        crate::secrets::MASK
    } else {
        value
    };
    edit_xml(
        session,
        USER_MGT,
        format!("user store property {name} = {shown}"),
        |t| {
            t.ensure_text(
                "Realm/UserStoreManager",
                &format!("Property[@name='{name}']"),
                value,
                NewElement::new("Property").attribute("name", name),
                Fallback::After(&["Property"]),
            )
        },
    )
}
