//! A captured recipe as TOML text: a header that says where it came from,
//! which variables it reads and what it could not capture, then the shared
//! entries and each node's.

use std::fmt::Write as _;

use carbon_config::CarbonHome;

use super::edits::Entry;
use super::typed::Table;
use super::{CapturedHome, Variable};

pub(super) fn recipe(
    homes: &[CapturedHome],
    baseline: Option<&CarbonHome>,
    shared: &[Entry],
    per_node: &[Vec<Entry>],
    variables: &[Variable],
) -> String {
    let mut out = String::new();
    let line = |s: &str| visible::line(s).into_owned();
    match baseline {
        Some(baseline) => {
            out.push_str(
                "# Captured by carbon-patch from the home(s) below, as the settings that make \
                 them\n",
            );
            let _ = writeln!(
                out,
                "# from a pristine pack (the baseline {}).",
                line(&baseline.path().display().to_string())
            );
        }
        None => out.push_str(
            "# Captured by carbon-patch from the home(s) below: the settings the recipe's tables\n\
             # know, as the homes hold them. Without a baseline (--baseline), nothing else is\n\
             # captured.\n",
        ),
    }
    out.push_str("# Review it, then plan it against freshly unpacked homes.\n");
    if !variables.is_empty() {
        out.push_str(
            "#\n# Environment variables it reads (the secrets found, never written here):\n",
        );
        for v in variables {
            let _ = writeln!(out, "#   {}: {}", v.name, line(&v.used_for));
        }
    }
    let notes: Vec<(Option<&str>, &str)> = shared
        .iter()
        .map(|e| (None, e))
        .chain(
            homes
                .iter()
                .zip(per_node)
                .flat_map(|(h, entries)| entries.iter().map(move |e| (Some(h.node.as_str()), e))),
        )
        .filter_map(|(node, e)| match e {
            Entry::Note(note) => Some((node, note.as_str())),
            _ => None,
        })
        .collect();
    if !notes.is_empty() {
        out.push_str("#\n# Not captured: carry these over by hand.\n");
        for (node, note) in notes {
            let _ = match node {
                Some(node) => writeln!(out, "#   - {}: {}", line(node), line(note)),
                None => writeln!(out, "#   - {}", line(note)),
            };
        }
    }
    out.push('\n');
    let product = baseline
        .or(homes.first().map(|h| h.home))
        .and_then(|h| h.product());
    if let Some(product) = product {
        let _ = writeln!(out, "product = {}", string(product));
    }
    let mut versions: Vec<&str> = homes.iter().filter_map(|h| h.home.version()).collect();
    versions.sort_unstable();
    versions.dedup();
    if !versions.is_empty() {
        let _ = writeln!(out, "versions = {}", string(&versions.join(", ")));
    }
    entries(&mut out, "", shared);
    for (h, own) in homes
        .iter()
        .zip(per_node.iter().chain(std::iter::repeat(&Vec::new())))
    {
        let _ = writeln!(out, "\n[nodes.{}]", key(&h.node));
        let _ = writeln!(out, "home = {}", string(&h.path.display().to_string()));
        entries(&mut out, &format!("nodes.{}.", key(&h.node)), own);
    }
    out
}

/// `lib`, then each `[[raw]]`, under `table` (`""` or `nodes.NAME.`).
fn entries(out: &mut String, table: &str, entries: &[Entry]) {
    let libs: Vec<String> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Lib(path) => Some(string(&path.display().to_string())),
            _ => None,
        })
        .collect();
    if !libs.is_empty() {
        let _ = writeln!(out, "lib = [{}]", libs.join(", "));
    }
    out.push_str(&tables(
        table,
        entries.iter().filter_map(|e| match e {
            Entry::Table(t) => Some(t),
            _ => None,
        }),
    ));
    let spark: Vec<String> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Spark(key, value) => Some(format!("{} = {}", string(key), string(value))),
            _ => None,
        })
        .collect();
    if !spark.is_empty() {
        let _ = writeln!(out, "\n[{table}spark]\n{}", spark.join("\n"));
    }
    for e in entries {
        if let Entry::Raw(raw) = e {
            let _ = writeln!(out, "\n[[{table}raw]]");
            for (k, v) in &raw.keys {
                if *k != "added" {
                    let _ = writeln!(out, "{k} = {}", string(v));
                }
            }
        }
    }
}

/// Typed tables as TOML, each under `prefix` (`""` or `nodes.NAME.`).
pub(super) fn tables<'t>(prefix: &str, tables: impl Iterator<Item = &'t Table>) -> String {
    let mut out = String::new();
    for t in tables {
        let _ = match t.array {
            true => writeln!(out, "\n[[{prefix}{}]]", t.header),
            false => writeln!(out, "\n[{prefix}{}]", t.header),
        };
        for (k, v) in &t.keys {
            let _ = writeln!(out, "{k} = {v}");
        }
    }
    out
}

/// A TOML key: bare when it can be.
pub(super) fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        string(name)
    }
}

/// A TOML string holding `value`: a multi-line literal for markup that can
/// be one (readable as the file has it), else a basic string. A value with
/// a bidirectional control in it (which would make the recipe the operator
/// reviews read as another) is a basic string with each one escaped.
pub(super) fn string(value: &str) -> String {
    if value.chars().any(visible::is_bidirectional) {
        return escaped(value);
    }
    let literal_ok = value.contains('\n')
        && !value.contains("'''")
        && !value.starts_with('\n')
        && value
            .chars()
            .all(|c| c == '\n' || c == '\t' || !c.is_control());
    if literal_ok {
        format!("'''\n{value}'''")
    } else {
        toml::Value::String(value.to_string()).to_string()
    }
}

/// `value` as a TOML basic string, every control character and
/// bidirectional control written as an escape.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || visible::is_bidirectional(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::string;

    #[test]
    fn strings_read_back_as_they_were() {
        for value in [
            "plain",
            "it's \"quoted\"",
            "<a>\n  <b>x</b>\n</a>",
            "ends in a quote'",
            "has ''' in it\n",
            "cr\r\nlf",
            "tab\tand \u{7f}",
            "conf/\u{202e}lmx.xml \"q\" \\ \u{1b}\n\u{2066}",
        ] {
            let doc = format!("v = {}", string(value));
            let table: toml::Table = doc.parse().unwrap_or_else(|e| panic!("{doc}: {e}"));
            assert_eq!(table["v"].as_str(), Some(value), "{doc}");
        }
    }

    /// A recipe the operator reviews shows no bidirectional control raw.
    #[test]
    fn bidirectional_controls_are_escaped() {
        assert_eq!(
            string("jdbc:h2:./\u{202e}bd.x"),
            "\"jdbc:h2:./\\u202Ebd.x\""
        );
        assert!(!string("<a>\n\u{2067}</a>\n").contains('\u{2067}'));
    }
}
