//! Showing a plan: unified diffs per node and file, then a summary; or the
//! same as JSON (docs/json.md). Everything shown passes through the mask.

use std::io::Write;

use serde_json::{json, Value};

use crate::mask::mask;
use crate::plan::NodePlan;

/// Bytes as text: UTF-8 when they are, else Latin-1 (one character a byte).
fn as_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// A configuration file, or a binary one (a copied jar)?
fn is_text(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "xml" || e == "conf" || e == "properties" || e == "toml")
}

/// One file's diff (masked), with lines added and removed.
pub struct FileDiff {
    /// The file, relative to the home.
    pub path: String,
    /// Whether it is created.
    pub new_file: bool,
    /// The unified diff (empty for binary files).
    pub diff: String,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

/// The diffs of a node's changes.
pub fn diffs(plan: &NodePlan) -> Vec<FileDiff> {
    plan.changes
        .iter()
        .map(|change| {
            let path = change.path.to_string_lossy().into_owned();
            let new_file = change.before.is_none();
            if !is_text(&change.path) {
                let diff = format!(
                    "Binary file {}: {} bytes{}\n",
                    path,
                    change.after.len(),
                    if new_file { ", new" } else { "" }
                );
                return FileDiff {
                    path,
                    new_file,
                    diff,
                    added: 0,
                    removed: 0,
                };
            }
            let before = mask(
                &as_text(change.before.as_deref().unwrap_or_default()),
                &plan.secrets,
            );
            let after = mask(&as_text(&change.after), &plan.secrets);
            let text_diff = similar::TextDiff::from_lines(&before, &after);
            let header = format!("{}: {path}", plan.name);
            let diff = text_diff
                .unified_diff()
                .context_radius(3)
                .header(&header, &header)
                .missing_newline_hint(true)
                .to_string();
            let (mut added, mut removed) = (0, 0);
            for op in text_diff.ops() {
                for change in text_diff.iter_changes(op) {
                    match change.tag() {
                        similar::ChangeTag::Insert => added += 1,
                        similar::ChangeTag::Delete => removed += 1,
                        similar::ChangeTag::Equal => {}
                    }
                }
            }
            FileDiff {
                path,
                new_file,
                diff,
                added,
                removed,
            }
        })
        .collect()
}

/// Writes the plans as text; `color` paints diff lines.
pub fn text(out: &mut dyn Write, plans: &[NodePlan], color: bool) -> std::io::Result<()> {
    let (mut files, mut added, mut removed, mut warnings) = (0, 0, 0, 0);
    for plan in plans {
        let product = plan
            .product
            .as_deref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        writeln!(
            out,
            "== node {}: {}{product}",
            plan.name,
            plan.home.display()
        )?;
        let node_diffs = diffs(plan);
        if node_diffs.is_empty() {
            writeln!(
                out,
                "   no changes: every setting is already as the recipe says"
            )?;
        }
        for d in &node_diffs {
            for line in d.diff.split_inclusive('\n') {
                let paint = match line.as_bytes().first() {
                    _ if !color => None,
                    Some(b'+') if !line.starts_with("+++") => Some("32"),
                    Some(b'-') if !line.starts_with("---") => Some("31"),
                    Some(b'@') => Some("36"),
                    _ => None,
                };
                match paint {
                    Some(code) => write!(
                        out,
                        "\x1b[{code}m{}\x1b[0m{}",
                        line.trim_end_matches(['\n', '\r']),
                        &line[line.trim_end_matches(['\n', '\r']).len()..]
                    )?,
                    None => write!(out, "{line}")?,
                }
            }
            files += 1;
            added += d.added;
            removed += d.removed;
        }
        for w in &plan.warnings {
            writeln!(out, "{}", mask(&w.to_string(), &plan.secrets))?;
            warnings += 1;
        }
    }
    let manual = manual_steps(plans);
    if !manual.is_empty() {
        writeln!(out, "Still to do by hand (not edits to a home):")?;
        for step in &manual {
            writeln!(out, "  - {step}")?;
        }
    }
    writeln!(
        out,
        "Summary: {} node(s), {files} file(s) to change, +{added} -{removed} lines, {warnings} warning(s)",
        plans.len()
    )
}

/// The recipe's manual steps, once each, in order.
fn manual_steps(plans: &[NodePlan]) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    for plan in plans {
        for step in &plan.manual {
            let step = mask(step, &plan.secrets);
            if !steps.contains(&step) {
                steps.push(step);
            }
        }
    }
    steps
}

/// The plans as JSON (schema: docs/json.md).
pub fn json(command: &str, plans: &[NodePlan]) -> Value {
    let (mut files, mut added, mut removed, mut warnings) = (0, 0, 0, 0);
    let nodes: Vec<Value> = plans
        .iter()
        .map(|plan| {
            let file_diffs = diffs(plan);
            files += file_diffs.len();
            warnings += plan.warnings.len();
            json!({
                "name": plan.name,
                "home": plan.home.display().to_string(),
                "product": plan.product,
                "changes": !plan.changes.is_empty(),
                "files": file_diffs.iter().map(|d| {
                    added += d.added;
                    removed += d.removed;
                    json!({"path": d.path, "new_file": d.new_file, "added": d.added, "removed": d.removed, "diff": d.diff})
                }).collect::<Vec<_>>(),
                "outcomes": plan.outcomes.iter().map(|o| json!({
                    "file": o.file.display().to_string(),
                    "what": mask(&o.what, &plan.secrets),
                    "changed": o.changed,
                })).collect::<Vec<_>>(),
                "warnings": plan.warnings.iter().map(|w| mask(&w.to_string(), &plan.secrets)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "command": command,
        "nodes": nodes,
        "manual": manual_steps(plans),
        "summary": {"nodes": plans.len(), "files": files, "added": added, "removed": removed, "warnings": warnings},
    })
}
