//! `run --pidfile FILE`: CMD's identity in a file, for scripts that stop
//! it later (`prochandle kill @FILE`, util-linux `kill $(cat FILE)`).
//!
//! The file holds what names CMD for the whole boot: on Linux its identity
//! (`PID:INODE`, or `PID@TICKS:BOOT-ID` without pidfs), on Windows its PID
//! and creation time (`PID@CREATED`), elsewhere its PID.
//! It is written whole or not at all (a temporary file in the same
//! directory, then `rename`, which replaces atomically), so a reader never
//! sees half a line. A file that still names a live process is never
//! overwritten: that process's owner would lose the only way to reach it.
//! When CMD ends the file is removed, unless someone has replaced it since.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use prochandle::Process;

use crate::output::Action;
use crate::target::Target;

/// A pidfile `run` may write: checked before CMD starts.
#[derive(Debug)]
pub struct Pidfile {
    path: PathBuf,
    /// What was written, once it was.
    written: Option<String>,
}

impl Pidfile {
    /// Checks that `path` names no live process; the error is one line.
    /// A file whose process is gone (or whose PID was recycled) is stale
    /// and will be replaced.
    pub fn claim(path: &Path) -> Result<Pidfile, String> {
        match fs::read_to_string(path) {
            Ok(text) => {
                if let Some(holder) = live_holder(text.trim()) {
                    return Err(format!(
                        "pidfile {}: {holder} is still running; not overwritten",
                        path.display()
                    ));
                }
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(format!("pidfile {}: {err}", path.display())),
        }
        Ok(Pidfile {
            path: path.to_owned(),
            written: None,
        })
    }

    /// Writes CMD's identity, atomically.
    pub fn write(&mut self, process: &Process) -> Result<(), String> {
        let text = identity_of(process);
        let temporary = temporary_beside(&self.path);
        let written = write_new(&temporary, &text).and_then(|()| {
            fs::rename(&temporary, &self.path).inspect_err(|_| {
                let _ = fs::remove_file(&temporary);
            })
        });
        written.map_err(|err| format!("pidfile {}: {err}", self.path.display()))?;
        self.written = Some(text);
        Ok(())
    }

    /// Removes the file if it still holds what was written (a file
    /// another `run` has written since is left alone).
    pub fn remove(&self) {
        let Some(written) = &self.written else { return };
        let current = fs::read_to_string(&self.path).unwrap_or_default();
        if current.trim() == written {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The identity (or PID) in `text`, if it names a process that still runs.
fn live_holder(text: &str) -> Option<String> {
    let target: Target = text.parse().ok()?;
    let process = target.open(Action::Wait).ok()?;
    (!process.has_exited().unwrap_or(true)).then(|| target.to_string())
}

/// What names `process` for the whole boot where the platform can say.
#[cfg(any(target_os = "linux", windows))]
fn identity_of(process: &Process) -> String {
    Target::of_process(process).to_string()
}

#[cfg(not(any(target_os = "linux", windows)))]
fn identity_of(process: &Process) -> String {
    process.pid().to_string()
}

/// `DIR/.NAME.PID.tmp`: in the same directory, so that `rename` replaces
/// the file in one step (a rename across file systems is refused).
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn write_new(path: &Path, text: &str) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(format!("{text}\n").as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_file_is_a_sibling() {
        let temporary = temporary_beside(Path::new("/run/x/app.pid"));
        assert_eq!(temporary.parent(), Some(Path::new("/run/x")));
        let name = temporary
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(".app.pid.") && name.ends_with(".tmp"),
            "{name}"
        );
    }

    #[test]
    fn garbage_names_no_live_process() {
        assert_eq!(live_holder(""), None);
        assert_eq!(live_holder("not a pid"), None);
    }
}
