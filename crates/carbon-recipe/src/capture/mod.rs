//! Capture: configured homes read back into a recipe that makes them again
//! on pristine packs, the first step of an upgrade (docs/upgrades.md).
//!
//! The settings the recipe's tables know are read into those tables
//! (`typed.rs`, `stores.rs`): with a baseline (a pristine pack of the homes' version),
//! only where a home differs from it. The tables are then planned on the
//! baseline, and what still differs from the home
//! ([`carbon_config::compare`]) becomes `[[raw]]` edits keyed by name,
//! never by position, so that the recipe still applies to a newer version
//! whose files moved things around. What no edit can make (a file that is
//! not XML, an element no path selects alone) is listed in the recipe's
//! header, never dropped. What every home shares is written once at the
//! top (a table's common keys too), the rest in each node's table; wka
//! members the recipe would derive are left to it. Secrets become
//! `${env:NAME}` references ([`Variable`]), and values are written
//! literally (`$${` for WSO2's own `${…}` placeholders).

mod apim;
mod edits;
mod from_toml;
mod secrets;
mod stores;
mod typed;
mod write;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use carbon_config::compare::compare_edited;
use carbon_config::{CarbonHome, ConfigModel};

use crate::plan::Planner;
use crate::Recipe;

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
    /// Homes of both config models: 4.4's XML and 4.5+'s deployment.toml.
    #[error(
        "{0} is configured another way than the first home (XML files against Carbon 4.5+'s \
         repository/conf/deployment.toml): capture homes, and a baseline, of one model"
    )]
    DeploymentToml(PathBuf),
}

/// The recipe that makes `homes` again: the settings the recipe's tables
/// know, as typed tables; with a `baseline` (a pristine pack of their
/// product and version), only those that differ from it, and every other
/// difference as `[[raw]]` edits.
///
/// # Errors
/// A home that cannot be read; homes of another product than the baseline
/// (or, without one, than each other); a Carbon 4.5+ home.
pub fn capture(
    homes: &[CapturedHome],
    baseline: Option<&CarbonHome>,
) -> Result<Captured, CaptureError> {
    // One model for all: a 4.5+ home's settings are deployment.toml keys,
    // which a 4.4 home's files cannot be compared with.
    let models: Vec<ConfigModel> = homes
        .iter()
        .map(|h| h.home.model())
        .chain(baseline.map(CarbonHome::model))
        .collect();
    if let Some(at) = models.iter().position(|m| *m != models[0]) {
        let home = homes
            .iter()
            .map(|h| h.home)
            .chain(baseline)
            .nth(at)
            .expect("counted");
        return Err(CaptureError::DeploymentToml(home.path().to_path_buf()));
    }
    let reference = baseline.or(homes.first().map(|h| h.home));
    for h in homes {
        let other = reference.filter(|r| r.product() != h.home.product());
        if let Some(other) = other {
            let what = if baseline.is_some() {
                "the baseline"
            } else {
                "the first home"
            };
            return Err(CaptureError::Products(format!(
                "{} is {}, {what} {}: the homes captured together are of one product",
                h.path.display(),
                h.home.product().unwrap_or("of no known product"),
                other.product().unwrap_or("of no known product"),
            )));
        }
    }
    let mut variables = Variables::default();
    let mut per_node = Vec::with_capacity(homes.len());
    // One planner, and one cache of parsed trees: the baseline's files
    // parsed once for every home.
    let planner = Planner::new(carbon_config::DEFAULT_MAX_FILE_SIZE);
    let trees = xmlsplice::TreeCache::new(TREE_CACHE_BUDGET);
    for h in homes {
        variables.reading(&h.node);
        let tables = typed::tables(h.home, baseline, &mut variables, &trees)?;
        let mut entries: Vec<Entry> = Vec::new();
        if let Some(baseline) = baseline {
            // What the tables make on the baseline is no difference left
            // for `[[raw]]`; tables that cannot be planned there are left
            // out, and their settings captured as edits.
            let (tables, planned) = match planned(&planner, &tables, baseline, &variables) {
                Ok(planned) => (tables, planned),
                Err(why) => {
                    entries.push(Entry::Note(format!(
                        "the typed settings did not plan on the baseline ({why}): captured as \
                         [[raw]] edits instead"
                    )));
                    (Vec::new(), BTreeMap::new())
                }
            };
            let differences = compare_edited(baseline, &planned, h.home, Some(&trees))?;
            entries.extend(tables.into_iter().map(Entry::Table));
            entries.extend(edits::entries(h.home.path(), &differences, &mut variables));
        } else {
            entries.extend(tables.into_iter().map(Entry::Table));
        }
        per_node.push(entries);
    }
    derive_members(homes, &mut per_node, &trees)?;
    let common = share_keys(&mut per_node);
    let (mut shared, per_node) = hoist(per_node);
    shared.splice(0..0, common.into_iter().map(Entry::Table));
    let all: Vec<&Entry> = shared.iter().chain(per_node.iter().flatten()).collect();
    let edits = all
        .iter()
        .filter(|e| matches!(e, Entry::Raw(_) | Entry::Table(_)))
        .count();
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

/// Leaves wka `members` to the recipe, which derives them (every other
/// node's local member), when every node is a wka member listing exactly
/// the others: each node's `local_member_host` and `local_member_port`
/// are written instead, which the recipe derives them from.
fn derive_members(
    homes: &[CapturedHome],
    per_node: &mut [Vec<Entry>],
    trees: &xmlsplice::TreeCache,
) -> Result<(), CaptureError> {
    if homes.len() < 2 {
        return Ok(());
    }
    let mut all = Vec::with_capacity(homes.len());
    for (h, entries) in homes.iter().zip(per_node.iter()) {
        let listed = entries.iter().any(|e| {
            matches!(e, Entry::Table(t) if t.header == "clustering"
                && t.keys.iter().any(|(k, _)| k == "members"))
        });
        match typed::membership(h.home, trees)? {
            Some(m) if listed => all.push(m),
            _ => return Ok(()),
        }
    }
    for (i, m) in all.iter().enumerate() {
        let others: HashSet<&str> = all
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, o)| o.own.as_str())
            .collect();
        let listed: HashSet<&str> = m.members.iter().map(String::as_str).collect();
        if others != listed || listed.len() != m.members.len() {
            return Ok(());
        }
    }
    for (entries, m) in per_node.iter_mut().zip(&all) {
        let table = entries.iter_mut().find_map(|e| match e {
            Entry::Table(t) if t.header == "clustering" => Some(t),
            _ => None,
        });
        let table = table.expect("every node lists its members in [clustering]");
        table.keys.retain(|(k, _)| k != "members" && k != "enable");
        for (key, value) in [
            (
                "local_member_host",
                write::string(&m.host.replace("${", "$${")),
            ),
            ("local_member_port", m.port.to_string()),
        ] {
            if !table.keys.iter().any(|(k, _)| k == key) {
                table.keys.push((key.to_string(), value));
            }
        }
    }
    Ok(())
}

