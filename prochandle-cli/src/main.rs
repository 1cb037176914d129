//! `prochandle`: race-free process handling from the shell.
//!
//! Each subcommand lives in `commands/`; this file parses the command line,
//! turns clap's errors into one line, and exits with the command's code.
//!
//! The modules form layers, each importing only those below it: at the
//! bottom `output` (messages and JSON, made from the library's error kinds
//! and anything that is a `Subject`), `exit_codes`, `duration`, `signals`
//! (`run`'s signalfd) and `containment` (what `run` holds besides CMD),
//! which import nothing of this crate; above them `target` (parsing and
//! opening TARGETs; a `Target` is an `output::Subject`); then `cli` (clap's
//! view of the command line); then `commands`, the subcommands over their
//! shared helpers `spawn` and `waiting`, which import no subcommand (`kill`
//! reuses `wait`'s reporting); and this file on top.

#[cfg(target_os = "linux")]
mod cli;
#[cfg(target_os = "linux")]
mod commands;
#[cfg(target_os = "linux")]
mod containment;
#[cfg(target_os = "linux")]
mod duration;
#[cfg(target_os = "linux")]
mod exit_codes;
#[cfg(target_os = "linux")]
mod output;
#[cfg(target_os = "linux")]
mod signals;
#[cfg(target_os = "linux")]
mod target;

use std::process::ExitCode;

#[cfg(target_os = "linux")]
fn main() -> ExitCode {
    use clap::Parser;

    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return ExitCode::from(report_usage_error(err)),
    };
    ExitCode::from(commands::run(cli.command))
}

/// Help and version go to stdout with status 0; every other clap error
/// becomes one line on stderr with status 2.
#[cfg(target_os = "linux")]
fn report_usage_error(err: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                exit_codes::USAGE
            } else {
                exit_codes::SUCCESS
            }
        }
        _ => {
            output::error(one_line(&err.render().to_string()));
            exit_codes::USAGE
        }
    }
}

/// clap's message up to its first blank line (before tips and usage),
/// joined into one line, without the `error: ` prefix.
#[cfg(target_os = "linux")]
fn one_line(rendered: &str) -> String {
    let text: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = text.join(" ");
    joined.strip_prefix("error: ").unwrap_or(&joined).to_owned()
}

#[cfg(not(target_os = "linux"))]
fn main() -> ExitCode {
    eprintln!("prochandle: this tool needs Linux (pidfds); the library works elsewhere");
    ExitCode::FAILURE
}
