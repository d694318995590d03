//! Capture: configured homes read back into a recipe that makes them again
//! on pristine packs, the first step of an upgrade (docs/upgrades.md).
//!
//! Each home is compared with a baseline, a pristine pack of its version
//! ([`carbon_config::compare`]), and every difference becomes a `[[raw]]`
//! edit keyed by name, never by position, so that the recipe still applies
//! to a newer version whose files moved things around. What no edit can
//! make (a file that is not XML, an element no path selects alone) is
//! listed in the recipe's header, never dropped. Edits every home shares
//! are written once at the top, the others in each node's table. Secrets
//! become `${env:NAME}` references ([`Variable`]), and values are written
//! literally (`$${` for WSO2's own `${…}` placeholders).

mod edits;
mod secrets;
mod write;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use carbon_config::compare::compare_homes;
use carbon_config::{CarbonHome, ConfigModel};

use edits::Entry;
pub use secrets::Variable;
use secrets::Variables;

/// A home to capture, and the node it becomes.
#[derive(Debug)]
pub struct CapturedHome<'h> {
    /// The node's name in the recipe.
    pub node: String,
    /// The home's path, as the recipe's `home` will say it.
    pub path: PathBuf,
    /// The home.
    pub home: &'h CarbonHome,
}

/// A captured recipe.
#[derive(Debug)]
pub struct Captured {
    /// The recipe's text (TOML).
    pub recipe: String,
    /// The environment variables it reads, one per secret value.
    pub variables: Vec<Variable>,
    /// How many differences it lists as not captured.
    pub not_captured: usize,
    /// How many `[[raw]]` edits it holds, shared and per node.
    pub edits: usize,
}

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// A home or the baseline could not be read.
    #[error(transparent)]
    Config(#[from] carbon_config::Error),
    /// The homes are not all of the baseline's product.
    #[error("{0}")]
    Products(String),
    /// A Carbon 4.5+ home, whose XML is regenerated from deployment.toml.
    #[error(
        "{0}: a Carbon 4.5+ home keeps its configuration in repository/conf/deployment.toml and \
         regenerates its XML at every start, so [[raw]] edits of it would be lost; capture reads \
         Carbon 4.4 and earlier homes (compare deployment.toml with `carbon-patch diff`)"
    )]
    DeploymentToml(PathBuf),
}

/// The recipe that makes `homes` from `baseline`, a pristine pack of
/// their product and version.
///
/// # Errors
/// A home that cannot be read; homes of another product than the baseline.
pub fn capture(homes: &[CapturedHome], baseline: &CarbonHome) -> Result<Captured, CaptureError> {
    for home in homes.iter().map(|h| h.home).chain([baseline]) {
        if home.model() == ConfigModel::DeploymentToml {
            return Err(CaptureError::DeploymentToml(home.path().to_path_buf()));
        }
    }
    for h in homes {
        if h.home.product() != baseline.product() {
            return Err(CaptureError::Products(format!(
                "{} is {}, the baseline {}: a baseline is a pristine pack of the homes' product",
                h.path.display(),
                h.home.product().unwrap_or("of no known product"),
                baseline.product().unwrap_or("of no known product"),
            )));
        }
    }
    let mut variables = Variables::default();
    let mut per_node = Vec::with_capacity(homes.len());
    for h in homes {
        let differences = compare_homes(baseline, h.home)?;
        variables.reading(&h.node);
        per_node.push(edits::entries(h.home.path(), &differences, &mut variables));
    }
    let (shared, per_node) = hoist(per_node);
    let all: Vec<&Entry> = shared.iter().chain(per_node.iter().flatten()).collect();
    let edits = all.iter().filter(|e| matches!(e, Entry::Raw(_))).count();
    let not_captured = all.iter().filter(|e| matches!(e, Entry::Note(_))).count();
    let variables = variables.into_vec();
    let recipe = write::recipe(homes, baseline, &shared, &per_node, &variables);
    Ok(Captured {
        recipe,
        variables,
        not_captured,
        edits,
    })
}

/// The entries every node has, once, and each node's others. An edit
/// inside or after an element only some nodes insert stays with them.
fn hoist(per_node: Vec<Vec<Entry>>) -> (Vec<Entry>, Vec<Vec<Entry>>) {
    if per_node.len() < 2 {
        return (per_node.into_iter().next().unwrap_or_default(), Vec::new());
    }
    // What makes two nodes' entries one: equal, or the same jar (each
    // node's from its own home).
    let identity = |e: &Entry| match e {
        Entry::Lib(path) => Entry::Lib(path.file_name().map(PathBuf::from).unwrap_or_default()),
        other => other.clone(),
    };
    // How many nodes have each entry: counted, not searched for, so that a
    // thousand nodes cost a thousand times one.
    let mut nodes_with: HashMap<Entry, usize> = HashMap::new();
    for node in &per_node {
        let own: HashSet<Entry> = node.iter().map(identity).collect();
        for e in own {
            *nodes_with.entry(e).or_default() += 1;
        }
    }
    let everywhere = |e: &Entry| nodes_with.get(&identity(e)) == Some(&per_node.len());
    // The elements some nodes insert and others do not, and (until none is
    // left to add) those inserted inside or after one of them.
    let mut own_inserts: Vec<&str> = per_node
        .iter()
        .flatten()
        .filter(|e| !everywhere(e))
        .filter_map(|e| match e {
            Entry::Raw(r) => r.inserts(),
            _ => None,
        })
        .collect();
    let under = |path: &str, inserts: &[&str]| inserts.iter().any(|i| path.starts_with(i));
    loop {
        let more: Vec<&str> = per_node[0]
            .iter()
            .filter_map(|e| match e {
                Entry::Raw(r) if under(r.get("path").unwrap_or_default(), &own_inserts) => {
                    r.inserts()
                }
                _ => None,
            })
            .filter(|i| !own_inserts.contains(i))
            .collect();
        if more.is_empty() {
            break;
        }
        own_inserts.extend(more);
    }
    let depends = |e: &Entry| match e {
        Entry::Raw(r) => under(r.get("path").unwrap_or_default(), &own_inserts),
        _ => false,
    };
    let shared: Vec<Entry> = per_node[0]
        .iter()
        .filter(|e| everywhere(e) && !depends(e))
        .cloned()
        .collect();
    let shared_ones: HashSet<Entry> = shared.iter().map(identity).collect();
    let rest = per_node
        .into_iter()
        .map(|n| {
            n.into_iter()
                .filter(|e| !shared_ones.contains(&identity(e)))
                .collect()
        })
        .collect();
    (shared, rest)
}
