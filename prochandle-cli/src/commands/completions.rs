//! `prochandle completions SHELL`.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit_codes;
use crate::output;

pub fn run(shell: clap_complete::Shell) -> u8 {
    let mut command = Cli::command();
    // Generated into memory (where writing cannot fail), then printed the
    // one way the commands print, which handles a closed or full stdout.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "prochandle", &mut script);
    let text = String::from_utf8_lossy(&script);
    output::line(text.trim_end_matches('\n'));
    exit_codes::SUCCESS
}
