//! Cluster recipes: one TOML file for a whole WSO2 Carbon cluster, resolved
//! into each node's steps over [`carbon_config`] operations.
//!
//! A recipe has shared settings, `[vars]`, and a `[nodes.NAME]` table per
//! node with its `home` and its own values; a node's values override the
//! shared ones ([`merge`](crate) rules: scalars win, maps merge, keyed lists
//! replace by key). Values may use `${env:NAME}` and `${var}`. With
//! `membership_scheme = "wka"` and no `members`, a node's well-known
//! members are the other nodes' `local_member_host:local_member_port`.
//! Errors point into the recipe, with line, column and a caret, and each
//! step keeps the entry that asked for it ([`Node::asked_at`]), for an error
//! in carrying it out to point at.
//!
//! ```
//! use std::collections::BTreeMap;
//! use carbon_recipe::{Recipe, Step};
//!
//! let recipe = Recipe::parse("cluster.toml", r#"
//!     [clustering]
//!     membership_scheme = "wka"
//!     domain = "wso2.mb.domain"
//!
//!     [nodes.node1]
//!     home = "/opt/mb1"
//!     clustering = { local_member_host = "10.0.0.1", local_member_port = 4000 }
//!
//!     [nodes.node2]
//!     home = "/opt/mb2"
//!     clustering = { local_member_host = "10.0.0.2", local_member_port = 4000 }
//! "#)?;
//! let node1 = recipe.resolve("node1", None, &BTreeMap::new())?;
//! assert!(node1.steps.contains(&Step::Members(vec!["10.0.0.2:4000".parse().unwrap()])));
//! # Ok::<(), carbon_recipe::RecipeError>(())
//! ```
// Forbid, not only deny as the workspace does: nothing here calls libc.
#![forbid(unsafe_code)]

pub mod capture;
mod error;
mod guard;
mod keys;
mod merge;
pub mod model;
pub mod plan;
mod redact;
mod resolve;
mod step;

pub use error::{RecipeError, RecipePlace};
pub use guard::ProductGuard;
pub use resolve::{Env, Node, ProcessEnv, Recipe};
pub use step::Step;
