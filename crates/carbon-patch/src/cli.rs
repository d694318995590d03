//! Command-line arguments (clap derive), and the exit-code rule: argument
//! errors exit 1 like every other error, so that 2 always means drift.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// Apply one cluster recipe to WSO2 Carbon 4.x product homes, changing only
/// the lines the recipe asks for.
#[derive(Debug, Parser)]
#[command(name = "carbon-patch", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Show, as unified diffs, what the recipe would change. Writes nothing.
    #[command(
        after_help = "Example:\n  carbon-patch plan examples/quickstart.toml --node node1 --home node1=/opt/wso2mb"
    )]
    Plan {
        #[command(flatten)]
        show: ShowArgs,
    },
    /// Plan and validate every node, then write every changed file atomically: all of them, or none.
    #[command(
        after_help = "Example (a home per node: the recipe's sample homes are one folder):\n  carbon-patch apply examples/quickstart.toml --home node1=/opt/wso2/node1 --home node2=/opt/wso2/node2 --backup"
    )]
    Apply {
        #[command(flatten)]
        target: TargetArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Keep the originals under CARBON_HOME/.carbon-patch/backups/TIME/ (UTC, to the millisecond).
        #[arg(long)]
        backup: bool,
        /// Print to stderr how long each phase took (plan and stage, each commit step).
        #[arg(long)]
        timings: bool,
        /// Wait up to this long for a home another run holds (30s, 5m, or seconds), rather than refuse it.
        #[arg(long, value_name = "DURATION", value_parser = parse_wait, default_value = "0")]
        wait: Duration,
    },
    /// Exit 0 when every node already matches the recipe, 2 when something would change (shown), 1 on error.
    #[command(
        after_help = "Example (exit 2 is drift, 1 an error):\n  carbon-patch check examples/quickstart.toml; [ $? -eq 2 ] && echo drift"
    )]
    Check {
        #[command(flatten)]
        show: ShowArgs,
    },
    /// Show a home's product, clustering, ports, host names, datasources (passwords masked), registry and findings.
    #[command(after_help = "Example:\n  carbon-patch inspect /opt/wso2mb-3.2.0")]
    Inspect {
        /// The product's home directory (CARBON_HOME).
        home: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a recipe that makes the given homes again on pristine packs.
    #[command(
        after_help = "The settings the recipe's tables know ([server], [deployment_synchronizer], [mediation], [clustering],\n[tomcat], [[datasource]], [registry], [identity], [event_processor], [user_store], [apim]) become those\ntables. With --baseline, only what differs from that pristine pack is written, and every other\ndifference becomes a [[raw]] edit keyed by name, never by position; what no edit can make is listed\nin the recipe's header. Secrets become ${env:NAME} references.\n\nExample (two nodes, against a freshly unpacked pack of their version):\n  carbon-patch capture --baseline /tmp/wso2am-2.1.0 --home gw1=/opt/gw1 --home gw2=/opt/gw2 > cluster.toml"
    )]
    Capture {
        /// Homes to capture, each a node named after its folder.
        homes: Vec<PathBuf>,
        /// A home to capture as node NAME (repeatable).
        #[arg(long = "home", value_name = "NAME=PATH", value_parser = parse_home)]
        named: Vec<(String, PathBuf)>,
        /// A pristine pack of the homes' product and version, unpacked: capture what differs from it.
        #[arg(long, value_name = "PRISTINE_HOME")]
        baseline: Option<PathBuf>,
    },
    /// Compare two homes' configuration setting by setting: exit 0 when equal, 2 when they differ (shown), 1 on error.
    #[command(
        after_help = "Elements are paired by what names them (parameter[@name='…'], a datasource's name), never by position;\nlayout and comments are not compared. Passwords are masked.\n\nExample (an old node against a new one):\n  carbon-patch diff /opt/wso2am-2.1.0 /opt/wso2am-2.6.0"
    )]
    Diff {
        /// The first home.
        before: PathBuf,
        /// The second home.
        after: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Undo an `apply --backup`: put back the files it replaced and remove those it created, in every home that has the backup at once, or in none.
    #[command(
        after_help = "STAMP is what apply --backup printed (\"originals kept under ...backups/STAMP/\"); --from latest is\nthe newest backup of any home given, and a --from no home has lists each home's stamps. One apply\ngives its stamp only to the homes it wrote to: a home without the backup is refused (its backup may\nbe gone) unless --skip-missing skips it, naming it. Edits made since the apply are replaced\n(--dry-run shows them). Files the apply created (drivers `lib` copied in) are removed while they\nhold what the apply wrote, then the folders it made for them if that leaves them empty; one\nchanged since, or now reached through a link, is left and named.\n\nExample (look first, then restore):\n  carbon-patch restore --from latest --dry-run /opt/wso2/node1 /opt/wso2/node2\n  carbon-patch restore --from 2026-12-07T101500.123Z /opt/wso2/node1 /opt/wso2/node2"
    )]
    Restore(RestoreArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  carbon-patch completions bash > /etc/bash_completion.d/carbon-patch"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// What `restore` takes.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The homes (CARBON_HOME) to restore.
    #[arg(required = true)]
    pub homes: Vec<PathBuf>,
    /// The backup: its folder's name under CARBON_HOME/.carbon-patch/backups/, or `latest` for the newest.
    #[arg(long, value_name = "STAMP")]
    pub from: String,
    /// Show what would change, as unified diffs (passwords masked), and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keep the files it replaces under CARBON_HOME/.carbon-patch/backups/STAMP/, as apply --backup does (then --from latest names that backup, to undo this restore).
    #[arg(long, conflicts_with = "dry_run")]
    pub backup: bool,
    /// Skip a home that has no such backup (its apply wrote nothing there), rather than refuse.
    #[arg(long)]
    pub skip_missing: bool,
    /// Colour diffs (as plan does).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Refuse any file larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = carbon_config::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Homes to work on at once (default: one per core).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Wait up to this long for a home another run holds (30s, 5m, or seconds), rather than refuse it.
    #[arg(long, value_name = "DURATION", value_parser = parse_wait, default_value = "0")]
    pub wait: Duration,
}

