//! One module per subcommand; each returns the process's exit code.
//!
//! Every command runs in two steps: [`plan`] checks the command line and
//! turns it into a [`Plan`] without touching any process (pure: parsing,
//! compiling patterns, resolving user names), then [`execute`] acts. A
//! plan that fails is a usage error (exit 2).
//!
//! `check`, `wait`, `kill`, `info`, `run`, `completions` and `manpages`
//! work on every platform the library supports. What needs `/proc` or a
//! Linux-only call (`list`, `tree`, `getfd`, `nsenter`, `--match`,
//! `--tree`, `--thread`) is compiled on Linux only; elsewhere
//! `elsewhere` says so in one line, with exit status 1.

mod check;
mod choose;
mod completions;
#[cfg(not(target_os = "linux"))]
mod elsewhere;
#[cfg(target_os = "linux")]
mod getfd;
mod info;
mod kill;
#[cfg(target_os = "linux")]
mod list;
mod manpages;
#[cfg(target_os = "linux")]
mod nsenter;
mod progress;
pub mod run;
mod sending;
mod signal_list;
mod spawn;
#[cfg(target_os = "linux")]
mod threads;
#[cfg(target_os = "linux")]
mod tree;
#[cfg(target_os = "linux")]
mod tree_sweep;
mod wait;
mod waiting;

use crate::cli::Command;

/// A command, checked and ready to run.
#[derive(Debug)]
pub enum Plan {
    Wait(wait::Plan),
    Kill(kill::Plan),
    #[cfg(target_os = "linux")]
    List(list::Plan),
    /// What this platform cannot do: the one line that says so.
    #[cfg(not(target_os = "linux"))]
    Unsupported(String),
    /// Commands whose arguments clap checks in full.
    Other(Command),
}

/// Checks the command line of one subcommand: `Err` is the one-line
/// usage error.
pub fn plan(command: Command) -> Result<Plan, String> {
    #[cfg(not(target_os = "linux"))]
    if let Some(line) = elsewhere::refusal(&command) {
        return Ok(Plan::Unsupported(line));
    }
    Ok(match command {
        Command::Wait(args) => Plan::Wait(wait::plan(args)?),
        Command::Kill(args) => Plan::Kill(kill::plan(args)?),
        #[cfg(target_os = "linux")]
        Command::List(args) => Plan::List(list::plan(args)?),
        other => Plan::Other(other),
    })
}

/// Runs one planned subcommand.
pub fn execute(plan: Plan) -> u8 {
    match plan {
        Plan::Wait(plan) => wait::run(plan),
        Plan::Kill(plan) => kill::run(plan),
        #[cfg(target_os = "linux")]
        Plan::List(plan) => list::run(plan),
        #[cfg(not(target_os = "linux"))]
        Plan::Unsupported(line) => {
            crate::output::error(line);
            crate::exit_codes::FAILURE
        }
        Plan::Other(command) => run_other(command),
    }
}

fn run_other(command: Command) -> u8 {
    match command {
        Command::Check { json } => check::run(json),
        Command::Info { json, targets } => info::run(json, &targets),
        #[cfg(target_os = "linux")]
        Command::Getfd(args) => getfd::run(args),
        #[cfg(target_os = "linux")]
        Command::Nsenter(args) => nsenter::run(args),
        Command::Run(args) => run::run(args),
        #[cfg(target_os = "linux")]
        Command::Tree { json, target } => tree::run(json, &target),
        Command::Completions { shell } => completions::run(shell),
        Command::Manpages { dir } => manpages::run(&dir),
        Command::InstallLinks { dir, force } => crate::personality::install(&dir, force),
        // Planned above (or refused there, off Linux).
        _ => crate::exit_codes::USAGE,
    }
}
