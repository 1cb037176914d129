//! The guarded-PID mode's checks, the same on every Unix: the start time
//! that stands for a process's identity, the check before each `kill`, and
//! the one setting under which no PID of a child can be trusted.

use std::io;

use super::backend::Backend;
use super::errno::{self, Call};
use crate::error::{Error, Result};

/// The start time that guards a PID, read when attaching without a handle.
/// Only a missing process is `NotFound`: failing to read its facts (out of
/// descriptors, say) must not pass for "no such process".
pub(crate) fn start_time<B: Backend>(op: &'static str, pid: i32) -> Result<u64> {
    match B::stat(pid) {
        Ok(Some(stat)) => Ok(stat.start_time),
        Ok(None) => Err(Error::not_found(op, pid.into())),
        Err(e) => Err(errno::os_error(Call::Open(pid), "read /proc/<pid>/stat", e)),
    }
}

/// The identity check of the guarded-PID mode: is `pid` still the process
/// that started at `start`, and not a zombie? Unreadable facts are an
/// error, never "it exited": that would make `signal` say `Done` and a wait
/// report an exit for a process that is alive.
pub(crate) fn still_same<B: Backend>(pid: i32, start: u64) -> Result<bool> {
    match B::stat(pid) {
        Ok(Some(stat)) => Ok(stat.start_time == start && !stat.exited),
        Ok(None) => Ok(false),
        Err(e) => Err(errno::os_error(Call::Open(pid), "read /proc/<pid>/stat", e)),
    }
}

/// `kill(2)`: the PID mode's only way to signal.
pub(crate) fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// With `SIGCHLD` set to `SIG_IGN`, or `SA_NOCLDWAIT`, the kernel reaps
/// children the moment they exit, and their PIDs are free for reuse at once:
/// no handle opened from a PID afterwards can be trusted to name our child.
pub(crate) fn sigchld_not_ignored() -> Result<()> {
    let mut old = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current disposition into the
    // zeroed buffer.
    let ret = unsafe { libc::sigaction(libc::SIGCHLD, std::ptr::null(), old.as_mut_ptr()) };
    if ret != 0 {
        return Err(Error::os("sigaction", io::Error::last_os_error()));
    }
    // SAFETY: zeroed, and filled by the kernel on success.
    let old = unsafe { old.assume_init() };
    if old.sa_sigaction == libc::SIG_IGN || old.sa_flags & libc::SA_NOCLDWAIT != 0 {
        return Err(Error::unsupported(
            "from_child",
            "SIGCHLD is ignored (SIG_IGN or SA_NOCLDWAIT): the kernel reaps children at once, \
             so a child's PID may already belong to another process",
        ));
    }
    Ok(())
}