/// A `--wait`: a duration as humantime writes one (`30s`, `5m`, `1m 30s`),
/// or a number of seconds.
fn parse_wait(value: &str) -> Result<Duration, String> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(value)
        .map_err(|e| format!("{value:?} is not a duration such as 30s or 5m ({e})"))
}

/// What `plan` and `check` take: they differ only in their exit code.
#[derive(Debug, Args)]
struct ShowArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Colour diffs: auto (on a terminal whose TERM is set and not dumb; a non-empty NO_COLOR
    /// or CLICOLOR=0 turns it off, CLICOLOR_FORCE on), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Args)]
struct TargetArgs {
    /// The recipe file (TOML; every key is in docs/recipe.md).
    recipe: PathBuf,
    /// Only this node (repeatable); all nodes when none is given.
    #[arg(long = "node", value_name = "NAME")]
    nodes: Vec<String>,
    /// Use PATH as node NAME's home instead of the recipe's (repeatable).
    #[arg(long = "home", value_name = "NAME=PATH", value_parser = parse_home)]
    homes: Vec<(String, PathBuf)>,
    /// Refuse any file larger than this many bytes (deployment.toml: a sixteenth of it).
    #[arg(long, value_name = "BYTES", default_value_t = carbon_config::DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,
    /// Nodes to work on at once (default: one per core).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
}

fn parse_home(value: &str) -> Result<(String, PathBuf), String> {
    match value.split_once('=') {
        // The shell leaves `--home=n1=~/x` alone; the path would name a
        // folder `~` in the current one.
        Some((_, path)) if path == "~" || path.starts_with("~/") => Err(format!(
            "{value:?}: `~` was not expanded by the shell; write $HOME/… or an absolute path"
        )),
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!("{value:?} is not NAME=PATH")),
    }
}

/// Output formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Human-readable.
    Text,
    /// JSON (docs/json.md).
    Json,
}

/// When to colour.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Color {
    /// On a terminal, as NO_COLOR, CLICOLOR, CLICOLOR_FORCE and TERM say.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// A recipe and the nodes and homes to run it on.
#[derive(Debug)]
pub struct Target {
    pub recipe: PathBuf,
    pub nodes: Vec<String>,
    pub homes: BTreeMap<String, PathBuf>,
    pub max_file_size: u64,
    /// Nodes to work on at once.
    pub jobs: usize,
}

