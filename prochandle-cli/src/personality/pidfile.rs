//! `-F PIDFILE`: the process a PID file names. The file may hold a PID
//! (as daemons write it) or an identity, `PID:INODE` or
//! `PID@TICKS:BOOT-ID`, which is opened only if it still names the same
//! process: a daemon that died and whose PID was reused is not matched.
//! `-L` asks that the file be locked (by the daemon that wrote it):
//! `/proc/locks` lists every lock, POSIX and flock alike, by inode.

use std::os::unix::fs::MetadataExt;

use prochandle::Process;

use crate::output::Action;
use crate::target::Target;

/// The processes to judge: the one the file names, pinned.
pub fn candidates(path: &str, must_be_locked: bool) -> Result<Vec<Process>, String> {
    let invalid = || "pidfile not valid".to_owned();
    let text = std::fs::read_to_string(path).map_err(|_| invalid())?;
    if must_be_locked && !locked(path) {
        return Err(invalid());
    }
    let word = text.split_ascii_whitespace().next().ok_or_else(invalid)?;
    let target: Target = word.parse().map_err(|_| invalid())?;
    // A PID or identity that names no process now selects nothing.
    Ok(target.open(Action::Kill).into_iter().collect())
}

/// Whether some process holds a lock on the file (any kind).
fn locked(path: &str) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    let dev = meta.dev();
    // The C library's device number taken apart, as /proc/locks shows it.
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let wanted = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    locks
        .lines()
        .any(|line| line.split_ascii_whitespace().any(|field| field == wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_naming_this_process() {
        let dir = std::env::temp_dir().join(format!("pidfile-test-{}", std::process::id()));
        std::fs::write(&dir, format!("  {} junk\n", std::process::id())).unwrap();
        let path = dir.to_str().unwrap();
        let found = candidates(path, false).unwrap();
        assert_eq!(found[0].pid(), std::process::id());
        assert!(candidates(path, true).is_err());
        std::fs::write(&dir, "x\n").unwrap();
        assert_eq!(candidates(path, false).unwrap_err(), "pidfile not valid");
        std::fs::remove_file(&dir).unwrap();
        assert!(candidates(path, false).is_err());
    }
}
