//! `prochandle`: race-free process handling from the shell.
//!
//! Each subcommand lives in `commands/`; this file parses the command line,
//! turns clap's errors into one line, and exits with the command's code.
//!
//! The modules form layers, each importing only those below it: at the
//! bottom `output` (messages and JSON, made from the library's error kinds
//! and anything that is a `Subject`), `exit_codes`, `duration` and
//! `containment` (what `run` holds besides CMD), `tree_control` (`run`'s
//! limits and statistics options), `procs` (the one reader of `/proc`,
//! Linux only: each candidate pinned and judged again) and `pattern` (the
//! one compiler of PATTERNs, Linux only), which import nothing of this
//! crate; above them `target` (parsing and opening TARGETs; a `Target` is
//! an `output::Subject`); `selection` (pgrep-style matching over `procs`
//! and `pattern`, Linux only); then `cli` (clap's view of the command
//! line), `argv` (kill(1)'s `-SIG` forms, rewritten before clap) and
//! `quick_parse` (`run` and `--version` without building every subcommand);
//! then `commands`, the subcommands over their shared helpers (`spawn`,
//! `waiting`, `choose`, `progress`), which import no subcommand (`kill`
//! reuses `wait`'s reporting; `threads` and `tree_sweep` are parts of
//! `kill`); and this file on top. Every command is planned (a pure function
//! of the command line) before it is run.
//!
//! The same command line is accepted everywhere (help, completions and
//! manual pages do not depend on the platform); what a platform cannot do
//! is refused in one line by `commands::elsewhere`.
//!
//! The compiler holds this crate to safe code: what the commands need of
//! the OS beyond std (signal relays, descriptors for a child, the user
//! database, the standard streams of a program started without std's
//! runtime) is the library's. The one exception is an attribute, not a
//! block: `entry` names the C entry point `main` (`#[unsafe(no_mangle)]`),
//! which takes the place of std's start-up on Linux with glibc (see there
//! why).

#![deny(unsafe_code)]
#![cfg_attr(all(target_os = "linux", target_env = "gnu", not(test)), no_main)]

mod argv;
mod cli;
mod commands;
mod containment;
mod duration;
#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
mod entry;
mod exit_codes;
#[cfg(all(test, target_os = "linux"))]
mod no_panic;
mod output;
#[cfg(target_os = "linux")]
mod pattern;
mod personality;
#[cfg(target_os = "linux")]
mod procs;
mod quick_parse;
#[cfg(target_os = "linux")]
mod selection;
mod target;
mod tree_control;

#[cfg(not(all(target_os = "linux", target_env = "gnu", not(test))))]
use std::process::ExitCode;

#[cfg(not(all(target_os = "linux", target_env = "gnu", not(test))))]
fn main() -> ExitCode {
    ExitCode::from(run())
}

/// The whole program, from the command line to the exit status.
fn run() -> u8 {
    restore_sigpipe();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Run as `timeout`, `pgrep`... (or `prochandle pgrep ...`): that
    // tool's own command line, not clap's.
    if let Some(code) = personality::dispatch(&args) {
        return code;
    }
    let plan = match plan(args) {
        Ok(plan) => plan,
        Err(Usage::Clap(err)) => return report_usage_error(err),
        Err(Usage::Plan(message)) => {
            output::error(message);
            return exit_codes::USAGE;
        }
    };
    commands::execute(plan)
}

/// Why a command line was refused.
#[derive(Debug)]
enum Usage {
    /// clap's error (or its help and version text).
    Clap(clap::Error),
    /// A command's own check.
    Plan(String),
}

/// The whole of reading a command line: kill(1)'s `-SIG` forms, clap,
/// then the command's plan. Touches no process, prints nothing.
fn plan(args: Vec<std::ffi::OsString>) -> Result<commands::Plan, Usage> {
    use clap::Parser;

    let args = argv::rewrite(args);
    let command = match quick_parse::parse(&args) {
        Some(quick) => quick.into_command().map_err(Usage::Clap)?,
        None => cli::Cli::try_parse_from(args).map_err(Usage::Clap)?.command,
    };
    commands::plan(command).map_err(Usage::Plan)
}

/// Rust starts programs with `SIGPIPE` ignored (and a caller may have
/// ignored it, which `entry` leaves as it is), so a write to a closed
/// pipe fails with `EPIPE` instead; the kill(1)/coreutils behaviour is to
/// die of the signal, quietly, and that is what a shell pipeline expects
/// (`prochandle list x | head -1`). Restored before anything is printed.
/// Children started by `run` get the default disposition either way.
#[cfg(unix)]
fn restore_sigpipe() {
    // Fails only for a signal that cannot be caught, which PIPE is not.
    let _ = prochandle::Signal::PIPE.restore_default_action();
}

/// Windows has no `SIGPIPE`: a write to a closed pipe fails, and
/// `output` ends the process quietly on that failure.
#[cfg(windows)]
fn restore_sigpipe() {}

/// Help and version go to stdout with status 0; every other clap error
/// becomes one line on stderr with status 2.
fn report_usage_error(err: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Printed the one way the commands print: a closed or full
            // stdout ends the process as for any output.
            output::line(err.render().to_string().trim_end_matches('\n'));
            exit_codes::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // On stderr; a failure to write it has nowhere to be said.
            let _ = err.print();
            exit_codes::USAGE
        }
        _ => {
            output::error(one_line(&err.render().to_string()));
            exit_codes::USAGE
        }
    }
}

/// clap's message up to its first blank line (before tips and usage),
/// joined into one line, without the `error: ` prefix.
fn one_line(rendered: &str) -> String {
    let text: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = text.join(" ");
    joined.strip_prefix("error: ").unwrap_or(&joined).to_owned()
}