/// A validated command.
#[derive(Debug)]
pub enum Command {
    Plan {
        target: Target,
        format: Format,
        color: Color,
    },
    Apply {
        target: Target,
        format: Format,
        backup: bool,
        timings: bool,
        /// How long to wait for a home another run holds.
        wait: Duration,
    },
    Check {
        target: Target,
        format: Format,
        color: Color,
    },
    Inspect {
        home: PathBuf,
        format: Format,
    },
    Diff {
        before: PathBuf,
        after: PathBuf,
        format: Format,
    },
    Capture {
        /// Each node's name and home, in order.
        homes: Vec<(String, PathBuf)>,
        baseline: Option<PathBuf>,
    },
    Restore(RestoreArgs),
    Completions {
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// Whether what it writes to standard output is a JSON document.
    pub fn is_json(&self) -> bool {
        let format = match self {
            Command::Plan { format, .. }
            | Command::Apply { format, .. }
            | Command::Check { format, .. }
            | Command::Inspect { format, .. }
            | Command::Diff { format, .. } => format,
            Command::Restore(args) => &args.format,
            Command::Capture { .. } | Command::Completions { .. } => return false,
        };
        matches!(format, Format::Json)
    }
}

fn target(args: TargetArgs) -> Result<Target, String> {
    let mut homes = BTreeMap::new();
    for (name, path) in args.homes {
        if homes.insert(name.clone(), path).is_some() {
            return Err(format!("--home {name}=... is given twice"));
        }
    }
    // Given twice, a node would be planned twice (and refused by apply as
    // two nodes sharing one home): said here, as for --home.
    for (i, name) in args.nodes.iter().enumerate() {
        if args.nodes[..i].contains(name) {
            return Err(format!("--node {name} is given twice"));
        }
    }
    Ok(Target {
        recipe: args.recipe,
        nodes: args.nodes,
        homes,
        max_file_size: args.max_file_size,
        jobs: args
            .jobs
            .map_or_else(carbon_recipe::plan::fleet::default_jobs, usize::from),
    })
}

/// The homes `capture` reads, each with its node's name: the folder's
/// name for one given alone (letters, digits, `-` and `_`).
fn capture_homes(
    homes: Vec<PathBuf>,
    named: Vec<(String, PathBuf)>,
) -> Result<Vec<(String, PathBuf)>, String> {
    let mut all: Vec<(String, PathBuf)> = Vec::new();
    for path in homes {
        let folder = path
            .canonicalize()
            .unwrap_or_else(|_| path.clone())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name: String = folder
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        all.push((if name.is_empty() { "node".into() } else { name }, path));
    }
    all.extend(named);
    if all.is_empty() {
        return Err("capture needs a home: HOME or --home NAME=PATH".into());
    }
    for (i, (name, _)) in all.iter().enumerate() {
        if all[..i].iter().any(|(n, _)| n == name) {
            return Err(format!(
                "two homes would be node {name}: name them with --home NAME=PATH"
            ));
        }
    }
    Ok(all)
}

/// Parses the arguments; on error or help, prints and says how to exit.
pub fn parse() -> Result<Command, ExitCode> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            // Help and version are not errors; every real error exits 1.
            return Err(if err.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
    };
    let command = match cli.command {
        Cmd::Plan { show } => target(show.target).map(|target| Command::Plan {
            target,
            format: show.format,
            color: show.color,
        }),
        Cmd::Apply {
            target: t,
            format,
            backup,
            timings,
            wait,
        } => target(t).map(|target| Command::Apply {
            target,
            format,
            backup,
            timings,
            wait,
        }),
        Cmd::Check { show } => target(show.target).map(|target| Command::Check {
            target,
            format: show.format,
            color: show.color,
        }),
        Cmd::Inspect { home, format } => Ok(Command::Inspect { home, format }),
        Cmd::Diff {
            before,
            after,
            format,
        } => Ok(Command::Diff {
            before,
            after,
            format,
        }),
        Cmd::Capture {
            homes,
            named,
            baseline,
        } => capture_homes(homes, named).map(|homes| Command::Capture { homes, baseline }),
        Cmd::Restore(args) => Ok(Command::Restore(args)),
        Cmd::Completions { shell } => Ok(Command::Completions { shell }),
    };
    command.map_err(|message| {
        eprintln!("carbon-patch: {}", visible::line(&message));
        ExitCode::from(1)
    })
}

/// Writes the completion script for `shell`.
pub fn completions(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    // Generated in memory: clap_complete panics when its writer fails (a
    // full disk, a closed pipe); writing it here returns the error.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "carbon-patch", &mut script);
    out.write_all(&script)
}

#[cfg(test)]
mod tests {
    use super::parse_home;

    #[test]
    fn a_home_is_name_equals_path_and_a_tilde_is_refused() {
        assert_eq!(
            parse_home("n1=/opt/mb").unwrap(),
            ("n1".to_string(), std::path::PathBuf::from("/opt/mb"))
        );
        assert_eq!(parse_home("n1=").unwrap_err(), "\"n1=\" is not NAME=PATH");
        assert_eq!(
            parse_home("n1=~/mb").unwrap_err(),
            "\"n1=~/mb\": `~` was not expanded by the shell; write $HOME/… or an absolute path"
        );
        // A name with a tilde in it further on is a path like any other.
        assert!(parse_home("n1=mb~1").is_ok());
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
