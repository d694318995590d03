//! `carbon-patch`: apply one cluster recipe to WSO2 Carbon homes.
//!
//! A thin binary. Arguments become a validated command; the recipe crate
//! resolves nodes; carbon-config does every edit in memory; this crate only
//! shows the result (`plan`, `check`), writes it (`apply`), or reads a home
//! (`inspect`). Exit codes: 0 success (and, for `check`, no drift), 1 any
//! error (argument errors included), 2 `check` found drift.

mod cli;
mod inspect;
mod mask;
mod plan;
mod render;
mod write;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use carbon_recipe::{ProcessEnv, Recipe};

use cli::{Command, Format, Target};

fn main() -> ExitCode {
    let command = match cli::parse() {
        Ok(command) => command,
        Err(code) => return code,
    };
    match run(command) {
        Ok(code) => code,
        // A closed pipe (`carbon-patch plan ... | head`) is not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("carbon-patch: {err:#}");
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
        cli::Color::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

fn plans(target: &Target) -> Result<Vec<plan::NodePlan>> {
    let recipe = Recipe::load(&target.recipe)?;
    plan::plan(&recipe, target, &ProcessEnv)
}

fn run(command: Command) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Plan {
            target,
            format,
            color,
        } => {
            let plans = plans(&target)?;
            match format {
                Format::Text => render::text(&mut out, &plans, use_color(color))?,
                Format::Json => writeln!(out, "{:#}", render::json("plan", &plans))?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            target,
            format,
            color,
        } => {
            let plans = plans(&target)?;
            let drift = plans.iter().any(|p| !p.changes.is_empty());
            match format {
                Format::Text => {
                    render::text(&mut out, &plans, use_color(color))?;
                    if drift {
                        writeln!(out, "drift: the homes differ from the recipe (exit 2)")?;
                    }
                }
                Format::Json => writeln!(out, "{:#}", render::json("check", &plans))?,
            }
            Ok(if drift {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Apply {
            target,
            format,
            backup,
        } => {
            let plans = plans(&target)?;
            let stamp = backup.then(backup_stamp);
            let written = write::apply(&plans, stamp.as_deref())?;
            match format {
                Format::Text => {
                    for p in &plans {
                        for change in &p.changes {
                            writeln!(out, "wrote {}: {}", p.name, change.path.display())?;
                        }
                    }
                    if let Some(stamp) = &stamp {
                        writeln!(
                            out,
                            "originals kept under CARBON_HOME/.carbon-patch/backups/{stamp}/"
                        )?;
                    }
                    writeln!(out, "Applied: {written} file(s) on {} node(s)", plans.len())?;
                }
                Format::Json => writeln!(out, "{:#}", render::json("apply", &plans))?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { home, format } => {
            let report = inspect::inspect(&home)?;
            match format {
                Format::Text => write!(out, "{}", inspect::text(&report))?,
                Format::Json => writeln!(out, "{:#}", inspect::json(&report))?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            cli::completions(shell, &mut out);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A backup folder name from the current time: UTC, sortable, no colons.
fn backup_stamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(':', "")
}
