//! `prochandle completions SHELL`.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit_codes;

pub fn run(shell: clap_complete::Shell) -> u8 {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "prochandle", &mut std::io::stdout());
    exit_codes::SUCCESS
}
