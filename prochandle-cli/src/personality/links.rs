//! `prochandle install-links DIR`: a symbolic link to this binary under
//! each personality's name, so that the tools on `PATH` are these.

use std::io;
use std::path::Path;

use super::NAMES;
use crate::output;

/// Makes `DIR/timeout`, `DIR/kill`... point at this binary; with
/// `force`, replaces what is there. Returns the exit status.
pub fn install(dir: &Path, force: bool) -> u8 {
    let binary = match std::env::current_exe() {
        Ok(path) => path,
        Err(err) => {
            output::error(format!("install-links: cannot find this binary: {err}"));
            return crate::exit_codes::FAILURE;
        }
    };
    if let Err(err) = std::fs::create_dir_all(dir) {
        output::error(format!("install-links: {}: {err}", dir.display()));
        return crate::exit_codes::FAILURE;
    }
    let mut failed = false;
    for name in NAMES {
        let link = dir.join(name);
        match make_link(&binary, &link, force) {
            Ok(()) => output::line(format_args!("{} -> {}", link.display(), binary.display())),
            Err(err) => {
                output::error(format!("install-links: {}: {err}", link.display()));
                failed = true;
            }
        }
    }
    u8::from(failed)
}

fn make_link(binary: &Path, link: &Path, force: bool) -> io::Result<()> {
    if force && link.symlink_metadata().is_ok() {
        std::fs::remove_file(link)?;
    }
    #[cfg(unix)]
    return std::os::unix::fs::symlink(binary, link);
    #[cfg(windows)]
    {
        // A copy: symbolic links need a privilege on Windows, and the
        // name the copy runs under is what chooses the personality.
        std::fs::copy(binary, link.with_extension("exe")).map(|_| ())
    }
}
