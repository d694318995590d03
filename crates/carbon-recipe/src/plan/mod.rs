//! Planning: a recipe's nodes resolved, each node's steps run on an
//! in-memory session of its home, and the result validated. Nothing here
//! writes; `plan`, `check` and `apply` all start from this, and
//! [`fleet::ordered_parallel`] runs the nodes of a recipe side by side.

pub mod fleet;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use carbon_config::dictionary::Dictionary;
use carbon_config::secrets::Secrets;
use carbon_config::summary::ClusterPorts;
use carbon_config::validate::{checked_changes, Finding};
use carbon_config::{CarbonHome, FileChange, Outcome, Session};
use xmlsplice::TreeCache;

use crate::{Env, Node, Recipe, RecipeError, RecipePlace};

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
    pub secrets: Secrets,
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

/// Why a node could not be planned. Every error but the recipe's own names
/// the node and its home, then the cause (its [`source`], boxed: a plan's
/// result stays small).
///
/// [`source`]: std::error::Error::source
#[derive(Debug)]
pub enum PlanError {
    /// The recipe's own mistake, found before any home is read.
    Recipe(RecipeError),
    /// Two nodes would write one home.
    SharedHome {
        /// The node named first in the recipe.
        first: String,
        /// The other.
        second: String,
        /// The home, as the second gives it.
        home: PathBuf,
    },
    /// The node's home is not the product, or not a version, the recipe
    /// says it is for.
    WrongProduct {
        /// The node.
        node: String,
        /// Its home.
        home: PathBuf,
        /// What the recipe is for, and what the home is.
        why: String,
    },
    /// The node's home could not be opened, read or edited, or its result
    /// is not valid.
    Home {
        /// The node.
        node: String,
        /// Its home.
        home: PathBuf,
        /// What went wrong.
        source: Box<carbon_config::Error>,
    },
    /// A step could not be carried out on the node's home.
    Step {
        /// The node.
        node: String,
        /// Its home.
        home: PathBuf,
        /// The error, and the recipe entry that asked for the step.
        source: Box<StepFailed>,
    },
}

impl From<RecipeError> for PlanError {
    fn from(err: RecipeError) -> PlanError {
        PlanError::Recipe(err)
    }
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::Recipe(err) => err.fmt(f),
            PlanError::SharedHome {
                first,
                second,
                home,
            } => write!(
                f,
                "nodes {first} and {second} share the home {}; give each node its own \
                 (--home NAME=PATH)",
                home.display()
            ),
            PlanError::WrongProduct { node, home, why } => {
                write!(f, "node {node} ({}): {why}", home.display())
            }
            PlanError::Home { node, home, .. } | PlanError::Step { node, home, .. } => {
                write!(f, "node {node} ({})", home.display())
            }
        }
    }
}

/// The cause is the boxed error itself, so that a caller walking the chain
/// finds a [`carbon_config::Error`] (a failed validation's findings) or a
/// [`StepFailed`] by its type.
impl std::error::Error for PlanError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PlanError::Recipe(err) => err.source(),
            PlanError::SharedHome { .. } | PlanError::WrongProduct { .. } => None,
            PlanError::Home { source, .. } => Some(&**source),
            PlanError::Step { source, .. } => Some(&**source),
        }
    }
}

/// The nodes a command runs on: those `asked` for (all of the recipe's when
/// none is), checked to exist, as are those `homes` gives a home. Then all
/// the recipe's nodes are checked together: no two of one machine on the
/// same ports, counting what a node's home says where the recipe says
/// nothing.
pub fn select_nodes(
    recipe: &Recipe,
    asked: &[String],
    homes: &BTreeMap<String, PathBuf>,
    env: &dyn Env,
) -> Result<Vec<String>, RecipeError> {
    for name in asked.iter().chain(homes.keys()) {
        recipe.check_node(name)?;
    }
    let home_ports = |name: &str| {
        let path = match homes.get(name) {
            Some(path) => path.clone(),
            None => recipe.home(name, env).ok()?,
        };
        ClusterPorts::read(&CarbonHome::open(&path).ok()?).ok()
    };
    recipe.refuse_port_clashes_with_homes(env, &home_ports)?;
    Ok(if asked.is_empty() {
        recipe.node_names().into_iter().map(String::from).collect()
    } else {
        asked.to_vec()
    })
}

