//! Showing a plan: unified diffs per node and file, then a summary; or the
//! same as JSON (docs/json.md). Everything shown passes through the mask.

use std::io::Write;

use serde_json::{json, Value};

use carbon_config::validate::Finding;

use carbon_config::diff::FileDiff;
use carbon_config::secrets::{mask, Secrets};
use carbon_recipe::plan::NodePlan;

/// The diffs of a node's changes.
fn diffs(plan: &NodePlan) -> Vec<FileDiff> {
    let secrets = &plan.secrets;
    plan.changes
        .iter()
        .map(|change| FileDiff::of(change, &plan.name, secrets))
        .collect()
}

/// Counts over the nodes shown so far, and their manual steps (once each).
#[derive(Debug, Default)]
pub struct Tally {
    pub nodes: usize,
    pub files: usize,
    pub added: usize,
    pub removed: usize,
    pub warnings: usize,
    /// Whether any node has changes (drift, for `check`).
    pub drift: bool,
    pub manual: Vec<String>,
}

impl Tally {
    /// Adds another node's counts.
    pub fn add(&mut self, other: Tally) {
        self.nodes += other.nodes;
        self.files += other.files;
        self.added += other.added;
        self.removed += other.removed;
        self.warnings += other.warnings;
        self.drift |= other.drift;
        for step in other.manual {
            if !self.manual.contains(&step) {
                self.manual.push(step);
            }
        }
    }

    fn of(plan: &NodePlan, diffs: &[FileDiff]) -> Tally {
        let mut tally = Tally {
            nodes: 1,
            files: diffs.len(),
            added: diffs.iter().map(|d| d.added).sum(),
            removed: diffs.iter().map(|d| d.removed).sum(),
            warnings: plan.warnings.len(),
            drift: !plan.changes.is_empty(),
            manual: Vec::new(),
        };
        for step in &plan.manual {
            let step = mask(step, &plan.secrets);
            if !tally.manual.contains(&step) {
                tally.manual.push(step);
            }
        }
        tally
    }
}

/// One node, shown: its output and its counts.
pub struct NodeReport {
    pub output: Vec<u8>,
    pub tally: Tally,
}

/// Line shown for a home where an apply was interrupted.
const INTERRUPTED: &str =
    "   note: an apply or restore on this home was interrupted; the next apply finishes it before anything else";

/// One node as text: its diffs, then its warnings; `color` paints diff lines.
pub fn text_node(plan: &NodePlan, color: bool) -> NodeReport {
    let mut out = Vec::new();
    let node_diffs = diffs(plan);
    write_text_node(&mut out, plan, &node_diffs, color).expect("writing to memory");
    NodeReport {
        output: out,
        tally: Tally::of(plan, &node_diffs),
    }
}

fn write_text_node(
    out: &mut dyn Write,
    plan: &NodePlan,
    node_diffs: &[FileDiff],
    color: bool,
) -> std::io::Result<()> {
    let product = plan
        .product
        .as_deref()
        .map(|p| format!(" ({})", visible::line(p)))
        .unwrap_or_default();
    writeln!(
        out,
        "== node {}: {}{product}",
        visible::line(&plan.name),
        visible::path(&plan.home)
    )?;
    if plan.interrupted {
        writeln!(out, "{INTERRUPTED}")?;
    }
    if node_diffs.is_empty() {
        writeln!(
            out,
            "   no changes: every setting is already as the recipe says"
        )?;
    }
    for d in node_diffs {
        write_diff(out, &d.diff, color)?;
    }
    for w in &plan.warnings {
        let warning = mask(&w.to_string(), &plan.secrets);
        writeln!(out, "{}", visible::line(&warning))?;
    }
    Ok(())
}

/// A unified diff (a file's, as [`carbon_config::diff::FileDiff`] makes
/// it), line by line as [`write_diff_line`] writes each.
pub fn write_diff(out: &mut dyn Write, diff: &str, color: bool) -> std::io::Result<()> {
    for line in carbon_config::diff::lines(diff) {
        write_diff_line(out, line, color)?;
    }
    Ok(())
}

