//! What holds on to one process, in the three tiers the state machine
//! knows: a handle (pidfd), a `/proc/<pid>` directory, or the PID with its
//! start time. One enum, so that every operation says what it does in each
//! tier and the compiler checks that none is forgotten.

use std::os::fd::{AsFd, BorrowedFd};

use super::backend::Backend;
use super::errno::{self, Call};
use super::guarded;
use crate::error::{Error, Result};

/// How a `Process` is pinned.
#[derive(Debug)]
pub(crate) enum Pin<H, D> {
    /// A process handle: exact, for everything.
    Handle(H),
    /// A `/proc/<pid>` directory: exact identity; exact signals where the
    /// kernel takes it for `pidfd_send_signal`.
    ProcDir(D),
    /// Only the PID, guarded by the start time kept beside it.
    Pid,
}

impl<H: AsFd, D: AsFd> Pin<H, D> {
    /// The handle, in the handle tier.
    pub(crate) fn handle(&self) -> Option<&H> {
        match self {
            Pin::Handle(handle) => Some(handle),
            _ => None,
        }
    }

    /// The directory descriptor, in the middle tier.
    pub(crate) fn proc_dir(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Pin::ProcDir(dir) => Some(dir.as_fd()),
            _ => None,
        }
    }
}

/// Opens the directory pin on `pid`, then reads its start time through it:
/// pinned first, so the facts are this process's, whoever holds the PID by
/// the time they are read.
pub(crate) fn open_dir<B: Backend>(pid: i32) -> Result<(B::ProcDir, u64)> {
    let dir = B::open_proc_dir(pid)?;
    match B::proc_dir_stat(&dir) {
        Ok(Some(stat)) => Ok((dir, stat.start_time)),
        Ok(None) => Err(Error::not_found("open", pid.into())),
        Err(e) => Err(errno::os_error(Call::Open(pid), "read /proc/<pid>/stat", e)),
    }
}

/// Whether the process pinned by `dir` is still running: neither exited
/// nor reaped. Exact: the directory never describes another process.
pub(crate) fn dir_running<B: Backend>(pid: i32, dir: &B::ProcDir) -> Result<bool> {
    match B::proc_dir_stat(dir) {
        Ok(Some(stat)) => Ok(!stat.exited),
        Ok(None) => Ok(false),
        Err(e) => Err(errno::os_error(
            Call::ReadProc(pid as u32),
            "read /proc/<pid>/stat",
            e,
        )),
    }
}

/// Whether the process is still running by the guard of its tier, for the
/// tiers without a handle: exact through a directory, by start time for a
/// bare PID.
pub(crate) fn running_unhandled<B: Backend>(
    pin: &Pin<B::Handle, B::ProcDir>,
    pid: i32,
    start_time: Option<u64>,
) -> Result<bool> {
    match pin {
        Pin::ProcDir(dir) => dir_running::<B>(pid, dir),
        Pin::Handle(_) | Pin::Pid => match start_time {
            Some(start) => guarded::still_same::<B>(pid, start),
            None => Ok(false),
        },
    }
}
