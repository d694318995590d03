//! From a recipe to each node's steps: merge, expand, derive, check.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use carbon_config::axis2::Member;
use carbon_config::secrets::is_secret_variable;

use crate::error::{closest, RecipeError, RecipePlace, RecipeText};
use crate::merge::Merge;
use crate::model::*;
use crate::step::Step;

mod ports;
mod translate;

/// The most variables one reference may lead through (`${a}`, whose value
/// holds `${b}`, ...), far more than a person layers them; the limit
/// bounds the expansion's recursion, so no recipe can overflow the stack.
const MAX_VAR_DEPTH: usize = 32;

/// The most bytes one value may expand to: far above any setting (the
/// largest are `[[raw]]` markup, a few kilobytes), and low enough that
/// variables doubling one another stop within milliseconds.
const MAX_EXPANDED: usize = 1 << 20;

/// Where the expansion of one value stands.
#[derive(Default)]
struct Expansion<'r> {
    /// The variables being expanded, outermost first.
    chain: Vec<&'r str>,
    /// The variables expanded so far, and their values: each is expanded
    /// once per value, however often it is used (a variable doubling the
    /// one before it, 26 times over, is 26 expansions and not 2^26).
    done: std::collections::HashMap<&'r str, String>,
}

/// A parsed recipe.
#[derive(Debug)]
pub struct Recipe {
    text: Arc<RecipeText>,
    file: RecipeFile,
    /// Who owns the recipe file read: the `lib` sources it names are its
    /// owner's choice.
    owner: Option<u32>,
}

/// One node, resolved: where its home is and what to ensure there.
#[derive(Clone, Debug)]
pub struct Node {
    /// The node's name in the recipe.
    pub name: String,
    /// Its CARBON_HOME.
    pub home: PathBuf,
    /// What to ensure, in order.
    pub steps: Vec<Step>,
    /// Secret values in this node's settings (passwords), for masking output.
    pub secrets: Vec<String>,
    /// Steps that are not edits to a home, to do by hand.
    pub manual: Vec<String>,
    /// What the recipe should know about its own values for this node (a
    /// password written in it, an entity reference that would be escaped
    /// again), each at its place in the recipe.
    pub warnings: Vec<carbon_config::validate::Finding>,
    /// For each of `steps`, the recipe text that asked for it, where there
    /// is one to point at.
    origins: Vec<Option<Range<usize>>>,
    /// The recipe, for showing those places.
    recipe: Arc<RecipeText>,
}

impl Node {
    /// The recipe entry that asked for `steps[index]` (the value the step
    /// writes, or the key that names it), to show beside an error in
    /// carrying the step out; `None` for a step the recipe only implies
    /// (clustering enabled by a `[clustering]` table that does not say
    /// `enable`) and for steps added after resolving.
    pub fn asked_at(&self, index: usize) -> Option<RecipePlace> {
        let span = self.origins.get(index)?.clone()?;
        Some(RecipePlace::new(Arc::clone(&self.recipe), span))
    }
}

/// Where `${env:NAME}` values come from (the process environment, or a map in tests).
pub trait Env {
    /// The value of `name`, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// An environment that remembers the values of the secret variables read
/// through it ([`is_secret_variable`]), for one node's resolution.
struct SecretsSeen<'e> {
    env: &'e dyn Env,
    seen: std::cell::RefCell<Vec<String>>,
}