/// One line of a diff, its text escaped ([`visible`]: the lines are the
/// home's) and, with `color`, painted by its sign. It keeps its line ending,
/// `\n` or `\r\n`, as the file has it. A lone `\r` ends a line too (the diff
/// splits lines as editors do), and is shown as `\r` at the end of its line,
/// so that no line of a file can print over another.
fn write_diff_line(out: &mut dyn Write, line: &str, color: bool) -> std::io::Result<()> {
    let text = line.trim_end_matches(['\n', '\r']);
    let mut ending = &line[text.len()..];
    let mut shown = visible::line(text).into_owned();
    if ending == "\r" {
        shown.push_str("\\r");
        ending = "\n";
    }
    use anstyle::AnsiColor::{Cyan, Green, Red};
    let paint = match line.as_bytes().first() {
        _ if !color => None,
        Some(b'+') if !line.starts_with("+++") => Some(Green),
        Some(b'-') if !line.starts_with("---") => Some(Red),
        Some(b'@') => Some(Cyan),
        _ => None,
    };
    match paint.map(|color| color.on_default()) {
        Some(style) => write!(out, "{style}{shown}{style:#}{ending}"),
        None => write!(out, "{shown}{ending}"),
    }
}

/// The end of a text report: the manual steps, then the summary line.
pub fn text_end(out: &mut dyn Write, tally: &Tally) -> std::io::Result<()> {
    write_manual(out, &tally.manual)?;
    writeln!(
        out,
        "Summary: {} node(s), {} file(s) to change, +{} -{} lines, {} warning(s)",
        tally.nodes, tally.files, tally.added, tally.removed, tally.warnings
    )
}

/// The steps to do by hand, under their heading, when there are any.
pub fn write_manual(out: &mut dyn Write, manual: &[String]) -> std::io::Result<()> {
    if !manual.is_empty() {
        writeln!(out, "Still to do by hand (not edits to a home):")?;
        for step in manual {
            writeln!(out, "  - {}", visible::line(step))?;
        }
    }
    Ok(())
}

/// What `apply` says of a node after what it wrote: each warning after the
/// node's name, and its manual steps, all masked.
pub fn apply_notes(plan: &NodePlan) -> (Vec<String>, Vec<String>) {
    let name = visible::line(&plan.name);
    let warnings = plan
        .warnings
        .iter()
        .map(|w| {
            let warning = mask(&w.to_string(), &plan.secrets);
            format!("{name}: {}", visible::line(&warning))
        })
        .collect();
    let manual = plan.manual.iter().map(|s| mask(s, &plan.secrets)).collect();
    (warnings, manual)
}

/// One node as JSON (schema: docs/json.md), pretty-printed.
pub fn json_node(plan: &NodePlan) -> NodeReport {
    let file_diffs = diffs(plan);
    let value = json!({
        "name": plan.name,
        "home": plan.home.display().to_string(),
        "product": plan.product,
        "changes": !plan.changes.is_empty(),
        "interrupted": plan.interrupted,
        "finished_interrupted": plan.finished_interrupted.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "files": file_diffs.iter().map(file_json).collect::<Vec<_>>(),
        "outcomes": plan.outcomes.iter().map(|o| json!({
            "file": o.file.display().to_string(),
            "what": mask(&o.what, &plan.secrets),
            "changed": o.changed,
        })).collect::<Vec<_>>(),
        "warnings": plan.warnings.iter().map(|w| mask(&w.to_string(), &plan.secrets)).collect::<Vec<_>>(),
        "warning_details": plan.warnings.iter().map(|w| finding_json(w, &plan.secrets)).collect::<Vec<_>>(),
    });
    NodeReport {
        output: serde_json::to_vec_pretty(&value).expect("JSON values serialize"),
        tally: Tally::of(plan, &file_diffs),
    }
}

/// A file's diff as JSON, as `plan`'s and `restore`'s `"files"` list them
/// (docs/json.md).
pub fn file_json(d: &FileDiff) -> Value {
    json!({"path": d.path, "new_file": d.new_file, "added": d.added, "removed": d.removed, "diff": d.diff})
}

/// A finding as JSON (docs/json.md): its parts apart, so that a script
/// need not take the one-line form apart to point at the file.
pub fn finding_json(finding: &Finding, secrets: &Secrets) -> Value {
    let finding = carbon_config::secrets::mask_finding(finding, secrets);
    json!({
        "severity": finding.severity.as_str(),
        "file": finding.file.display().to_string(),
        "line": finding.at.map(|at| at.line),
        "column": finding.at.map(|at| at.column),
        "message": finding.message,
    })
}

/// A JSON report written node by node: `{"command", "nodes": [...],
/// "manual", "summary"}`, laid out as serde_json's pretty printer would.
pub struct JsonReport {
    nodes: usize,
    /// `apply`'s `"backup"`: the stamp its originals are kept under.
    backup: Option<Value>,
}

