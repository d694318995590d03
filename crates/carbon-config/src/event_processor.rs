//! event-processor.xml: the event processor's modes (CEP, DAS).
//!
//! The file has one `<mode name=...>` per mode (SingleNode, HA,
//! Distributed), each with its own `nodeType/presenter` and, for HA,
//! `eventSync` and `persistence`. The guides name the setting but not
//! always the mode, so every operation takes the mode.

use crate::axis2::parse_port;
use crate::ensure::edit_xml;
use crate::error::{Error, Result};
use crate::home::files::EVENT_PROCESSOR;
use crate::session::{Outcome, Session};

/// The modes event-processor.xml defines.
pub const MODES: &[&str] = &["SingleNode", "HA", "Distributed"];

fn mode_path(session: &Session, mode: &str) -> Result<String> {
    if !MODES.contains(&mode) {
        return Err(Error::Invalid {
            file: session.home().path().join(EVENT_PROCESSOR),
            message: format!(
                "unknown mode {mode:?} (expected one of {})",
                MODES.join(", ")
            ),
        });
    }
    Ok(format!("mode[@name='{mode}']"))
}

fn set_enable(session: &mut Session, mode: &str, below: &str, enabled: bool) -> Result<Outcome> {
    let path = format!("{}{below}", mode_path(session, mode)?);
    let value = enabled.to_string();
    edit_xml(
        session,
        EVENT_PROCESSOR,
        format!("{path} enable=\"{value}\""),
        |t| t.set_attribute(&path, "enable", &value),
    )
}

/// Enables or disables a mode (`<mode name="HA" enable=...>`).
pub fn set_mode_enabled(session: &mut Session, mode: &str, enabled: bool) -> Result<Outcome> {
    set_enable(session, mode, "", enabled)
}

/// Enables or disables the presenter node type of a mode.
pub fn set_presenter(session: &mut Session, mode: &str, enabled: bool) -> Result<Outcome> {
    set_enable(session, mode, "/nodeType/presenter", enabled)
}

/// Enables or disables state persistence of a mode.
pub fn set_persistence(session: &mut Session, mode: &str, enabled: bool) -> Result<Outcome> {
    set_enable(session, mode, "/persistence", enabled)
}

/// Sets the HA mode's `<eventSync>` host name and, if given, port.
pub fn set_event_sync(session: &mut Session, host: &str, port: Option<u16>) -> Result<Outcome> {
    if let Some(port) = port {
        parse_port(&port.to_string()).map_err(|e| Error::Invalid {
            file: session.home().path().join(EVENT_PROCESSOR),
            message: e,
        })?;
    }
    let what = match port {
        Some(p) => format!("HA eventSync {host}:{p}"),
        None => format!("HA eventSync hostName {host}"),
    };
    edit_xml(session, EVENT_PROCESSOR, what, |t| {
        let sync = t.one("mode[@name='HA']/eventSync")?;
        let host_element = t.doc.select_one((sync, "hostName"))?;
        let mut changed = t.doc.set_text(host_element, host)?;
        if let Some(port) = port {
            let port_element = t.doc.select_one((sync, "port"))?;
            changed |= t.doc.set_text(port_element, &port.to_string())?;
        }
        Ok(changed)
    })
}
