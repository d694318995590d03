//! Identity Server: `repository/conf/identity/identity.xml`, the identity
//! database its clustering guide points every node at.

use xmlsplice::NewElement;

use crate::ensure::{edit_xml, Fallback};
use crate::error::Result;
use crate::home::files::IDENTITY;
use crate::session::{Outcome, Session};

/// Points the identity database (`<JDBCPersistenceManager><DataSource><Name>`)
/// at a JNDI datasource.
///
/// # Errors
/// A file without `<JDBCPersistenceManager><DataSource>`.
pub fn set_data_source(session: &mut Session, jndi: &str) -> Result<Outcome> {
    edit_xml(
        session,
        IDENTITY,
        format!("identity database {jndi}"),
        |t| {
            t.ensure_text(
                "JDBCPersistenceManager/DataSource",
                "Name",
                jndi,
                NewElement::new("Name"),
                Fallback::LastChild,
            )
        },
    )
}
