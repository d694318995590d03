//! Planning: every selected node resolved, its steps run on an in-memory
//! session, and the result validated. Nothing here writes; plan, check and
//! apply all start from this.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use carbon_config::validate::{checked_changes, Finding};
use carbon_config::{CarbonHome, FileChange, Outcome, Session};
use carbon_recipe::{Env, Node, Recipe};
use xmlsplice::TreeCache;

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
    pub secrets: carbon_config::secrets::Secrets,
    /// Steps to do by hand (from the recipe's `manual`).
    pub manual: Vec<String>,
    /// Whether an apply on this home was interrupted (a journal waits; the
    /// next apply finishes it before planning).
    pub interrupted: bool,
    /// `apply` only: the files an interrupted apply still had to write,
    /// which this one wrote when it took the home's lock, before planning
    /// (relative to the home).
    pub finished_interrupted: Vec<PathBuf>,
}

/// The nodes a command runs on: those named with `--node` (all of the
/// recipe's when none is), checked to exist, as are those of `--home`.
/// Then all the recipe's nodes are checked together: no two of one machine
/// on the same ports.
pub fn node_names(recipe: &Recipe, target: &Target, env: &dyn Env) -> Result<Vec<String>> {
    for name in target.nodes.iter().chain(target.homes.keys()) {
        recipe.check_node(name)?;
    }
    recipe.refuse_port_clashes(env)?;
    Ok(if target.nodes.is_empty() {
        recipe.node_names().into_iter().map(String::from).collect()
    } else {
        target.nodes.to_vec()
    })
}

/// Resolves node `name` (its home from `--home` when given there) and opens
/// its home.
pub fn open(
    recipe: &Recipe,
    name: &str,
    target: &Target,
    env: &dyn Env,
) -> Result<(Node, CarbonHome)> {
    let home = target.homes.get(name).map(PathBuf::as_path);
    let node = recipe.resolve(name, home, env)?;
    let home = CarbonHome::open(&node.home)
        .with_context(|| format!("node {name} ({})", node.home.display()))?;
    Ok((node, home))
}

/// What tells two homes apart: the folder's device and inode, so that a
/// symbolic link or a bind mount to a home is that home (one `stat`, where
/// resolving the path cost a `readlink` for each of its parts, on the one
/// thread, before any node is planned); its path when it cannot be read
/// (the node's own error comes when it is opened).
#[derive(Hash, PartialEq, Eq)]
enum HomeId {
    Inode(u64, u64),
    Path(PathBuf),
}

impl HomeId {
    fn of(home: &Path) -> HomeId {
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(home) {
            use std::os::unix::fs::MetadataExt;
            return HomeId::Inode(meta.dev(), meta.ino());
        }
        HomeId::Path(home.canonicalize().unwrap_or_else(|_| home.to_path_buf()))
    }
}

/// Two nodes sharing a home would overwrite each other's plan: refused
/// before anything is planned (apply only; a plan may show one sample home
/// for several nodes).
pub fn refuse_shared_homes(
    recipe: &Recipe,
    names: &[String],
    target: &Target,
    env: &dyn Env,
) -> Result<()> {
    let mut seen: std::collections::HashMap<HomeId, &str> = Default::default();
    for name in names {
        let home = match target.homes.get(name) {
            Some(home) => home.clone(),
            None => recipe.home(name, env)?,
        };
        if let Some(other) = seen.insert(HomeId::of(&home), name) {
            anyhow::bail!(
                "nodes {other} and {name} share the home {}; give each node its own (--home NAME=PATH)",
                home.display()
            );
        }
    }
    Ok(())
}

/// How much text a command's [`TreeCache`] keeps at most. What the nodes
/// share is the shipped files each opens (about 100 KB for a Message Broker
/// node) and what the node-independent edits make of them; 4 MB holds that
/// for several products in one recipe, with trees of a few times its size.
/// A text parsed once is not kept, so a fleet whose files all differ keeps
/// nothing.
pub const TREE_CACHE_BUDGET: usize = 4 << 20;

/// The parse cache the nodes of one command share (see [`TreeCache`]).
pub fn tree_cache() -> TreeCache {
    TreeCache::new(TREE_CACHE_BUDGET)
}

/// A step that could not be carried out, and the recipe entry that asked
/// for it: the error names the home's file (and where in it), and the place
/// the recipe line (a fleet's recipe may ask for the same file in many
/// entries). Shown as the error, then the place on the lines below. Not for
/// a file that is broken as it stands (malformed, unreadable): whichever
/// step read it first did not cause that.
#[derive(Debug)]
pub(crate) struct StepFailed {
    err: carbon_config::Error,
    place: carbon_recipe::RecipePlace,
}

/// The error on one line, control characters escaped (it names the home's
/// file, and may quote what the file holds), then the place, which escapes
/// its own.
impl std::fmt::Display for StepFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let err = self.err.to_string();
        write!(f, "{}\n{}", visible::line(&err), self.place)
    }
}

// No `source()`: the error is part of this one's message, and a report of
// the chain would show it twice.
impl std::error::Error for StepFailed {}

/// Runs a resolved node's steps on an in-memory session of its home and
/// validates the result. Parses go through `trees`, shared by the nodes.
/// `interrupted` is left false for the caller to set: `plan` and `check`
/// look for a waiting journal ([`carbon_commit::pending`]), while `apply`
/// has finished any before planning, when it took the home's lock.
pub fn plan_node(
    node: Node,
    home: &CarbonHome,
    max_file_size: u64,
    trees: &TreeCache,
) -> Result<NodePlan> {
    let name = &node.name;
    let context = || format!("node {name} ({})", node.home.display());
    let mut session = Session::new(home);
    session
        .set_max_file_size(max_file_size)
        .set_tree_cache(trees.clone());
    let mut outcomes = Vec::new();
    for (index, step) in node.steps.iter().enumerate() {
        let done = step.apply(&mut session).map_err(|err| {
            match node
                .asked_at(index)
                .filter(|_| !err.is_about_the_home_as_it_is())
            {
                Some(place) => anyhow::Error::new(StepFailed { err, place }),
                None => err.into(),
            }
        });
        outcomes.extend(done.with_context(context)?);
    }
    let (changes, warnings) = checked_changes(session).with_context(context)?;
    let product = match (home.product(), home.version()) {
        (Some(p), Some(v)) => Some(format!("{p} {v}")),
        (Some(p), None) => Some(p.to_string()),
        _ => None,
    };
    Ok(NodePlan {
        interrupted: false,
        finished_interrupted: Vec::new(),
        name: node.name,
        home: node.home,
        product,
        outcomes,
        changes,
        warnings,
        secrets: carbon_config::secrets::Secrets::new(&node.secrets),
        manual: node.manual,
    })
}
