//! tomcat/catalina-server.xml: attributes of the HTTP and HTTPS connectors.
//!
//! Behind a load balancer, the guides set `proxyPort` on the connector of
//! port 9763 (HTTP) and of port 9443 (HTTPS). Connectors are found by their
//! `port` attribute as written in the file, before any offset.

use crate::axis2::parse_port;
use crate::ensure::edit_xml;
use crate::error::{Error, Result};
use crate::home::files::CATALINA;
use crate::session::{Outcome, Session};

/// Sets attribute `name` on the one `<Connector>` whose `port` is `port`.
///
/// # Errors
/// No connector or several with that port; a `proxyPort` outside 1 to 65535.
pub fn set_connector_attribute(
    session: &mut Session,
    port: u16,
    name: &str,
    value: &str,
) -> Result<Outcome> {
    if name.ends_with("Port") || name == "port" {
        parse_port(value).map_err(|e| Error::Invalid {
            file: session.home().path().join(CATALINA),
            message: format!("{name}: {e}"),
        })?;
    }
    let path = format!("//Connector[@port='{port}']");
    edit_xml(
        session,
        CATALINA,
        format!("Connector port {port}: {name}=\"{value}\""),
        |t| t.set_attribute(&path, name, value),
    )
}