/// Resolves node `name` (at `home` when given, else the recipe's) and
/// opens its home.
pub fn open(
    recipe: &Recipe,
    name: &str,
    home: Option<&Path>,
    env: &dyn Env,
) -> Result<(Node, CarbonHome), PlanError> {
    let node = recipe.resolve(name, home, env)?;
    let home = CarbonHome::open(&node.home).map_err(|source| PlanError::Home {
        node: name.to_string(),
        home: node.home.clone(),
        source: Box::new(source),
    })?;
    Ok((node, home))
}

/// What tells two homes apart: the folder's device and inode, so that a
/// symbolic link or a bind mount to a home is that home (one `stat`; resolving
/// the path would cost a `readlink` for each of its parts, on the one
/// thread, before any node is planned); its path when it cannot be read
/// (the node's own error comes when it is opened).
#[derive(Debug, Hash, PartialEq, Eq)]
pub enum HomeId {
    /// The folder's device and inode.
    Inode(u64, u64),
    /// Its path, where it cannot be read.
    Path(PathBuf),
}

impl HomeId {
    /// What tells the home at `home` from others.
    pub fn of(home: &Path) -> HomeId {
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(home) {
            use std::os::unix::fs::MetadataExt;
            return HomeId::Inode(meta.dev(), meta.ino());
        }
        HomeId::Path(home.canonicalize().unwrap_or_else(|_| home.to_path_buf()))
    }
}

/// Two nodes sharing a home would overwrite each other's plan: refused
/// before anything is planned, by `plan` and `check` as by `apply`, so that
/// a plan never shows what an apply refuses. `homes` overrides the
/// recipe's, as in [`open`].
pub fn refuse_shared_homes(
    recipe: &Recipe,
    names: &[String],
    homes: &BTreeMap<String, PathBuf>,
    env: &dyn Env,
) -> Result<(), PlanError> {
    let mut seen: std::collections::HashMap<HomeId, &str> = Default::default();
    for name in names {
        let home = match homes.get(name) {
            Some(home) => home.clone(),
            None => recipe.home(name, env)?,
        };
        if let Some(first) = seen.insert(HomeId::of(&home), name) {
            return Err(PlanError::SharedHome {
                first: first.to_string(),
                second: name.clone(),
                home,
            });
        }
    }
    Ok(())
}

/// Refuses, before anything is planned, a node whose home is not the
/// product or a version its recipe says it is for (`product`, `versions`;
/// [`crate::ProductGuard`]). Homes are opened only for nodes that say.
/// `homes` overrides the recipe's, as in [`open`].
pub fn refuse_other_products(
    recipe: &Recipe,
    names: &[String],
    homes: &BTreeMap<String, PathBuf>,
    env: &dyn Env,
) -> Result<(), PlanError> {
    for name in names {
        let Some(guard) = recipe.product_guard(name, env)? else {
            continue;
        };
        let home = match homes.get(name) {
            Some(home) => home.clone(),
            None => recipe.home(name, env)?,
        };
        let opened = CarbonHome::open(&home).map_err(|source| PlanError::Home {
            node: name.clone(),
            home: home.clone(),
            source: Box::new(source),
        })?;
        if let Some(why) = guard.refusal(opened.product(), opened.version()) {
            return Err(PlanError::WrongProduct {
                node: name.clone(),
                home,
                why,
            });
        }
    }
    Ok(())
}

/// How much text the parse cache of a [`Planner`] keeps at most. What the
/// nodes share is the shipped files each opens (about 100 KB for a Message
/// Broker node) and what the node-independent edits make of them; 4 MB
/// holds that for several products in one recipe, with trees of a few
/// times its size. A text parsed once is not kept, so a fleet whose files
/// all differ keeps nothing.
const TREE_CACHE_BUDGET: usize = 4 << 20;

/// Plans nodes, sharing one parse cache among them (see [`TreeCache`]): a
/// fleet's nodes mostly open the same shipped files.
#[derive(Debug)]
pub struct Planner {
    trees: TreeCache,
    max_file_size: u64,
}

