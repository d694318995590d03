//! The engine against real, as-shipped WSO2 files.
//!
//! Reads the folder named by `CARBON_CORPUS` (relative paths are taken from
//! the workspace root; CI sets `../shared/corpus`). Without the variable the
//! suite reports one ignored test, unless `CI=true`, where a missing corpus fails.
//!
//! - `roundtrip::<file>`: every `.xml` file opens and renders byte-identical,
//!   and its commented-out elements read once answer as a search does.
//! - `edits::<file>`: every axis2.xml, carbon.xml and registry.xml gets the
//!   edit set below; the diff must equal tests/golden/corpus/<file>.diff, touch
//!   only lines about the edits, parse, and be stable when applied again.
//!
//! One test per file (libtest-mimic), so the count shows in the output and a
//! failure names the file.

mod support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use xmlsplice::{Document, Error, NewElement, Place};

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let corpus = match corpus_dir() {
        Ok(Some(dir)) => dir,
        Ok(None) => {
            eprintln!(
                "corpus suite ignored: CARBON_CORPUS is not set (e.g. CARBON_CORPUS=../shared/corpus)"
            );
            // One test, reported ignored: a suite that did not run must not
            // read as passed.
            let corpus = Trial::test("corpus", || Ok(())).with_ignored_flag(true);
            return libtest_mimic::run(&args, vec![corpus]).exit_code();
        }
        Err(message) => {
            eprintln!("corpus suite: {message}");
            return ExitCode::FAILURE;
        }
    };
    let files = xml_files(&corpus);
    let mut trials = Vec::new();
    let mut edited = 0;
    for rel in &files {
        let path = corpus.join(rel);
        let name = rel.to_string_lossy().replace('\\', "/");
        {
            let path = path.clone();
            trials.push(Trial::test(format!("roundtrip::{name}"), move || {
                roundtrip(&path)
            }));
        }
        if let Some(kind) = Kind::of(rel) {
            edited += 1;
            trials.push(Trial::test(format!("edits::{name}"), move || {
                edits(&path, &name, kind)
            }));
        }
    }
    eprintln!(
        "corpus suite: {} XML files and {edited} edit sets from {}",
        files.len(),
        corpus.display()
    );
    if files.is_empty() {
        eprintln!("corpus suite: no XML files found");
        return ExitCode::FAILURE;
    }
    libtest_mimic::run(&args, trials).exit_code()
}

fn corpus_dir() -> Result<Option<PathBuf>, String> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Some(value) = std::env::var_os("CARBON_CORPUS") else {
        return if in_ci {
            Err("CI=true, but CARBON_CORPUS is not set: the corpus tests must run in CI".into())
        } else {
            Ok(None)
        };
    };
    let dir = support::workspace_root().join(value);
    if dir.is_dir() {
        Ok(Some(dir))
    } else {
        Err(format!(
            "CARBON_CORPUS names {}, which is not a directory",
            dir.display()
        ))
    }
}

/// Every `.xml` file below `corpus`, relative to it, sorted.
fn xml_files(corpus: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(corpus)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "xml"))
        .map(|e| e.path().strip_prefix(corpus).unwrap().to_path_buf())
        .collect();
    files.sort();
    files
}

