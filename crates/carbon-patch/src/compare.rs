//! `diff`: two homes' configuration compared setting by setting
//! ([`carbon_config::compare`]), as text or JSON, secrets masked; and
//! `capture`, the recipe that makes homes again ([`carbon_recipe::capture`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use carbon_config::compare::{compare_homes, dedented, Change, Difference, DifferenceKind, Side};
use carbon_config::CarbonHome;
use carbon_recipe::capture::{Captured, CapturedHome};
use serde_json::{json, Value};

/// The differences from `before` to `after`, masked.
pub fn differences(before: &Path, after: &Path) -> Result<Vec<Difference>> {
    let (a, b) = (CarbonHome::open(before)?, CarbonHome::open(after)?);
    Ok(compare_homes(&a, &b)?
        .iter()
        .map(Difference::masked)
        .collect())
}

/// The recipe that makes `homes` (node name, path) from `baseline`.
pub fn capture(homes: &[(String, PathBuf)], baseline: Option<&Path>) -> Result<Captured> {
    let opened: Vec<CarbonHome> = homes
        .iter()
        .map(|(_, path)| CarbonHome::open(path))
        .collect::<Result<_, _>>()?;
    let captured: Vec<CapturedHome> = homes
        .iter()
        .zip(&opened)
        .map(|((node, path), home)| CapturedHome {
            node: node.clone(),
            path: std::path::absolute(path).unwrap_or_else(|_| path.clone()),
            home,
        })
        .collect();
    let baseline = baseline.map(CarbonHome::open).transpose()?;
    Ok(carbon_recipe::capture::capture(
        &captured,
        baseline.as_ref(),
    )?)
}

/// The differences as JSON (docs/json.md).
pub fn json(before: &Path, after: &Path, differences: &[Difference]) -> Value {
    json!({
        "command": "diff",
        "before": before.display().to_string(),
        "after": after.display().to_string(),
        "equal": differences.is_empty(),
        "differences": differences,
    })
}

/// The differences as text: a file's name, then one line (or an element's
/// lines) per difference; every text from the homes escaped ([`visible`]).
pub fn text(before: &Path, after: &Path, differences: &[Difference]) -> String {
    let side = |s: Side| match s {
        Side::Before => before.display().to_string(),
        Side::After => after.display().to_string(),
    };
    // Quoted, and escaped once (`visible`): a backslash in a value is
    // itself.
    let quoted = |v: &str| format!("\"{}\"", visible::line(v));
    let value = |v: &Option<String>| match v {
        Some(v) => quoted(v),
        None => "(none)".to_string(),
    };
    let mut out = String::new();
    let mut file = None;
    for d in differences {
        let name = visible::line(&d.file.to_string_lossy()).into_owned();
        if file.as_ref() != Some(&d.file) {
            match &d.kind {
                DifferenceKind::OnlyIn { side: s } => {
                    let _ = writeln!(out, "{name}: only in {}", visible::line(&side(*s)));
                    continue;
                }
                DifferenceKind::Content { unreadable: None } => {
                    let _ = writeln!(out, "{name}: the contents differ");
                    continue;
                }
                DifferenceKind::Content {
                    unreadable: Some(why),
                } => {
                    let _ = writeln!(
                        out,
                        "{name}: the contents differ (not compared by setting: {})",
                        visible::line(why)
                    );
                    continue;
                }
                _ => {}
            }
            let _ = writeln!(out, "{name}");
            file = Some(d.file.clone());
        }
        match &d.kind {
            DifferenceKind::Xml(x) => {
                let path = visible::line(&x.path);
                let _ = match &x.change {
                    Change::Text { before, after } => {
                        writeln!(out, "  {path}: {} -> {}", quoted(before), quoted(after))
                    }
                    Change::Attribute {
                        name,
                        before,
                        after,
                    } => writeln!(
                        out,
                        "  {path} @{}: {} -> {}",
                        visible::line(name),
                        value(before),
                        value(after)
                    ),
                    Change::Added { markup, .. } => element(&mut out, '+', &path, markup),
                    Change::Removed {
                        markup,
                        commented_out: true,
                    } => element(&mut out, '-', &format!("{path} (commented out)"), markup),
                    Change::Removed { markup, .. } => element(&mut out, '-', &path, markup),
                    Change::Root { before, after } => writeln!(
                        out,
                        "  the root element: <{}> -> <{}>",
                        visible::line(before),
                        visible::line(after)
                    ),
                };
            }
            // Already TOML, quotes and all.
            DifferenceKind::Toml { key, before, after } => {
                let toml = |v: &Option<String>| match v {
                    Some(v) => visible::line(v).into_owned(),
                    None => "(none)".to_string(),
                };
                let _ = writeln!(
                    out,
                    "  {}: {} -> {}",
                    visible::line(key),
                    toml(before),
                    toml(after)
                );
            }
            DifferenceKind::Property { key, before, after } => {
                let _ = writeln!(
                    out,
                    "  {}: {} -> {}",
                    visible::line(key),
                    value(before),
                    value(after)
                );
            }
            DifferenceKind::OnlyIn { .. } | DifferenceKind::Content { .. } => {}
        }
    }
    let files = {
        let mut all: Vec<_> = differences.iter().map(|d| &d.file).collect();
        all.dedup();
        all.len()
    };
    if differences.is_empty() {
        out.push_str("equal: no setting differs\n");
    } else {
        let _ = writeln!(
            out,
            "{} difference(s) in {files} file(s) (exit 2)",
            differences.len()
        );
    }
    out
}

/// An element added (`+`) or removed (`-`): its path, then its markup.
fn element(out: &mut String, sign: char, path: &str, markup: &str) -> std::fmt::Result {
    writeln!(out, "  {sign} {path}")?;
    for line in dedented(markup).lines() {
        writeln!(out, "    {sign} {}", visible::line(line))?;
    }
    Ok(())
}
