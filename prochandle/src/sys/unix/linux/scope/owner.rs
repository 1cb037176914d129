//! Owner-death protection, shared by the Linux mechanisms: the death
//! signal armed in each first child (`PR_SET_PDEATHSIG`) and the guardian
//! started with the first spawn, if asked for. Each mechanism says what its
//! guardian does (`cgroup.kill`, or `SIGKILL` to the first process group).

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use super::super::cgroup;
use super::super::guardian::Guardian;
use crate::error::Result;
use crate::sys::scope::Request;

#[derive(Debug)]
pub(super) struct Owner {
    pub(super) death_signal: Option<i32>,
    wants_guardian: bool,
    /// Asked for, not left on by default: failing to start it is an error.
    guardian_asked: bool,
    guardian: OnceLock<Guardian>,
}

impl Owner {
    pub(super) fn new(request: &Request) -> Owner {
        Owner {
            death_signal: request.death_signal,
            wants_guardian: request.guardian,
            guardian_asked: request.guardian_asked,
            guardian: OnceLock::new(),
        }
    }

    /// Adds the pre-exec hook that joins the cgroup behind `procs` (if
    /// any) and arms the death signal (if any). With neither, no hook:
    /// std keeps its `posix_spawn` path (vfork-like).
    pub(super) fn hook(&self, command: &mut Command, procs: Option<Arc<OwnedFd>>) {
        let death = self.death_signal;
        if procs.is_none() && death.is_none() {
            return;
        }
        let parent = std::process::id() as i32;
        let hook = move || -> io::Result<()> {
            if let Some(procs) = &procs {
                cgroup::join(procs.as_fd())?;
            }
            if let Some(sig) = death {
                // SAFETY: prctl and getppid are async-signal-safe; no pointers.
                unsafe {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    // The parent died before the death signal was armed.
                    if libc::getppid() != parent {
                        return Err(io::Error::from_raw_os_error(libc::ESRCH));
                    }
                }
            }
            Ok(())
        };
        // SAFETY: the hook makes only async-signal-safe calls and
        // allocates nothing (the Arc was cloned before the fork).
        unsafe { command.pre_exec(hook) };
    }

    /// Starts the guardian with `start` on the first spawn, if asked for
    /// (or left on by default); returns the new guardian's PID (`None` if
    /// none was started now). A default guardian that cannot start (no
    /// `cgroup.kill`, a `fork` refused by a filter or a process limit) is
    /// skipped, and tried again at the next spawn; one asked for is an
    /// error.
    pub(super) fn guard(&self, start: impl FnOnce() -> Result<Guardian>) -> Result<Option<u32>> {
        if !self.wants_guardian || self.guardian.get().is_some() {
            return Ok(None);
        }
        let guardian = match start() {
            Ok(guardian) => guardian,
            Err(_) if !self.guardian_asked => return Ok(None),
            Err(err) => return Err(err),
        };
        let pid = guardian.pid();
        // A second guardian started by a racing first spawn is dropped
        // (killed and reaped) here.
        Ok(self.guardian.set(guardian).is_ok().then_some(pid))
    }

    /// Tells the guardian, if any, to exit now (`SIGKILL`), without
    /// waiting: its reaping comes with the scope's drop. Only once the
    /// tree is empty: from then on the owner's death leaves nothing to
    /// kill.
    pub(super) fn retire_guardian(&self) {
        if let Some(guardian) = self.guardian.get() {
            guardian.retire();
        }
    }
}