impl JsonReport {
    /// Writes the opening, up to the node list.
    pub fn begin(out: &mut dyn Write, command: &str) -> std::io::Result<JsonReport> {
        write!(
            out,
            "{{\n  \"command\": {},\n  \"nodes\": [",
            Value::from(command)
        )?;
        Ok(JsonReport {
            nodes: 0,
            backup: None,
        })
    }

    /// Adds `"backup"` before the summary: the stamp an `apply --backup`
    /// kept the originals under (`None`: it kept none).
    pub fn backup(&mut self, stamp: Option<&str>) {
        self.backup = Some(stamp.map_or(Value::Null, Value::from));
    }

    /// Writes one node (the output of [`json_node`]).
    pub fn node(&mut self, out: &mut dyn Write, pretty: &[u8]) -> std::io::Result<()> {
        out.write_all(if self.nodes == 0 {
            b"\n    "
        } else {
            b",\n    "
        })?;
        write_indented(out, pretty, "    ")?;
        self.nodes += 1;
        Ok(())
    }

    /// Writes the manual steps and the summary, and closes the report.
    pub fn end(self, out: &mut dyn Write, tally: &Tally) -> std::io::Result<()> {
        if self.nodes > 0 {
            out.write_all(b"\n  ")?;
        }
        out.write_all(b"],\n  \"manual\": ")?;
        let manual = serde_json::to_vec_pretty(&tally.manual).expect("strings serialize");
        write_indented(out, &manual, "  ")?;
        if let Some(backup) = &self.backup {
            write!(out, ",\n  \"backup\": {backup}")?;
        }
        out.write_all(b",\n  \"summary\": ")?;
        let summary = json!({"nodes": tally.nodes, "files": tally.files, "added": tally.added, "removed": tally.removed, "warnings": tally.warnings});
        let summary = serde_json::to_vec_pretty(&summary).expect("JSON values serialize");
        write_indented(out, &summary, "  ")?;
        out.write_all(b"\n}\n")
    }

    /// Closes the report after an error: the nodes shown so far, then
    /// `"error"` with the message (as on stderr), and no manual steps or
    /// summary. stdout then still holds one whole JSON document.
    /// With the findings of a failed validation as `"error_details"`.
    pub fn fail(
        self,
        out: &mut dyn Write,
        message: &str,
        findings: Option<&[Finding]>,
    ) -> std::io::Result<()> {
        if self.nodes > 0 {
            out.write_all(b"\n  ")?;
        }
        out.write_all(b"],\n  \"error\": ")?;
        out.write_all(Value::from(message).to_string().as_bytes())?;
        if let Some(findings) = findings {
            // Masked already, as the message is (mask::in_error).
            let details: Vec<Value> = findings
                .iter()
                .map(|f| finding_json(f, &Secrets::default()))
                .collect();
            out.write_all(b",\n  \"error_details\": ")?;
            let pretty = serde_json::to_vec_pretty(&details).expect("JSON values serialize");
            write_indented(out, &pretty, "  ")?;
        }
        out.write_all(b"\n}\n")
    }
}

/// Writes pretty JSON nested at `indent`: every line but the first is
/// indented (strings never hold a raw line feed, so lines are structure).
fn write_indented(out: &mut dyn Write, pretty: &[u8], indent: &str) -> std::io::Result<()> {
    for (i, line) in pretty.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.write_all(b"\n")?;
            out.write_all(indent.as_bytes())?;
        }
        out.write_all(line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(line: &str, color: bool) -> String {
        let mut out = Vec::new();
        write_diff_line(&mut out, line, color).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_diff_line_keeps_its_ending_and_escapes_its_text() {
        // The line endings of LF and CRLF files show as they are.
        assert_eq!(shown(" a\n", false), " a\n");
        assert_eq!(shown("+a\r\n", false), "+a\r\n");
        assert_eq!(shown("-a", false), "-a");
        // A lone carriage return ends its line visibly; escapes never act.
        assert_eq!(shown(" a\u{1b}[2J\r", false), " a\\u{1b}[2J\\r\n");
        // Colour goes around the escaped text, never around the ending.
        assert_eq!(
            shown("+\u{9b}31m\r\n", true),
            "\u{1b}[32m+\\u{9b}31m\u{1b}[0m\r\n"
        );
        assert_eq!(shown("--- n: p\n", true), "--- n: p\n");
    }
}