/// The keys every node's table of one header holds alike (`[server]`
/// `hostname` on every node), taken out into shared tables: a node's own
/// keys then add to them, as the recipe merges node tables.
fn share_keys(per_node: &mut [Vec<Entry>]) -> Vec<typed::Table> {
    if per_node.len() < 2 {
        return Vec::new();
    }
    let single = |entries: &[Entry], header: &str| -> Option<usize> {
        let mut found = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, Entry::Table(t) if !t.array && t.header == header));
        let first = found.next()?.0;
        found.next().is_none().then_some(first)
    };
    let headers: Vec<&'static str> = per_node[0]
        .iter()
        .filter_map(|e| match e {
            Entry::Table(t) if !t.array => Some(t.header),
            _ => None,
        })
        .collect();
    let mut shared = Vec::new();
    for header in headers {
        let Some(at) = per_node
            .iter()
            .map(|entries| single(entries, header))
            .collect::<Option<Vec<usize>>>()
        else {
            continue;
        };
        let keys_of = |entries: &[Entry], i: usize| match &entries[i] {
            Entry::Table(t) => t.keys.clone(),
            _ => unreachable!("found as a table"),
        };
        let common: Vec<(String, String)> = keys_of(&per_node[0], at[0])
            .into_iter()
            .filter(|kv| {
                per_node
                    .iter()
                    .zip(&at)
                    .all(|(entries, &i)| keys_of(entries, i).contains(kv))
            })
            .collect();
        if common.is_empty() {
            continue;
        }
        for (entries, &i) in per_node.iter_mut().zip(&at) {
            if let Entry::Table(t) = &mut entries[i] {
                t.keys.retain(|kv| !common.contains(kv));
            }
        }
        shared.push(typed::Table {
            header,
            array: false,
            keys: common,
        });
    }
    for entries in per_node.iter_mut() {
        entries.retain(|e| !matches!(e, Entry::Table(t) if t.keys.is_empty()));
    }
    shared
}

/// The text the cache of parsed trees may keep: a product's configuration
/// files, several times over.
const TREE_CACHE_BUDGET: usize = 8 << 20;

