//! The floor of containment on every Unix: a new process group per first
//! child.
//!
//! Its members are whoever keeps the group's ID: any of them may leave it
//! with `setsid` or `setpgid`, and is then out of reach. The ID stays
//! reserved while any process (a zombie included) still uses it; once the
//! whole group is gone and reaped, the number can name a new group, so on
//! Linux members are listed from `/proc` and pinned before each signal
//! rather than reached with `kill(-pgid)`.

use std::io;
use std::sync::Mutex;

/// The process groups of one scope: each first child leads its own (a
/// later child cannot join the first one's group once that is gone).
#[derive(Debug, Default)]
pub(crate) struct Group {
    pgids: Mutex<Vec<i32>>,
}

impl Group {
    fn all(&self) -> Vec<i32> {
        self.pgids.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records a first child, the leader of a new group.
    pub(crate) fn started(&self, pid: u32) {
        self.pgids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pid as i32);
    }

    /// The first child's group.
    #[cfg(target_os = "linux")]
    pub(crate) fn pgid(&self) -> Option<i32> {
        self.all().first().copied()
    }

    /// `kill(-pgid, sig)` for every group; groups already gone are
    /// skipped. (Linux signals pinned members instead: see the container.)
    #[cfg_attr(target_os = "linux", allow(dead_code))]
    pub(crate) fn signal(&self, sig: i32) -> io::Result<()> {
        for pgid in self.all() {
            // SAFETY: kill with a negative PID signals one process group.
            if unsafe { libc::kill(-pgid, sig) } != 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::ESRCH) {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The live (non-zombie) members.
    #[cfg(target_os = "linux")]
    pub(crate) fn pids(&self) -> io::Result<Vec<i32>> {
        live_in_groups(&self.all())
    }

    /// Whether no process is left in the group. Without a way to list the
    /// group here, zombies count until they are reaped.
    pub(crate) fn is_empty(&self) -> io::Result<bool> {
        #[cfg(target_os = "linux")]
        return Ok(self.pids()?.is_empty());
        #[cfg(not(target_os = "linux"))]
        {
            for pgid in self.all() {
                // SAFETY: signal 0 to a process group only checks for members.
                if unsafe { libc::kill(-pgid, 0) } == 0 {
                    return Ok(false);
                }
                match io::Error::last_os_error() {
                    e if e.raw_os_error() == Some(libc::ESRCH) => {}
                    // EPERM: members exist that we may not signal.
                    e if e.raw_os_error() == Some(libc::EPERM) => return Ok(false),
                    e => return Err(e),
                }
            }
            Ok(true)
        }
    }
}

/// Every live process whose `/proc/<pid>/stat` names one of `pgids` as
/// its group.
#[cfg(target_os = "linux")]
pub(crate) fn live_in_groups(pgids: &[i32]) -> io::Result<Vec<i32>> {
    if pgids.is_empty() {
        return Ok(Vec::new());
    }
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
            if pgids.contains(&pgrp) && state != b'Z' {
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
