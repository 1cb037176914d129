//! `prochandle manpages DIR`: the manual pages, made from the same clap
//! definitions as `--help`, so they cannot drift from the tool.

use std::io;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit_codes;
use crate::output;

pub fn run(dir: &Path) -> u8 {
    match write_pages(dir) {
        Ok(()) => exit_codes::SUCCESS,
        Err(e) => {
            output::error(format!("manpages: {}: {e}", dir.display()));
            exit_codes::FAILURE
        }
    }
}

/// `prochandle.1` for the whole tool, and `prochandle-SUB.1` for each
/// subcommand (the pages `man prochandle-kill` finds).
fn write_pages(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tool = Cli::command();
    clap_mangen::Man::new(tool.clone()).generate_to(dir)?;
    for sub in tool.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("prochandle-{}", sub.get_name());
        let page = sub
            .clone()
            .display_name(name)
            .bin_name(format!("prochandle {}", sub.get_name()));
        clap_mangen::Man::new(page).generate_to(dir)?;
    }
    Ok(())
}
