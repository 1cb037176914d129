//! One module per subcommand; each returns the process's exit code.

mod check;
mod completions;
mod getfd;
mod info;
mod kill;
mod manpages;
mod nsenter;
mod run;
mod spawn;
mod tree;
mod wait;
mod waiting;

use crate::cli::Command;

/// Runs one subcommand.
pub fn run(command: Command) -> u8 {
    match command {
        Command::Check { json } => check::run(json),
        Command::Wait(args) => wait::run(args),
        Command::Kill(args) => kill::run(args),
        Command::Info { json, targets } => info::run(json, &targets),
        Command::Getfd(args) => getfd::run(args),
        Command::Nsenter(args) => nsenter::run(args),
        Command::Run(args) => run::run(args),
        Command::Tree { json, target } => tree::run(json, &target),
        Command::Completions { shell } => completions::run(shell),
        Command::Manpages { dir } => manpages::run(&dir),
    }
}
