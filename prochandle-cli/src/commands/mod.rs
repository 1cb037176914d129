//! One module per subcommand; each returns the process's exit code.
//!
//! Every command runs in two steps: [`plan`] checks the command line and
//! turns it into a [`Plan`] without touching any process (pure: parsing,
//! compiling patterns, resolving user names), then [`execute`] acts. A
//! plan that fails is a usage error (exit 2).

mod check;
mod choose;
mod completions;
mod getfd;
mod info;
mod kill;
mod list;
mod manpages;
mod nsenter;
mod progress;
mod run;
mod sending;
mod signal_list;
mod spawn;
mod threads;
mod tree;
mod tree_sweep;
mod wait;
mod waiting;

use crate::cli::Command;

/// A command, checked and ready to run.
#[derive(Debug)]
pub enum Plan {
    Wait(wait::Plan),
    Kill(kill::Plan),
    List(list::Plan),
    /// Commands whose arguments clap checks in full.
    Other(Command),
}

/// Checks the command line of one subcommand: `Err` is the one-line
/// usage error.
pub fn plan(command: Command) -> Result<Plan, String> {
    Ok(match command {
        Command::Wait(args) => Plan::Wait(wait::plan(args)?),
        Command::Kill(args) => Plan::Kill(kill::plan(args)?),
        Command::List(args) => Plan::List(list::plan(args)?),
        other => Plan::Other(other),
    })
}

/// Runs one planned subcommand.
pub fn execute(plan: Plan) -> u8 {
    match plan {
        Plan::Wait(plan) => wait::run(plan),
        Plan::Kill(plan) => kill::run(plan),
        Plan::List(plan) => list::run(plan),
        Plan::Other(command) => run_other(command),
    }
}

fn run_other(command: Command) -> u8 {
    match command {
        Command::Check { json } => check::run(json),
        Command::Info { json, targets } => info::run(json, &targets),
        Command::Getfd(args) => getfd::run(args),
        Command::Nsenter(args) => nsenter::run(args),
        Command::Run(args) => run::run(args),
        Command::Tree { json, target } => tree::run(json, &target),
        Command::Completions { shell } => completions::run(shell),
        Command::Manpages { dir } => manpages::run(&dir),
        // Planned above.
        Command::Wait(_) | Command::Kill(_) | Command::List(_) => crate::exit_codes::USAGE,
    }
}
