//! The floor of containment on every Unix: a new process group.
//!
//! Its members are whoever keeps the group's ID: any of them may leave it
//! with `setsid` or `setpgid`, and is then out of reach. The ID stays
//! reserved while any process (a zombie included) still uses it, so the
//! scope's first child, unreaped, keeps `kill(-pgid)` from reaching a
//! stranger.

use std::io;
use std::sync::OnceLock;

/// The process group of one scope, known once its first child is spawned.
#[derive(Debug, Default)]
pub(crate) struct Group {
    pgid: OnceLock<i32>,
}

impl Group {
    /// The group a new child should join: its own (`0`) for the first.
    pub(crate) fn join_target(&self) -> i32 {
        self.pgid.get().copied().unwrap_or(0)
    }

    /// Records the first child, the group's leader.
    pub(crate) fn started(&self, pid: u32) {
        let _ = self.pgid.set(pid as i32);
    }

    pub(crate) fn pgid(&self) -> Option<i32> {
        self.pgid.get().copied()
    }

    /// `kill(-pgid, sig)`; nothing to do before the first spawn or once
    /// the group is gone.
    pub(crate) fn signal(&self, sig: i32) -> io::Result<()> {
        let Some(pgid) = self.pgid() else {
            return Ok(());
        };
        // SAFETY: kill with a negative PID signals one process group.
        if unsafe { libc::kill(-pgid, sig) } == 0 {
            return Ok(());
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            e => Err(e),
        }
    }

    /// The live (non-zombie) members.
    #[cfg(target_os = "linux")]
    pub(crate) fn pids(&self) -> io::Result<Vec<i32>> {
        match self.pgid() {
            Some(pgid) => live_in_group(pgid),
            None => Ok(Vec::new()),
        }
    }

    /// Whether no process is left in the group. Without a way to list the
    /// group here, zombies count until they are reaped.
    pub(crate) fn is_empty(&self) -> io::Result<bool> {
        #[cfg(target_os = "linux")]
        return Ok(self.pids()?.is_empty());
        #[cfg(not(target_os = "linux"))]
        {
            let Some(pgid) = self.pgid() else {
                return Ok(true);
            };
            // SAFETY: signal 0 to a process group only checks for members.
            if unsafe { libc::kill(-pgid, 0) } == 0 {
                return Ok(false);
            }
            match io::Error::last_os_error() {
                e if e.raw_os_error() == Some(libc::ESRCH) => Ok(true),
                // EPERM: members exist that we may not signal.
                e if e.raw_os_error() == Some(libc::EPERM) => Ok(false),
                e => Err(e),
            }
        }
    }
}

/// Every live process whose `/proc/<pid>/stat` names `pgid` as its group.
#[cfg(target_os = "linux")]
pub(crate) fn live_in_group(pgid: i32) -> io::Result<Vec<i32>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((state, pgrp)) = state_and_group(&stat) {
            if pgrp == pgid && state != b'Z' {
                out.push(pid);
            }
        }
    }
    Ok(out)
}

/// Fields 3 (state) and 5 (process group) of a `stat` line, split after
/// the last `)` (the command name may hold anything).
#[cfg(target_os = "linux")]
fn state_and_group(stat: &[u8]) -> Option<(u8, i32)> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_group_is_read_after_the_last_parenthesis() {
        let line = b"42 (a) b) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 9 0";
        assert_eq!(super::state_and_group(line), Some((b'S', 77)));
    }
}