fn roundtrip(path: &Path) -> Result<(), Failed> {
    let bytes = std::fs::read(path)?;
    let doc = Document::parse(&bytes).map_err(|e| e.with_path(path).to_string())?;
    support::commented::check_commented_children(&doc)?;
    let rendered = doc.render().map_err(|e| e.to_string())?;
    if rendered != bytes {
        return Err(format!(
            "{}: rendering with no edits changed the bytes",
            path.display()
        )
        .into());
    }
    // The tree is parsed from the text with its comment bodies and the
    // blank text beside elements left out: every element must still be
    // found exactly where roxmltree finds it in the whole text, with the
    // same text.
    let text = doc.text();
    let whole = roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let expected: Vec<_> = whole
        .root_element()
        .descendants()
        .filter(|n| n.is_element())
        .map(|n| {
            let text = (!n.children().any(|c| c.is_element())).then(|| {
                n.children()
                    .filter_map(|c| c.is_text().then(|| c.text()).flatten())
                    .collect::<String>()
            });
            (n.range(), text)
        })
        .collect();
    let mut elements = vec![doc.root()];
    elements.extend(doc.select(".//*").map_err(|e| e.to_string())?);
    let found: Vec<_> = elements
        .into_iter()
        .map(|e| (doc.range(e), doc.element_text(e)))
        .collect();
    if found != expected {
        return Err(format!(
            "{}: element ranges or texts differ from roxmltree's",
            path.display()
        )
        .into());
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Axis2,
    Carbon,
    Registry,
}

impl Kind {
    fn of(rel: &Path) -> Option<Kind> {
        match rel.file_name()?.to_str()? {
            "axis2.xml" => Some(Kind::Axis2),
            "carbon.xml" => Some(Kind::Carbon),
            "registry.xml" => Some(Kind::Registry),
            _ => None,
        }
    }

    /// The edit set for this kind of file.
    fn apply(self, doc: &mut Document) -> Result<(), Error> {
        match self {
            Kind::Axis2 => {
                // Enable clustering, wka, and exactly these members.
                let clustering = doc.select_one("clustering")?;
                doc.set_attribute(clustering, "enable", "true")?;
                let scheme = doc.select_one("clustering/parameter[@name='membershipScheme']")?;
                doc.set_text(scheme, "wka")?;
                let members = doc.select_one("clustering/members")?;
                let mut wanted = NewElement::new("members");
                for (host, port) in [("10.0.0.1", "4000"), ("10.0.0.2", "4001")] {
                    wanted = wanted.child(
                        NewElement::new("member")
                            .text_child("hostName", host)
                            .text_child("port", port),
                    );
                }
                doc.replace(members, wanted)?;
            }
            Kind::Carbon => {
                // Uncomment HostName in place, then set it.
                if doc.select_optional("HostName")?.is_none() {
                    let commented = doc.select_commented("HostName")?;
                    assert_eq!(commented.len(), 1, "one commented-out HostName");
                    doc.uncomment(&commented[0])?;
                    doc.apply()?;
                }
                let host = doc.select_one("HostName")?;
                doc.set_text(host, "node1.example.com")?;
            }
            Kind::Registry => {
                // Add a mount after the last mount, remote instance or dbConfig.
                if doc.select("mount[@path='/_system/config']")?.is_empty() {
                    let anchor = ["mount", "remoteInstance", "dbConfig"]
                        .into_iter()
                        .find_map(|p| doc.select(p).ok()?.last().copied())
                        .expect("a registry.xml has a dbConfig");
                    let mount = NewElement::new("mount")
                        .attribute("path", "/_system/config")
                        .attribute("overwrite", "true")
                        .text_child("instanceId", "gov")
                        .text_child("targetPath", "/_system/nodes");
                    doc.insert(Place::After(anchor), mount)?;
                }
            }
        }
        Ok(())
    }

    /// What every changed line of the diff must be about.
    fn markers(self) -> &'static [&'static str] {
        match self {
            Kind::Axis2 => &["enable=", "membershipScheme", "member", "hostName", "port"],
            Kind::Carbon => &["HostName"],
            Kind::Registry => &["mount", "instanceId", "targetPath"],
        }
    }
}

fn edits(path: &Path, name: &str, kind: Kind) -> Result<(), Failed> {
    let before = std::fs::read(path)?;
    let mut doc = Document::parse(&before).map_err(|e| e.with_path(path).to_string())?;
    kind.apply(&mut doc)
        .map_err(|e| e.with_path(path).to_string())?;
    let after = doc.render().map_err(|e| e.with_path(path).to_string())?;

    let diff = support::unified_diff(name, &before, &after);
    for line in diff.lines().skip(2) {
        let changed = line.starts_with('+') || line.starts_with('-');
        if changed && !kind.markers().iter().any(|m| line.contains(m)) {
            return Err(
                format!("{name}: a changed line is about none of the edits: {line}").into(),
            );
        }
    }
    std::panic::catch_unwind(|| support::assert_golden(&format!("corpus/{name}.diff"), &diff))
        .map_err(|_| format!("{name}: the diff differs from its golden file (see above)"))?;

    // Applying the same edit set to the result changes nothing.
    let mut again = Document::parse(&after).map_err(|e| format!("{name}: output: {e}"))?;
    kind.apply(&mut again).map_err(|e| e.to_string())?;
    if again.has_edits() || again.render().map_err(|e| e.to_string())? != after {
        return Err(format!("{name}: the edit set is not idempotent").into());
    }
    Ok(())
}
