//! The floor of containment on every Unix: a new process group per first
//! child. `Group` is the record of those groups, which the Linux
//! mechanisms build on (`linux/scope/`); `PlainGroup` is the mechanism
//! where the system offers no way to list a group (macOS, FreeBSD), and so
//! reaches it only through `kill(-pgid)`.
//!
//! Its members are whoever keeps the group's ID: any of them may leave it
//! with `setsid` or `setpgid`, and is then out of reach. The ID stays
//! reserved while any process (a zombie included) still uses it; the
//! leader is our child, so the ID is ours until its `Process` reaps it and
//! the rest of the group is gone.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::Instant;

use super::errno::{self, Call};
use super::Process;
use crate::error::{Error, Result};
use crate::sys::scope::{Request, ScopeMechanism, SoftStep};

/// The process groups of one scope: each first child leads its own (a
/// later child cannot join the first one's group once that is gone).
#[derive(Debug, Default)]
pub(crate) struct Group {
    pgids: Mutex<Vec<i32>>,
}

impl Group {
    /// Every group, first first.
    pub(crate) fn all(&self) -> Vec<i32> {
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
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn first(&self) -> Option<i32> {
        self.all().first().copied()
    }
}

/// `kill(-pgid, sig)`: whether the group had anyone to signal (`ESRCH`
/// when it has nobody left).
fn signal_group(pgid: i32, sig: i32) -> io::Result<bool> {
    // SAFETY: kill with a negative PID signals one process group.
    if unsafe { libc::kill(-pgid, sig) } == 0 {
        return Ok(true);
    }
    match io::Error::last_os_error() {
        e if e.raw_os_error() == Some(libc::ESRCH) => Ok(false),
        // EPERM: members exist that we may not signal.
        e if e.raw_os_error() == Some(libc::EPERM) && sig == 0 => Ok(true),
        e => Err(e),
    }
}

/// Whether our child `pid` has exited (or was reaped already), without
/// reaping it: `waitid` with `WNOWAIT` leaves it for its `Process`.
fn leader_gone(pid: i32) -> bool {
    // SAFETY: a zeroed siginfo_t is valid; waitid writes into it only.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: waitid on one PID with a valid out-pointer.
    let ret = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
    // SAFETY: si_pid is set by a waitid that found a state change.
    ret != 0 || unsafe { info.si_pid() } != 0
}

/// A scope contained by process groups alone, reached with `kill(-pgid)`
/// (Linux lists its groups instead: `linux/scope/group.rs`).
#[derive(Debug)]
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(crate) struct PlainGroup {
    group: Group,
    kill_on_drop: bool,
}

#[cfg_attr(target_os = "linux", allow(dead_code))]
impl PlainGroup {
    pub(crate) fn new(request: &Request) -> PlainGroup {
        PlainGroup {
            group: Group::default(),
            kill_on_drop: request.kill_on_drop,
        }
    }

    /// One pass of `sig` over every group; whether any had a member.
    fn pass(&self, sig: i32) -> Result<bool> {
        let mut reached = false;
        for pgid in self.group.all() {
            reached |=
                signal_group(pgid, sig).map_err(|e| errno::os_error(Call::Signal, "kill", e))?;
        }
        Ok(reached)
    }
}

/// Passes after the leaders are gone: without a way to list the group, a
/// zombie member cannot be told from a live one, and the leader stays a
/// zombie until its `Process` reaps it; these passes catch what the
/// leaders forked before they died.
const PASSES_AFTER_THE_LEADERS: u32 = 3;

impl ScopeMechanism for PlainGroup {
    fn prepare(&self, command: &mut Command) {
        command.process_group(0);
    }

    fn started(&self, child: &Child) -> Result<()> {
        self.group.started(child.id());
        Ok(())
    }

    fn members(&self) -> Result<Vec<Process>> {
        Err(Error::unsupported(
            "members",
            "this system offers no way to list a process group",
        ))
    }

    fn signal(&self, sig: i32) -> Result<()> {
        self.pass(sig).map(drop)
    }

    /// `kill(-pgid, sig)`: the group cannot be listed, so the report of a
    /// stop names no member.
    fn stop_signal(&self, sig: i32) -> Result<SoftStep> {
        self.pass(sig)?;
        Ok(SoftStep {
            members: Vec::new(),
            sent: true,
        })
    }

    /// Pass after pass of `kill(-pgid, SIGKILL)` until a pass reaches
    /// nobody, or the leaders are gone and a few more passes were made: a
    /// member forked during a pass is in the group, and the next pass
    /// reaches it.
    fn kill(&self) -> Result<()> {
        let mut after_leaders = 0;
        while self.pass(libc::SIGKILL)? {
            if self.group.all().into_iter().all(leader_gone) {
                after_leaders += 1;
                if after_leaders > PASSES_AFTER_THE_LEADERS {
                    break;
                }
            }
            std::thread::yield_now();
        }
        Ok(())
    }

    /// Whether no process is left in the groups; zombies count until they
    /// are reaped.
    fn is_empty(&self) -> Result<bool> {
        for pgid in self.group.all() {
            if signal_group(pgid, 0).map_err(|e| Error::os("list members", e))? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool> {
        let found = crate::backoff::poll_until(deadline, || {
            self.is_empty().map(|empty| empty.then_some(()))
        })?;
        Ok(found.is_some())
    }
}

impl Drop for PlainGroup {
    fn drop(&mut self) {
        if self.kill_on_drop {
            let _ = self.kill();
        }
    }
}
