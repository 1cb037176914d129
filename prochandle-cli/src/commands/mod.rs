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
#[cfg(target_os = "linux")]
mod init;
mod kill;
#[cfg(target_os = "linux")]
mod list;
mod manpages;
#[cfg(target_os = "linux")]
mod nsenter;
mod progress;
pub mod run;
mod run_stats;
mod sending;
mod signal_list;
pub(crate) mod spawn;
#[cfg(target_os = "linux")]
mod threads;
#[cfg(target_os = "linux")]
mod tree;
#[cfg(target_os = "linux")]
mod tree_stop;
#[cfg(target_os = "linux")]
mod tree_sweep;
mod wait;
mod waiting;

use std::path::PathBuf;

use crate::cli::{Command, RunArgs};
#[cfg(target_os = "linux")]
use crate::cli::{GetfdArgs, InitArgs, NsenterArgs};
use crate::target::Target;

/// A command, checked and ready to run: one variant per subcommand, so
/// that [`plan`] and [`execute`] each match every one of them with no
/// catch-all, and a subcommand added to `cli::Command` without being
/// planned and run does not compile.
#[derive(Debug)]
pub enum Plan {
    Wait(wait::Plan),
    Kill(kill::Plan),
    #[cfg(target_os = "linux")]
    List(list::Plan),
    /// What this platform cannot do: the one line that says so.
    #[cfg(not(target_os = "linux"))]
    Unsupported(String),
    // The commands below are run as clap checked them.
    Check {
        json: bool,
    },
    Info {
        json: bool,
        targets: Vec<Target>,
    },
    #[cfg(target_os = "linux")]
    Getfd(GetfdArgs),
    #[cfg(target_os = "linux")]
    Nsenter(NsenterArgs),
    Run(RunArgs),
    #[cfg(target_os = "linux")]
    Init(InitArgs),
    #[cfg(target_os = "linux")]
    Tree {
        json: bool,
        target: Target,
    },
    Completions {
        shell: clap_complete::Shell,
    },
    Manpages {
        dir: PathBuf,
    },
    InstallLinks {
        dir: PathBuf,
        force: bool,
    },
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
        Command::Check { json } => Plan::Check { json },
        Command::Info { json, targets } => Plan::Info { json, targets },
        #[cfg(target_os = "linux")]
        Command::Getfd(args) => Plan::Getfd(args),
        #[cfg(target_os = "linux")]
        Command::Nsenter(args) => Plan::Nsenter(args),
        Command::Run(args) => Plan::Run(args),
        #[cfg(target_os = "linux")]
        Command::Init(args) => Plan::Init(args),
        #[cfg(target_os = "linux")]
        Command::Tree { json, target } => Plan::Tree { json, target },
        Command::Completions { shell } => Plan::Completions { shell },
        Command::Manpages { dir } => Plan::Manpages { dir },
        Command::InstallLinks { dir, force } => Plan::InstallLinks { dir, force },
        #[cfg(not(target_os = "linux"))]
        Command::List(_) => Plan::Unsupported(elsewhere::needs("list", elsewhere::PROC)),
        #[cfg(not(target_os = "linux"))]
        Command::Init(_) => Plan::Unsupported(elsewhere::needs("init", elsewhere::INIT)),
        #[cfg(not(target_os = "linux"))]
        Command::Tree { .. } => Plan::Unsupported(elsewhere::needs("tree", elsewhere::PROC)),
        #[cfg(not(target_os = "linux"))]
        Command::Getfd(_) => Plan::Unsupported(elsewhere::needs("getfd", elsewhere::GETFD)),
        #[cfg(not(target_os = "linux"))]
        Command::Nsenter(_) => {
            Plan::Unsupported(elsewhere::needs("nsenter", elsewhere::NAMESPACES))
        }
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
        Plan::Check { json } => check::run(json),
        Plan::Info { json, targets } => info::run(json, &targets),
        #[cfg(target_os = "linux")]
        Plan::Getfd(args) => getfd::run(args),
        #[cfg(target_os = "linux")]
        Plan::Nsenter(args) => nsenter::run(args),
        Plan::Run(args) => run::run(args),
        #[cfg(target_os = "linux")]
        Plan::Init(args) => init::run(args),
        #[cfg(target_os = "linux")]
        Plan::Tree { json, target } => tree::run(json, &target),
        Plan::Completions { shell } => completions::run(shell),
        Plan::Manpages { dir } => manpages::run(&dir),
        Plan::InstallLinks { dir, force } => crate::personality::install(&dir, force),
    }
}