/// The files `tables` change on `baseline`, as a plan of them would write
/// them, with `env` for the variables they read.
fn planned(
    planner: &Planner,
    tables: &[typed::Table],
    baseline: &CarbonHome,
    env: &dyn crate::Env,
) -> Result<BTreeMap<PathBuf, Vec<u8>>, String> {
    if tables.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut text = write::tables("", tables.iter());
    text.push_str("\n[nodes.baseline]\nhome = \"baseline\"\n");
    let recipe = Recipe::parse("captured.toml", text).map_err(|e| e.to_string())?;
    let node = recipe
        .resolve("baseline", Some(baseline.path()), env)
        .map_err(|e| e.to_string())?;
    let plan = planner.plan(node, baseline).map_err(|e| {
        // The cause, not the node (which is the baseline itself).
        let mut cause: &dyn std::error::Error = &e;
        while let Some(source) = cause.source() {
            cause = source;
        }
        // Its first error, when it lists findings.
        let text = cause.to_string();
        match text.lines().find_map(|l| l.trim().strip_prefix("error: ")) {
            Some(error) => error.to_string(),
            None => text,
        }
    })?;
    Ok(plan
        .changes
        .into_iter()
        .map(|c| (c.path, c.after))
        .collect())
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
    // The elements some nodes insert and others do not, and those inserted
    // inside or after one of them (an edit whose path starts with it), and
    // so on: each insert found takes out of `pending` the edits under it,
    // whose own inserts are looked under in turn. Each edit is taken once
    // (the home's owner may write tens of thousands of elements).
    let mut queue: Vec<&str> = per_node
        .iter()
        .flatten()
        .filter(|e| !everywhere(e))
        .filter_map(|e| match e {
            Entry::Raw(r) => r.inserts(),
            _ => None,
        })
        .collect();
    let mut seen: HashSet<&str> = queue.iter().copied().collect();
    // The first node's edits by path, with what each inserts.
    let mut pending: BTreeMap<&str, Vec<Option<&str>>> = BTreeMap::new();
    for e in &per_node[0] {
        if let Entry::Raw(r) = e {
            let path = r.get("path").unwrap_or_default();
            pending.entry(path).or_default().push(r.inserts());
        }
    }
    let mut dependent: HashSet<&str> = HashSet::new();
    while let Some(insert) = queue.pop() {
        let under: Vec<&str> = pending
            .range(insert..)
            .take_while(|(path, _)| path.starts_with(insert))
            .map(|(path, _)| *path)
            .collect();
        for path in under {
            dependent.insert(path);
            let inserts = pending.remove(path).unwrap_or_default();
            for inserted in inserts.into_iter().flatten() {
                if seen.insert(inserted) {
                    queue.push(inserted);
                }
            }
        }
    }
    let depends = |e: &Entry| match e {
        Entry::Raw(r) => dependent.contains(r.get("path").unwrap_or_default()),
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

#[cfg(test)]
mod tests {
    use super::edits::{Entry, RawEdit};
    use super::hoist;

    fn raw(path: &str, action: &str, added: Option<&str>) -> Entry {
        let mut keys = vec![("path", path.to_string()), ("action", action.to_string())];
        if let Some(added) = added {
            keys.push(("added", added.to_string()));
        }
        Entry::Raw(RawEdit { keys })
    }

    /// An edit every node makes stays with each node when it is inside or
    /// after an element only some nodes insert, and so does one inside or
    /// after what such an edit inserts, however many times over.
    #[test]
    fn edits_under_an_element_only_some_nodes_insert_stay_with_them() {
        let set_c = raw("/r/c", "set_attribute", None);
        let (x1, x2) = ("/r/x[@name='1']", "/r/x[@name='2']");
        let own_a = raw("/r/c", "insert", Some(x1));
        let own_b = raw("/r/c", "insert", Some(x2));
        // Each inserted after the one before: not below it.
        let inside = raw(x1, "insert", Some("/r/q"));
        let deeper = raw("/r/q", "insert", Some("/r/s"));
        let deepest = raw("/r/s", "set_attribute", None);
        let beside = raw("/r/y", "set_attribute", None);
        let all = [&inside, &deeper, &deepest];
        let node = |own: &Entry| {
            let mut entries = vec![set_c.clone(), own.clone(), beside.clone()];
            entries.extend(all.iter().map(|e| (*e).clone()));
            entries
        };
        let (shared, per_node) = hoist(vec![node(&own_a), node(&own_b)]);
        assert_eq!(shared, [set_c.clone(), beside.clone()]);
        for (entries, own) in per_node.iter().zip([&own_a, &own_b]) {
            let mut expected = vec![own.clone()];
            expected.extend(all.iter().map(|e| (*e).clone()));
            assert_eq!(entries, &expected);
        }
    }
}
