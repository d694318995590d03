//! Nodes of one machine that would listen on the same ports.
//!
//! The guides put several nodes on one machine and give each its own port
//! offset ("it has to be different if the nodes are running in the same
//! machine") and its own local member port. A recipe that gives two such
//! nodes the same one plans and applies cleanly, and the second server to
//! start fails to bind. Nodes are taken to share a machine when the recipe
//! gives them the same `local_member_host`: the address each binds its
//! cluster membership to. A loopback host says nothing (every machine has
//! one), and a value the recipe leaves to the home's file is not known here.

use std::collections::HashMap;

use toml::Spanned;

use super::{Env, Recipe};
use crate::error::RecipeError;

impl Recipe {
    /// Refuses two nodes with the same `local_member_host` and the same
    /// `local_member_port`, or the same `server.offset`. Every node of the
    /// recipe counts (a cluster is the whole recipe, whichever nodes a
    /// command runs on); a node whose host cannot be expanded (an
    /// environment variable not set for this command) is left out.
    pub fn refuse_port_clashes(&self, env: &dyn Env) -> Result<(), RecipeError> {
        let mut member_ports: HashMap<(String, u32), &str> = HashMap::new();
        let mut offsets: HashMap<(String, u32), &str> = HashMap::new();
        for name in self.file.nodes.keys() {
            let settings = self.settings_of(name);
            let clustering = settings.clustering.unwrap_or_default();
            let Some(host) = clustering.local_member_host else {
                continue;
            };
            let Ok(host) = self.expand(&host, env) else {
                continue;
            };
            if is_loopback(&host) {
                continue;
            }
            if let Some(port) = &clustering.local_member_port {
                self.refuse_seen(&mut member_ports, &host, port, name, |other| {
                    format!(
                        "nodes {other} and {name} would both listen for cluster members on \
                         {host}:{}; give each node of one machine its own local_member_port",
                        port.get_ref()
                    )
                })?;
            }
            if let Some(offset) = settings.server.and_then(|server| server.offset) {
                self.refuse_seen(&mut offsets, &host, &offset, name, |other| {
                    format!(
                        "nodes {other} and {name} are on one machine (local_member_host {host}) \
                         with the same port offset {}, so their ports would clash; give each \
                         its own server.offset",
                        offset.get_ref()
                    )
                })?;
            }
        }
        Ok(())
    }

    /// Records that node `name` uses `value` on `host`; an error from
    /// `clash` (given the node that used it first) if one did already.
    fn refuse_seen<'r>(
        &self,
        seen: &mut HashMap<(String, u32), &'r str>,
        host: &str,
        value: &Spanned<u32>,
        name: &'r str,
        clash: impl FnOnce(&str) -> String,
    ) -> Result<(), RecipeError> {
        match seen.insert((host.to_string(), *value.get_ref()), name) {
            Some(other) => Err(self.error(value.span(), clash(other))),
            None => Ok(()),
        }
    }
}

/// Whether `host` is this machine's loopback address, which every machine
/// has, so two nodes sharing it may be anywhere.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