impl<'e> SecretsSeen<'e> {
    fn new(env: &'e dyn Env) -> SecretsSeen<'e> {
        SecretsSeen {
            env,
            seen: std::cell::RefCell::default(),
        }
    }

    fn secrets(self) -> Vec<String> {
        self.seen.into_inner()
    }
}

impl Env for SecretsSeen<'_> {
    fn var(&self, name: &str) -> Option<String> {
        let value = self.env.var(name)?;
        if is_secret_variable(name) && !value.is_empty() {
            self.seen.borrow_mut().push(value.clone());
        }
        Some(value)
    }
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Recipe {
    /// Reads and parses the recipe at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Recipe, RecipeError> {
        let path = path.as_ref();
        let unreadable =
            |e: std::io::Error| RecipeError::whole(path, format!("cannot read the recipe: {e}"));
        let mut file = std::fs::File::open(path).map_err(unreadable)?;
        let owner = std::os::unix::fs::MetadataExt::uid(&file.metadata().map_err(unreadable)?);
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes).map_err(unreadable)?;
        let source = String::from_utf8(bytes).map_err(|e| {
            // Pointed at like any other mistake: the text before it is fine.
            // The text before it is unchanged in the lossy copy, and U+FFFD
            // (three bytes) stands where the caret goes.
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes());
            RecipeError::at(
                path,
                &text,
                valid..valid + 3,
                "not UTF-8 (TOML is UTF-8 text)",
            )
        })?;
        let mut recipe = Recipe::parse(path, source)?;
        recipe.owner = Some(owner);
        Ok(recipe)
    }

    /// Parses `source`; `path` names it in messages and anchors relative homes.
    pub fn parse(path: impl AsRef<Path>, source: impl Into<String>) -> Result<Recipe, RecipeError> {
        let path = path.as_ref().to_path_buf();
        let source = source.into();
        let file: RecipeFile =
            toml::from_str(&source).map_err(|e| RecipeError::from_toml(&path, &source, &e))?;
        let recipe = Recipe {
            text: Arc::new(RecipeText::new(path, source)),
            file,
            owner: None,
        };
        if recipe.file.nodes.is_empty() {
            return Err(RecipeError::whole(
                recipe.path(),
                "the recipe has no [nodes.NAME] table",
            ));
        }
        Ok(recipe)
    }

    /// The recipe file.
    pub fn path(&self) -> &Path {
        &self.text.path
    }

    /// The owner of the recipe file, when it was read from one.
    pub fn owner(&self) -> Option<u32> {
        self.owner
    }

    /// The node names, in order.
    pub fn node_names(&self) -> Vec<&str> {
        self.file.nodes.keys().map(String::as_str).collect()
    }

    pub(crate) fn error(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> RecipeError {
        RecipeError::in_recipe(&self.text, span, message)
    }

    /// Checks that `name` is a node of the recipe ("did you mean" if close).
    pub fn check_node(&self, name: &str) -> Result<(), RecipeError> {
        if self.file.nodes.contains_key(name) {
            return Ok(());
        }
        let names = self.node_names();
        // Names differ in case only by a slip: that one first.
        let hint = match names.iter().find(|n| n.eq_ignore_ascii_case(name)) {
            Some(same) => format!("; did you mean `{same}`? (node names are case-sensitive)"),
            None => closest(name, &names)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default(),
        };
        Err(RecipeError::whole(
            self.path(),
            format!("no node named {name:?} (nodes: {}){hint}", names.join(", ")),
        ))
    }

    pub(crate) fn settings_of(&self, node: &str) -> Settings {
        let shared = self.file.settings();
        let own = self.file.nodes[node].get_ref().settings();
        shared.merge(own)
    }

    /// Expands `${env:NAME}` and `${var}` in a value; `$${` is a literal `${`.
    pub(crate) fn expand(&self, text: &Text, env: &dyn Env) -> Result<String, RecipeError> {
        self.expand_within(text, env, &mut Expansion::default())
    }

    /// [`Recipe::expand`] inside the values of the variables in
    /// `expansion`'s chain, the one being expanded last: a name met again is
    /// a loop, named whole. A variable already expanded for this value is
    /// not expanded again.
    fn expand_within<'r>(
        &'r self,
        text: &Text,
        env: &dyn Env,
        expansion: &mut Expansion<'r>,
    ) -> Result<String, RecipeError> {
        let raw = text.get_ref();
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw.as_str();
        while let Some(start) = rest.find("${") {
            if rest[..start].ends_with('$') {
                // `$${` writes a literal `${`, as WSO2's own placeholders
                // (`${carbon.local.ip}`) need.
                out.push_str(&rest[..start - 1]);
                out.push_str("${");
                rest = &rest[start + 2..];
                continue;
            }
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| self.error(text.span(), "`${` without a closing `}`"))?;
            let name = &after[..end];
            if let Some(var) = name.strip_prefix("env:") {
                let value = env.var(var).ok_or_else(|| {
                    self.error(
                        text.span(),
                        format!("environment variable {var} is not set"),
                    )
                })?;
                out.push_str(&value);
            } else {
                out.push_str(self.expand_var(text, name, env, expansion)?);
            }
            if out.len() > MAX_EXPANDED {
                let what = match expansion.chain.last() {
                    Some(var) => format!("the value of {var}"),
                    None => "this value".to_string(),
                };
                return Err(self.error(
                    text.span(),
                    format!(
                        "{what} is over 1 MiB ({MAX_EXPANDED} bytes) once expanded, more than a \
                         value may hold"
                    ),
                ));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The value of variable `name`, which `text` refers to, expanded.
    fn expand_var<'r, 'e>(
        &'r self,
        text: &Text,
        name: &str,
        env: &dyn Env,
        expansion: &'e mut Expansion<'r>,
    ) -> Result<&'e str, RecipeError> {
        let (name, value) = self.file.vars.get_key_value(name).ok_or_else(|| {
            let names: Vec<&str> = self.file.vars.keys().map(String::as_str).collect();
            let hint = closest(name, &names)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            self.error(text.span(), format!("no [vars] entry named {name:?}{hint}"))
        })?;
        if expansion.done.contains_key(name.as_str()) {
            return Ok(&expansion.done[name.as_str()]);
        }
        let chain = &expansion.chain;
        if let Some(first) = chain.iter().position(|n| *n == name) {
            let cycle: Vec<&str> = chain[first..]
                .iter()
                .copied()
                .chain([name.as_str()])
                .collect();
            return Err(self.error(
                text.span(),
                format!(
                    "variables refer to each other in a loop: {}",
                    cycle.join(" -> ")
                ),
            ));
        }
        if chain.len() == MAX_VAR_DEPTH {
            let deep: Vec<&str> = chain.iter().copied().chain([name.as_str()]).collect();
            return Err(self.error(
                text.span(),
                format!(
                    "variables nest more than {MAX_VAR_DEPTH} deep: {}",
                    deep.join(" -> ")
                ),
            ));
        }
        expansion.chain.push(name);
        let expanded = self.expand_within(value, env, expansion)?;
        expansion.chain.pop();
        Ok(expansion.done.entry(name).or_insert(expanded))
    }

    /// The home of node `name` as the recipe gives it (relative to the
    /// recipe's folder), without resolving its steps.
    pub fn home(&self, name: &str, env: &dyn Env) -> Result<PathBuf, RecipeError> {
        self.check_node(name)?;
        let table = &self.file.nodes[name];
        match &table.get_ref().home {
            Some(text) => {
                let h = PathBuf::from(self.expand(text, env)?);
                // A shell expands `~`; a recipe does not, and the path would
                // quietly name a folder `~` beside the recipe.
                if h.starts_with("~") {
                    return Err(self.error(
                        text.span(),
                        "`~` is not expanded in a recipe; write ${env:HOME}/… or an absolute path",
                    ));
                }
                Ok(if h.is_relative() {
                    self.path().parent().unwrap_or(Path::new(".")).join(h)
                } else {
                    h
                })
            }
            None => Err(self.error(
                table.span(),
                format!("node {name} has no `home` (give one, or --home {name}=PATH)"),
            )),
        }
    }

    /// Resolves node `name`: its home (`home` overrides the recipe's), and its steps.
    pub fn resolve(
        &self,
        name: &str,
        home: Option<&Path>,
        env: &dyn Env,
    ) -> Result<Node, RecipeError> {
        self.check_node(name)?;
        let home = match home {
            Some(h) => h.to_path_buf(),
            None => self.home(name, env)?,
        };
        let settings = self.settings_of(name);
        let mut node = Node {
            name: name.to_string(),
            home,
            steps: Vec::new(),
            secrets: Vec::new(),
            manual: Vec::new(),
            warnings: Vec::new(),
            origins: Vec::new(),
            recipe: Arc::clone(&self.text),
        };
        let env = SecretsSeen::new(env);
        self.translate(name, &settings, &env, &mut node)?;
        for step in &settings.manual {
            node.manual.push(self.expand(step, &env)?);
        }
        // Each once, in the order read: a set, since a captured recipe may
        // read tens of thousands of secret variables.
        let mut seen: std::collections::HashSet<String> = node.secrets.iter().cloned().collect();
        for value in env.secrets() {
            if seen.insert(value.clone()) {
                node.secrets.push(value);
            }
        }
        Ok(node)
    }

    /// wka members for `name`: every other node's local member host and port.
    fn derived_members(&self, name: &str, env: &dyn Env) -> Result<Vec<Member>, RecipeError> {
        let mut members = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for other in self.file.nodes.keys().filter(|n| *n != name) {
            let settings = self.settings_of(other);
            let clustering = settings.clustering.unwrap_or_default();
            let (host, port) = (&clustering.local_member_host, &clustering.local_member_port);
            let (Some(host), Some(port)) = (host, port) else {
                // Name exactly what is missing.
                let missing = match (host, port) {
                    (None, None) => "local_member_host and local_member_port",
                    (None, Some(_)) => "local_member_host",
                    _ => "local_member_port",
                };
                return Err(self.error(
                    self.file.nodes[other].span(),
                    format!(
                        "node {other} has no {missing}, which node {name}'s wka members are \
                         derived from; set it, or give `members`"
                    ),
                ));
            };
            let host_text = self.expand(host, env)?;
            // An IPv6 localMemberHost is written bare; as a member it needs
            // brackets (Member's parse says why).
            let text = if host_text.contains(':') && !host_text.starts_with('[') {
                format!("[{host_text}]:{}", port.get_ref())
            } else {
                format!("{host_text}:{}", port.get_ref())
            };
            let member: Member = text
                .parse()
                .map_err(|e: String| self.error(host.span(), e))?;
            if seen.insert(member.clone()) {
                members.push(member);
            }
        }
        Ok(members)
    }
}