impl Planner {
    /// A planner that reads no file larger than `max_file_size` bytes.
    pub fn new(max_file_size: u64) -> Planner {
        Planner {
            trees: TreeCache::new(TREE_CACHE_BUDGET),
            max_file_size,
        }
    }

    /// Runs a resolved node's steps on an in-memory session of its home and
    /// validates the result. [`NodePlan::interrupted`] is left false for
    /// the caller to set: `plan` and `check` look for a waiting journal,
    /// while `apply` has finished any before planning, when it took the
    /// home's lock.
    pub fn plan(&self, node: Node, home: &CarbonHome) -> Result<NodePlan, PlanError> {
        let failed = |source| PlanError::Home {
            node: node.name.clone(),
            home: node.home.clone(),
            source: Box::new(source),
        };
        let mut session = Session::new(home);
        session
            .set_max_file_size(self.max_file_size)
            .set_tree_cache(self.trees.clone());
        let mut outcomes = Vec::new();
        for (index, step) in node.steps.iter().enumerate() {
            let done = step.apply(&mut session).map_err(|err| {
                match node
                    .asked_at(index)
                    .filter(|_| !err.is_about_the_home_as_it_is())
                {
                    Some(place) => PlanError::Step {
                        node: node.name.clone(),
                        home: node.home.clone(),
                        source: Box::new(StepFailed { err, place }),
                    },
                    None => failed(err),
                }
            });
            outcomes.extend(done?);
        }
        let (changes, found) =
            checked_changes(session).map_err(|err| failed(name_the_entries(err, &node)))?;
        // The recipe's own first: they are about what the node was asked.
        let mut warnings = node.warnings;
        warnings.extend(found);
        let product = match (home.product(), home.version()) {
            (Some(p), Some(v)) => Some(format!("{p} {v}")),
            (Some(p), None) => Some(p.to_string()),
            _ => None,
        };
        Ok(NodePlan {
            interrupted: false,
            finished_interrupted: Vec::new(),
            secrets: Secrets::new(&node.secrets),
            name: node.name,
            home: node.home,
            product,
            outcomes,
            changes,
            warnings,
            manual: node.manual,
        })
    }
}

/// `err` with each of its validation errors naming the recipe entry behind
/// it, where one is plain: an entry whose value the message quotes (a JNDI
/// name, a dbConfig, an instance id), as `(asked for at r.toml:4:15)`.
fn name_the_entries(err: carbon_config::Error, node: &Node) -> carbon_config::Error {
    let carbon_config::Error::Validation(mut findings) = err else {
        return err;
    };
    let places: Vec<RecipePlace> = (0..node.steps.len())
        .filter_map(|index| node.asked_at(index))
        .filter(|place| place.entry().len() >= 3)
        .collect();
    // The messages are searched for all entries at once: a captured recipe
    // of thousands of dbConfigs, each with a finding, would otherwise cost
    // the product of their numbers. An entry asked for twice is found as
    // its last place.
    let entries: Vec<&str> = places.iter().map(RecipePlace::entry).collect();
    let quoted = Dictionary::new(&entries);
    for finding in &mut findings {
        if finding.severity != carbon_config::validate::Severity::Error {
            continue;
        }
        // The longest entry quoted (a JNDI name over a short name within
        // it), of equals the last asked for.
        let Some(index) = quoted
            .longest_at_each_end(finding.message.as_bytes())
            .map(|(index, _)| index)
            .max_by_key(|&index| (entries[index].len(), index))
        else {
            continue;
        };
        let place = &places[index];
        let (line, column) = place.line_column();
        finding.message = format!(
            "{} (asked for at {}:{line}:{column})",
            finding.message,
            place.path().display()
        );
    }
    carbon_config::Error::Validation(findings)
}

/// A step that could not be carried out, and the recipe entry that asked
/// for it: the error names the home's file (and where in it), and the place
/// the recipe line (a fleet's recipe may ask for the same file in many
/// entries). Shown as the error, then the place on the lines below. Not for
/// a file that is broken as it stands (malformed, unreadable): whichever
/// step read it first did not cause that.
#[derive(Debug)]
pub struct StepFailed {
    err: carbon_config::Error,
    place: RecipePlace,
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
