//! carbon.xml: port offset, host names, deployment synchronizer, mediation.
//!
//! carbon.xml is in a default namespace; paths match local names, so the
//! namespace never has to be spelled out. Shipped files have `HostName` and
//! `MgtHostName` commented out in WSO2's own form
//! (`<!--HostName>www.wso2.org</HostName-->`), and `MediationConfig` as a
//! commented block: setting them uncomments them in place.

use xmlsplice::NewElement;

use crate::axis2::host_problem;
use crate::ensure::{edit_xml, Fallback};
use crate::error::{Error, Result};
use crate::home::files::{CARBON, CATALINA};
use crate::session::{Outcome, Session};

/// The children of `<DeploymentSynchronizer>` the guides set.
pub const DEPLOYMENT_SYNCHRONIZER_FIELDS: &[&str] = &[
    "Enabled",
    "AutoCommit",
    "AutoCheckout",
    "RepositoryType",
    "SvnUrl",
    "SvnUser",
    "SvnPassword",
    "SvnUrlAppendTenantId",
];

/// Tomcat's default HTTP and HTTPS ports, counted when catalina-server.xml is absent.
const DEFAULT_SERVLET_PORTS: [u32; 2] = [9763, 9443];

/// Sets `<Ports><Offset>`.
///
/// # Errors
/// When some port the server opens (every number under `<Ports>`, and the
/// Tomcat connectors) plus the offset would pass 65535.
pub fn set_offset(session: &mut Session, offset: u32) -> Result<Outcome> {
    let highest = highest_port(session)?;
    if highest as u64 + offset as u64 > 65535 {
        return Err(Error::Invalid {
            file: session.home().path().join(CARBON),
            message: format!(
                "offset {offset} would move port {highest} to {}, past 65535 (the largest offset here is {})",
                highest + offset,
                65535 - highest
            ),
        });
    }
    let value = offset.to_string();
    edit_xml(session, CARBON, format!("Ports/Offset = {offset}"), |t| {
        t.ensure_text(
            "Ports",
            "Offset",
            &value,
            NewElement::new("Offset"),
            Fallback::After(&[]),
        )
    })
}

/// The highest port the server opens before the offset is added.
fn highest_port(session: &mut Session) -> Result<u32> {
    let mut highest = 0;
    let doc = session.xml(CARBON)?;
    if let Some(ports) = doc.select_optional("Ports")? {
        for element in doc.select((ports, ".//*"))? {
            if doc.name(element) == "Offset" {
                continue;
            }
            if let Some(n) = doc
                .element_text(element)
                .and_then(|t| t.trim().parse::<u32>().ok())
            {
                highest = highest.max(n);
            }
        }
    }
    let servlet_ports: Vec<u32> = if session.home().is_file(CATALINA)? {
        let doc = session.xml(CATALINA)?;
        doc.select("//Connector")?
            .into_iter()
            .filter_map(|c| doc.attribute(c, "port")?.trim().parse().ok())
            .collect()
    } else {
        DEFAULT_SERVLET_PORTS.to_vec()
    };
    Ok(servlet_ports.into_iter().fold(highest, u32::max))
}

fn set_host(session: &mut Session, element: &'static str, value: &str) -> Result<Outcome> {
    if let Some(problem) = host_problem(value) {
        return Err(Error::Invalid {
            file: session.home().path().join(CARBON),
            message: format!("{element} {value:?} {problem}"),
        });
    }
    edit_xml(session, CARBON, format!("{element} = {value}"), |t| {
        t.ensure_text(
            ".",
            element,
            value,
            NewElement::new(element),
            Fallback::After(&["HostName", "Version", "Name"]),
        )
    })
}

/// Sets `<HostName>`, uncommenting the shipped one in place.
pub fn set_host_name(session: &mut Session, host: &str) -> Result<Outcome> {
    set_host(session, "HostName", host)
}

/// Sets `<MgtHostName>`, uncommenting the shipped one in place.
pub fn set_mgt_host_name(session: &mut Session, host: &str) -> Result<Outcome> {
    set_host(session, "MgtHostName", host)
}

/// Sets a child of `<DeploymentSynchronizer>` (one of
/// [`DEPLOYMENT_SYNCHRONIZER_FIELDS`]); a missing child is added last.
///
/// When no block is active, the commented-out one is uncommented; where a
/// product ships two (SVN-based and registry-based), the SVN-based one.
pub fn set_deployment_synchronizer(
    session: &mut Session,
    field: &str,
    value: &str,
) -> Result<Outcome> {
    if !DEPLOYMENT_SYNCHRONIZER_FIELDS.contains(&field) {
        return Err(Error::Invalid {
            file: session.home().path().join(CARBON),
            message: format!(
                "unknown DeploymentSynchronizer field {field:?} (expected one of {})",
                DEPLOYMENT_SYNCHRONIZER_FIELDS.join(", ")
            ),
        });
    }
    edit_xml(
        session,
        CARBON,
        format!("DeploymentSynchronizer/{field} = {value}"),
        |t| {
            // Some products ship two commented-out blocks, SVN-based and
            // registry-based; the fields set here are the SVN-based one's.
            let activated = t.ensure_active_preferring(
                ".",
                "DeploymentSynchronizer",
                Some("DeploymentSynchronizer[RepositoryType='svn']"),
                &NewElement::new("DeploymentSynchronizer"),
                Fallback::After(&["MediationConfig", "Axis2Config"]),
            )?;
            let set = t.ensure_text(
                "DeploymentSynchronizer",
                field,
                value,
                NewElement::new(field),
                Fallback::LastChild,
            )?;
            Ok(activated || set)
        },
    )
}

/// Sets `<MediationConfig><LoadFromRegistry>`, uncommenting the shipped
/// block (or adding one after `<DeploymentSynchronizer>`) when none is active.
pub fn set_load_from_registry(session: &mut Session, load: bool) -> Result<Outcome> {
    let value = load.to_string();
    edit_xml(
        session,
        CARBON,
        format!("MediationConfig/LoadFromRegistry = {value}"),
        |t| {
            let block = NewElement::new("MediationConfig").text_child("LoadFromRegistry", &value);
            let activated = t.ensure_active(
                ".",
                "MediationConfig",
                &block,
                Fallback::After(&["DeploymentSynchronizer"]),
            )?;
            let set = t.ensure_text(
                "MediationConfig",
                "LoadFromRegistry",
                &value,
                NewElement::new("LoadFromRegistry"),
                Fallback::After(&[]),
            )?;
            Ok(activated || set)
        },
    )
}
