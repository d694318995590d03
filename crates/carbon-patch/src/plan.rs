//! Planning: every selected node resolved, its steps run on an in-memory
//! session, and the result validated. Nothing here writes; plan, check and
//! apply all start from this.

use std::path::PathBuf;

use anyhow::{Context, Result};
use carbon_config::validate::{checked_changes, Finding};
use carbon_config::{CarbonHome, FileChange, Outcome, Session};
use carbon_recipe::{Env, Recipe};

use crate::cli::Target;

/// What one node's recipe would change.
#[derive(Debug)]
pub struct NodePlan {
    /// The node's name.
    pub name: String,
    /// Its home.
    pub home: PathBuf,
    /// Product name and version, when known.
    pub product: Option<String>,
    /// What each operation ensured.
    pub outcomes: Vec<Outcome>,
    /// The files that would change.
    pub changes: Vec<FileChange>,
    /// Validation warnings (errors stop the plan).
    pub warnings: Vec<Finding>,
    /// Secret values to mask in any output about this node.
    pub secrets: Vec<String>,
    /// Steps to do by hand (from the recipe's `manual`).
    pub manual: Vec<String>,
}

/// Plans the target's nodes (all of the recipe's when none is named), with
/// its home overrides and file size limit.
pub fn plan(recipe: &Recipe, target: &Target, env: &dyn Env) -> Result<Vec<NodePlan>> {
    let (nodes, homes) = (&target.nodes, &target.homes);
    for name in nodes.iter().chain(homes.keys()) {
        recipe.check_node(name)?;
    }
    let names: Vec<String> = if nodes.is_empty() {
        recipe.node_names().into_iter().map(String::from).collect()
    } else {
        nodes.to_vec()
    };
    names
        .iter()
        .map(|name| {
            let home = homes.get(name).map(PathBuf::as_path);
            plan_node(recipe, name, home, target.max_file_size, env)
        })
        .collect()
}

fn plan_node(
    recipe: &Recipe,
    name: &str,
    home: Option<&std::path::Path>,
    max_file_size: u64,
    env: &dyn Env,
) -> Result<NodePlan> {
    let node = recipe.resolve(name, home, env)?;
    let context = || format!("node {name} ({})", node.home.display());
    let home = CarbonHome::open(&node.home).with_context(context)?;
    let mut session = Session::new(&home);
    session.set_max_file_size(max_file_size);
    let mut outcomes = Vec::new();
    for step in &node.steps {
        outcomes.extend(step.apply(&mut session).with_context(context)?);
    }
    let (changes, warnings) = checked_changes(&session).with_context(context)?;
    let product = match (home.product(), home.version()) {
        (Some(p), Some(v)) => Some(format!("{p} {v}")),
        (Some(p), None) => Some(p.to_string()),
        _ => None,
    };
    Ok(NodePlan {
        name: name.to_string(),
        home: node.home.clone(),
        product,
        outcomes,
        changes,
        warnings,
        secrets: node.secrets,
        manual: node.manual,
    })
}
