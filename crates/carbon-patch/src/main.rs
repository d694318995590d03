//! `carbon-patch`: apply one cluster recipe to WSO2 Carbon homes.
//!
//! A thin binary. Arguments become a validated command; the recipe crate
//! resolves nodes; carbon-config does every edit in memory; this crate only
//! shows the result (`plan`, `check`), writes it (`apply`), or reads a home
//! (`inspect`), compares two homes (`diff`), captures homes as a recipe
//! (`capture`), or puts back what an apply's backup kept (`restore`). Exit codes: 0 success
//! (and, for `check`, no drift; for `diff`, equal homes), 1 any error
//! (argument errors included), 2 `check` found drift or `diff` differences.

mod cli;
mod compare;
mod finished;
mod inspect;
mod mask;
mod render;
mod restore;
mod shown;
mod stdout;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use carbon_recipe::plan::{self, fleet, PlanError, Planner};
use carbon_recipe::{ProcessEnv, Recipe};

use cli::{Command, Format, Target};

fn main() -> ExitCode {
    let command = match cli::parse() {
        Ok(command) => command,
        Err(code) => return code,
    };
    carbon_commit::descriptors::raise_limit();
    match run(command) {
        Ok(code) => code,
        // A closed pipe (`carbon-patch plan ... | head`) is not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("carbon-patch: {}", shown::error_text(&err));
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn use_color(choice: cli::Color) -> bool {
    match choice {
        cli::Color::Always => true,
        cli::Color::Never => false,
        // NO_COLOR, CLICOLOR_FORCE, CLICOLOR and TERM=dumb, read as every
        // program built on anstream reads them.
        cli::Color::Auto => {
            anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
        }
    }
}

fn run(command: Command) -> Result<ExitCode> {
    let mut out = stdout::Stdout::new(std::io::stdout().lock(), command.is_json());
    match command {
        Command::Plan {
            target,
            format,
            color,
        } => {
            show(&mut out, "plan", &target, format, use_color(color))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            target,
            format,
            color,
        } => {
            let drift = show(&mut out, "check", &target, format, use_color(color))?;
            if drift {
                if let Format::Text = format {
                    writeln!(out, "drift: the homes differ from the recipe (exit 2)")?;
                }
                return Ok(ExitCode::from(2));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Apply {
            target,
            format,
            backup,
            timings,
            wait,
        } => {
            let report = match apply(&mut out, &target, format, backup, wait) {
                Ok(report) => report,
                Err(err) => {
                    // Nothing was shown yet: the document is the error alone.
                    if let Format::Json = format {
                        if let Ok(json) = render::JsonReport::begin(&mut out, "apply") {
                            json_failed(&mut out, json, &err);
                        }
                    }
                    return Err(err);
                }
            };
            if timings {
                eprint!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { home, format } => {
            let report = match inspect::inspect(&home) {
                Ok(report) => report,
                Err(err) => {
                    if let Format::Json = format {
                        let error = serde_json::json!({"command": "inspect", "error": shown::error_text(&err)});
                        let _ = writeln!(out, "{error:#}");
                    }
                    return Err(err);
                }
            };
            match format {
                Format::Text => write!(out, "{}", inspect::text(&report))?,
                Format::Json => writeln!(out, "{:#}", inspect::json(&report))?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            before,
            after,
            format,
        } => {
            let differences = match compare::differences(&before, &after) {
                Ok(differences) => differences,
                Err(err) => {
                    if let Format::Json = format {
                        let error = serde_json::json!({"command": "diff", "error": shown::error_text(&err)});
                        let _ = writeln!(out, "{error:#}");
                    }
                    return Err(err);
                }
            };
            match format {
                Format::Text => write!(out, "{}", compare::text(&before, &after, &differences))?,
                Format::Json => {
                    writeln!(out, "{:#}", compare::json(&before, &after, &differences))?
                }
            }
            Ok(if differences.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Capture { homes, baseline } => {
            let captured = compare::capture(&homes, baseline.as_deref())?;
            write!(out, "{}", captured.recipe)?;
            eprintln!(
                "carbon-patch: captured {} table(s) and edit(s) from {} home(s); {} environment variable(s) to set; {} difference(s) not captured (listed in the recipe's header)",
                captured.edits,
                homes.len(),
                captured.variables.len(),
                captured.not_captured
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore(args) => {
            let json = matches!(args.format, Format::Json);
            let options = restore::Options {
                from: args.from,
                dry_run: args.dry_run,
                backup: args.backup.then(backup_stamp),
                skip_missing: args.skip_missing,
                color: use_color(args.color) && !json,
                format: args.format,
                max_file_size: args.max_file_size,
                wait: args.wait,
                jobs: args
                    .jobs
                    .map_or_else(carbon_recipe::plan::fleet::default_jobs, usize::from),
            };
            if let Err(err) = restore::restore(&mut out, &args.homes, &options) {
                if json {
                    let error =
                        serde_json::json!({"command": "restore", "error": shown::error_text(&err)});
                    let _ = writeln!(out, "{error:#}");
                }
                return Err(err);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            cli::completions(shell, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `plan` and `check`: every node planned (in parallel) and shown as soon as
/// its turn comes, so memory does not grow with the number of nodes.
/// Returns whether anything would change. With `--format json` stdout holds
/// one whole document even after an error (docs/json.md).
fn show(
    out: &mut dyn Write,
    command: &str,
    target: &Target,
    format: Format,
    color: bool,
) -> Result<bool> {
    let mut json = match format {
        Format::Text => None,
        Format::Json => Some(render::JsonReport::begin(out, command)?),
    };
    let tally = match show_nodes(out, target, format, color, json.as_mut()) {
        Ok(tally) => tally,
        Err(err) => {
            if let Some(json) = json {
                json_failed(out, json, &err);
            }
            return Err(err);
        }
    };
    match json {
        Some(json) => json.end(out, &tally)?,
        None => render::text_end(out, &tally)?,
    }
    Ok(tally.drift)
}

/// The nodes of `show`, each written to `out` (into `json` when given).
fn show_nodes(
    out: &mut dyn Write,
    target: &Target,
    format: Format,
    color: bool,
    mut json: Option<&mut render::JsonReport>,
) -> Result<render::Tally> {
    let recipe = Recipe::load(&target.recipe)?;
    let names = plan::select_nodes(&recipe, &target.nodes, &target.homes, &ProcessEnv)?;
    // What apply would refuse, plan and check refuse too.
    plan::refuse_shared_homes(&recipe, &names, &target.homes, &ProcessEnv).map_err(plan_error)?;
    plan::refuse_other_products(&recipe, &names, &target.homes, &ProcessEnv).map_err(plan_error)?;
    let planner = Planner::new(target.max_file_size);
    let work = |name: &String| -> Result<render::NodeReport> {
        let (node, home) = open(&recipe, name, target)?;
        let secrets = node.secrets.clone();
        let plan = planner.plan(node, &home).map_err(plan_error);
        let mut plan = mask::in_error(plan, &secrets)?;
        plan.interrupted = carbon_commit::pending(home.root());
        Ok(match format {
            Format::Text => render::text_node(&plan, color),
            Format::Json => render::json_node(&plan),
        })
    };
    let mut tally = render::Tally::default();
    fleet::ordered_parallel(&names, target.jobs, work, |report| {
        match &mut json {
            Some(json) => json.node(out, &report.output)?,
            None => out.write_all(&report.output)?,
        }
        tally.add(report.tally);
        Ok(())
    })?;
    Ok(tally)
}

/// Closes a JSON report with `err`, unless stdout itself is what failed.
fn json_failed(out: &mut dyn Write, json: render::JsonReport, err: &anyhow::Error) {
    if !is_broken_pipe(err) {
        // The error is still reported on stderr and by the exit code.
        let details = mask::error_details(err);
        let _ = json.fail(out, &shown::error_text(err), details.as_deref());
    }
}

/// `apply`: each node's home locked (finishing any interrupted apply), then
/// planned and staged, in parallel; once every node has succeeded, all are
/// committed together (the carbon-commit crate). Any error before the
/// commit writes nothing.
/// Returns how long each phase took.
fn apply(
    out: &mut dyn Write,
    target: &Target,
    format: Format,
    backup: bool,
    wait: std::time::Duration,
) -> Result<carbon_commit::Timings> {
    let mut timings = carbon_commit::Timings::start();
    let recipe = Recipe::load(&target.recipe)?;
    let names = plan::select_nodes(&recipe, &target.nodes, &target.homes, &ProcessEnv)?;
    plan::refuse_shared_homes(&recipe, &names, &target.homes, &ProcessEnv).map_err(plan_error)?;
    plan::refuse_other_products(&recipe, &names, &target.homes, &ProcessEnv).map_err(plan_error)?;
    carbon_commit::descriptors::reserve_for(names.len());
    timings.lap("read the recipe");
    let planner = Planner::new(target.max_file_size);
    let mut noted = finished::Noted::default();
    let stop = |err: anyhow::Error, noted: finished::Noted, out: &mut dyn Write| {
        let noted = noted.take(&names);
        // A recipe's mistake reads as `plan` shows it: nothing is written
        // from a recipe that does not resolve, and no node was reached.
        if err.is::<carbon_recipe::RecipeError>() && noted.is_empty() {
            err
        } else {
            finished::stopped(text_out(out, format), &noted, err, "applied")
        }
    };
    let locked = match locked_in_order(&recipe, &names, target, wait, &noted) {
        Ok(locked) => std::sync::Mutex::new(locked),
        Err(err) => return Err(stop(err, noted, out)),
    };
    let work = |name: &String| -> Result<NodeApplied> {
        let taken = locked.lock().unwrap().remove(name);
        let (node, home, lock) = match taken {
            Some(locked) => locked,
            None => {
                let (node, home) = open(&recipe, name, target)?;
                let lock = carbon_commit::Lock::acquire(home.root())
                    .with_context(|| format!("node {name} ({})", node.home.display()))?;
                noted.note(name, lock.finished());
                (node, home, lock)
            }
        };
        let finished = lock.finished().to_vec();
        let secrets = node.secrets.clone();
        let plan = planner.plan(node, &home).map_err(plan_error);
        let mut plan = mask::in_error(plan, &secrets)?;
        plan.finished_interrupted = finished;
        let report = match format {
            Format::Text => None,
            Format::Json => Some(render::json_node(&plan)),
        };
        let finished = (!plan.finished_interrupted.is_empty())
            .then(|| (plan.name.clone(), plan.finished_interrupted.clone()));
        let staged = if plan.changes.is_empty() {
            None
        } else {
            let mut staged = carbon_commit::Staged::new(format!("node {}", plan.name), lock);
            for change in &plan.changes {
                let planned = match (&change.before, &change.read_from) {
                    (Some(bytes), Some(read_from)) => {
                        Some(carbon_commit::Planned { bytes, read_from })
                    }
                    _ => None,
                };
                staged.add(&change.path, planned, &change.after)?;
            }
            Some(staged)
        };
        Ok(NodeApplied {
            name: name.clone(),
            report,
            staged,
            finished,
            notes: render::apply_notes(&plan),
        })
    };
    let (mut reports, mut staged, mut finished) = (Vec::new(), Vec::new(), Vec::new());
    let mut staged_names = Vec::new();
    let (mut warnings, mut manual) = (Vec::new(), Vec::<String>::new());
    let mut nodes = 0;
    fleet::ordered_parallel(&names, target.jobs, work, |node| {
        nodes += 1;
        reports.extend(node.report);
        warnings.extend(node.notes.0);
        for step in node.notes.1 {
            if !manual.contains(&step) {
                manual.push(step);
            }
        }
        if let Some(tree) = node.staged {
            staged_names.push(node.name);
            staged.push(tree);
        }
        finished.extend(node.finished);
        Ok(())
    })
    .map_err(|err| stop(err, std::mem::take(&mut noted), out))?;
    timings.lap("lock, plan and stage every node");
    let stamp = backup.then(backup_stamp);
    let options = carbon_commit::Options {
        backup: stamp.as_deref(),
        jobs: target.jobs,
    };
    let written = match carbon_commit::commit(&mut staged, options) {
        Ok(report) => {
            timings.extend("commit: ", &report.steps);
            report.written
        }
        Err(err) if err.wrote_nothing() => {
            return Err(finished::stopped(
                text_out(out, format),
                &finished,
                err.into(),
                "applied",
            ))
        }
        Err(err) => {
            return Err(finished::after_writing(
                text_out(out, format),
                &finished,
                err.into(),
            ))
        }
    };
    // Everything is written by now: an error from here on (stdout full or
    // closed) must not read as if the apply had failed.
    let report = |out: &mut dyn Write| -> std::io::Result<()> {
        // Buffered: stdout flushes at each newline, two system calls a line,
        // and a fleet's report is a line per file written.
        let mut out = std::io::BufWriter::new(out);
        let out: &mut dyn Write = &mut out;
        match format {
            Format::Text => {
                // Written when the lock was taken, before anything was planned.
                finished::write_lines(out, &finished)?;
                for (node, name) in staged.iter().zip(&staged_names) {
                    for path in node.paths() {
                        let name = visible::line(name);
                        writeln!(out, "wrote {name}: {}", visible::path(path))?;
                    }
                }
                if let (Some(stamp), true) = (&stamp, written > 0) {
                    writeln!(
                        out,
                        "originals kept under CARBON_HOME/.carbon-patch/backups/{stamp}/"
                    )?;
                }
                // What plan showed and apply must not hide: a user who goes
                // straight to apply still reads the warnings and what is left
                // to do by hand.
                for warning in &warnings {
                    writeln!(out, "{warning}")?;
                }
                render::write_manual(out, &manual)?;
                writeln!(out, "Applied: {written} file(s) on {nodes} node(s)")?;
            }
            Format::Json => {
                let mut tally = render::Tally::default();
                let mut json = render::JsonReport::begin(out, "apply")?;
                for report in reports {
                    json.node(out, &report.output)?;
                    tally.add(report.tally);
                }
                if let Some(stamp) = &stamp {
                    json.backup(Some(stamp.as_str()).filter(|_| written > 0));
                }
                json.end(out, &tally)?;
            }
        }
        out.flush()
    };
    report(out).with_context(|| {
        format!("applied: {written} file(s) on {nodes} node(s) were written, but not reported")
    })?;
    timings.lap("report");
    Ok(timings)
}

/// Resolves node `name` (its home from `--home` when given there) and
/// opens its home.
fn open(
    recipe: &Recipe,
    name: &str,
    target: &Target,
) -> Result<(carbon_recipe::Node, carbon_config::CarbonHome)> {
    let home = target.homes.get(name).map(std::path::PathBuf::as_path);
    plan::open(recipe, name, home, &ProcessEnv).map_err(plan_error)
}

/// A node opened and its home locked before any is planned.
type Locked = (
    carbon_recipe::Node,
    carbon_config::CarbonHome,
    carbon_commit::Lock,
);

/// With a `wait`, every node's home opened and locked before any is planned,
/// one after another in [`carbon_commit::Lock::order`]: two waiting runs
/// over the same homes then queue for the first home they share, and
/// neither holds a home the other waits for. Without one, nothing: each
/// worker locks its node's home itself, and a home held is refused at once.
fn locked_in_order(
    recipe: &Recipe,
    names: &[String],
    target: &Target,
    wait: std::time::Duration,
    noted: &finished::Noted,
) -> Result<std::collections::HashMap<String, Locked>> {
    let mut locked = std::collections::HashMap::new();
    if wait.is_zero() {
        return Ok(locked);
    }
    let opened = names
        .iter()
        .map(|name| open(recipe, name, target))
        .collect::<Result<Vec<_>>>()?;
    let order = carbon_commit::Lock::order(opened.iter().map(|(_, home)| home.root()))?;
    let mut locks: Vec<Option<carbon_commit::Lock>> = opened.iter().map(|_| None).collect();
    for i in order {
        let (node, home) = &opened[i];
        let lock = carbon_commit::Lock::acquire_waiting(home.root(), wait)
            .with_context(|| format!("node {} ({})", names[i], node.home.display()))?;
        noted.note(&names[i], lock.finished());
        locks[i] = Some(lock);
    }
    for ((name, (node, home)), lock) in names.iter().zip(opened).zip(locks) {
        locked.insert(name.clone(), (node, home, lock.expect("each home locked")));
    }
    Ok(locked)
}

/// A planning error as shown: a recipe's mistake as itself (it quotes the
/// recipe's line, [`shown`]), any other after the node it is about.
fn plan_error(err: PlanError) -> anyhow::Error {
    match err {
        PlanError::Recipe(err) => err.into(),
        err => err.into(),
    }
}

/// What `apply` keeps of one node until the commit.
struct NodeApplied {
    /// The node's name.
    name: String,
    /// The node's JSON report (`--format json` only).
    report: Option<render::NodeReport>,
    /// Its staged files, when any changes.
    staged: Option<carbon_commit::Staged>,
    /// The node's name and the files that finishing an interrupted apply
    /// wrote, when there were any (reported in text; JSON has them in the
    /// node's report).
    finished: Option<(String, Vec<std::path::PathBuf>)>,
    /// Its warnings and manual steps, for the text report.
    notes: (Vec<String>, Vec<String>),
}

/// Where lines of text go: `out`, unless the output is a JSON document.
pub(crate) fn text_out(out: &mut dyn Write, format: Format) -> Option<&mut dyn Write> {
    match format {
        Format::Text => Some(out),
        Format::Json => None,
    }
}

/// A backup folder name from the current time: UTC, sortable, no colons;
/// to the millisecond, so that two runs on one home never share one (a run
/// holds the home's lock for longer than that).
fn backup_stamp() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now())
        .to_string()
        .replace(':', "")
}

#[cfg(test)]
mod tests {
    /// The folder the commit keeps its files in is the one no path of a
    /// home may lead into.
    #[test]
    fn the_commits_folder_is_the_one_homes_hide() {
        assert_eq!(carbon_commit::STAGE_DIR, carbon_config::files::OWN_DIR);
    }
}
