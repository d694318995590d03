//! WSO2 Carbon 4.x knowledge: product homes, and the configuration changes
//! the clustering guides make, as idempotent operations.
//!
//! Every operation is an "ensure this state" function over a [`Session`]:
//! it changes a file only when the state does not hold yet, reports what it
//! ensured in an [`Outcome`], and edits through [`xmlsplice`], so every byte
//! it does not mean to change stays as it was. A session holds edits in
//! memory; [`Session::changes`] hands back before and after bytes per file.
//! Writing them is the caller's job.
//!
//! ```
//! use carbon_config::{axis2, CarbonHome, Session};
//!
//! let home = CarbonHome::open("../../fixtures/homes/carbon-4.4")?;
//! let mut session = Session::new(&home);
//! let outcome = axis2::set_clustering_enabled(&mut session, true)?;
//! assert!(outcome.changed);
//! let members = ["10.0.0.1:4000".parse().unwrap(), "10.0.0.2:4000".parse().unwrap()];
//! axis2::set_members(&mut session, &members)?;
//! let changes = session.changes()?;
//! assert_eq!(changes.len(), 1); // axis2.xml only, nothing written yet
//! # Ok::<(), carbon_config::Error>(())
//! ```
// Forbid, not only deny as the workspace does: nothing here calls libc.
#![forbid(unsafe_code)]

pub mod api_manager;
pub mod axis2;
pub mod carbon_xml;
pub mod catalina;
pub mod compare;
mod controlled;
pub mod datasources;
pub mod deployment;
pub mod dictionary;
pub mod diff;
mod ensure;
mod error;
pub mod event_processor;
mod home;
pub mod identity;
pub mod libs;
pub mod raw;
pub mod registry;
pub mod secrets;
mod session;
#[cfg(test)]
mod settle_tests;
pub mod spark;
pub mod summary;
pub mod user_mgt;
pub mod validate;

pub use error::{Error, Result};
pub use home::{files, CarbonHome, ConfigModel};
pub use session::{FileChange, Outcome, Session, DEFAULT_MAX_FILE_SIZE};
