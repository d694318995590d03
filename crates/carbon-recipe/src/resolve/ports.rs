//! Nodes of one machine that would listen on the same ports.
//!
//! The guides put several nodes on one machine and give each its own port
//! offset ("it has to be different if the nodes are running in the same
//! machine") and its own local member port. A recipe that gives two such
//! nodes the same one plans and applies cleanly, and the second server to
//! start fails to bind. Nodes are taken to share a machine when the recipe
//! gives them the same `local_member_host`: the address each binds its
//! cluster membership to. A loopback host says nothing (every machine has
//! one). A value the recipe leaves out is the home's, as its files say
//! ([`Recipe::refuse_port_clashes_with_homes`]): two nodes whose recipe
//! leaves the offset out, on two homes at `<Offset>0`, clash as surely.

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

    /// As [`Recipe::refuse_port_clashes`], with each value the recipe
    /// leaves out taken from the node's home: `home_ports(name)` reads what
    /// its files say (`None` when the home cannot be read: that node's
    /// values stay unknown). Called only for nodes that leave a value out.
    ///
    /// # Errors
    /// As [`Recipe::refuse_port_clashes`]; a clash that involves a value of
    /// a home names where each value came from.
    pub fn refuse_port_clashes_with_homes(
        &self,
        env: &dyn Env,
        home_ports: &dyn Fn(&str) -> Option<carbon_config::summary::ClusterPorts>,
    ) -> Result<(), RecipeError> {
        self.refuse_port_clashes(env)?;
        // (host, value) -> (node, where the value came from)
        let mut member_ports: HashMap<(String, u32), (&str, &str)> = HashMap::new();
        let mut offsets: HashMap<(String, u32), (&str, &str)> = HashMap::new();
        for name in self.file.nodes.keys() {
            let settings = self.settings_of(name);
            let clustering = settings.clustering.unwrap_or_default();
            let recipe_host = match &clustering.local_member_host {
                Some(host) => match self.expand(host, env) {
                    Ok(host) => Some(host),
                    Err(_) => continue,
                },
                None => None,
            };
            let recipe_port = clustering.local_member_port.map(|p| *p.get_ref());
            let recipe_offset = settings.server.and_then(|s| s.offset).map(|o| *o.get_ref());
            let home = if recipe_host.is_none() || recipe_port.is_none() || recipe_offset.is_none()
            {
                home_ports(name).unwrap_or_default()
            } else {
                Default::default()
            };
            let Some(host) = recipe_host.or(home.local_member_host) else {
                continue;
            };
            if is_loopback(&host) {
                continue;
            }
            let port = recipe_port
                .map(|p| (p, "the recipe"))
                .or(home.local_member_port.map(|p| (p, "its home's axis2.xml")));
            if let Some((port, source)) = port {
                if let Some((other, other_source)) =
                    member_ports.insert((host.clone(), port), (name, source))
                {
                    return Err(RecipeError::whole(
                        self.path(),
                        format!(
                            "nodes {other} and {name} would both listen for cluster members on \
                             {host}:{port} (from {other_source} and {source}); give each node \
                             of one machine its own local_member_port"
                        ),
                    ));
                }
            }
            let offset = recipe_offset
                .map(|o| (o, "the recipe"))
                .or(home.offset.map(|o| (o, "its home's carbon.xml")));
            if let Some((offset, source)) = offset {
                if let Some((other, other_source)) =
                    offsets.insert((host.clone(), offset), (name, source))
                {
                    return Err(RecipeError::whole(
                        self.path(),
                        format!(
                            "nodes {other} and {name} are on one machine (local_member_host \
                             {host}) with the same port offset {offset} (from {other_source} \
                             and {source}), so their ports would clash; give each its own \
                             server.offset"
                        ),
                    ));
                }
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
