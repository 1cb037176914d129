//! Freezing without a cgroup freezer: `SIGSTOP` sweeps over the members,
//! for the subreaper and process-group mechanisms.
//!
//! A sweep stops every listed member that is not stopped yet. A member
//! still running when it was listed may fork before its `SIGSTOP`
//! lands; its child is listed by the next sweep. The freeze is done when
//! a sweep finds every member stopped and a new listing names nobody
//! else: then no member runs, so none can fork. What sweeps cannot
//! promise (the cgroup freezer can): a `SIGCONT` from outside the scope
//! resumes a member, and a member may see the stop (`SIGCHLD` to its
//! parent, a `ptrace` observer).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::super::{procfs, Process};
use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind, Result};
use crate::sys::scope::reach;

/// How long a freeze waits for every member to stop (one in an
/// uninterruptible sleep stops only when that ends).
const FREEZE_LIMIT: Duration = Duration::from_secs(10);

/// The freeze state of one scope frozen by sweeps.
#[derive(Debug, Default)]
pub(super) struct StopSweeps {
    /// Set by a freeze, cleared by a thaw.
    frozen: AtomicBool,
}

/// Whether `/proc` shows the pinned `p` stopped (`T`, or `t` when traced)
/// while it is still alive (so the PID was its own).
fn stopped(p: &Process) -> bool {
    let state = procfs::read_stat(p.pid() as i32).map(|s| s.state);
    matches!(state, Ok(b'T' | b't')) && !p.has_exited().unwrap_or(true)
}

impl StopSweeps {
    /// `SIGSTOP` sweeps over `list()` until it is stable and all stopped.
    pub(super) fn freeze(&self, list: impl Fn() -> Result<Vec<Process>>) -> Result<()> {
        self.frozen.store(true, Ordering::SeqCst);
        let limit = Instant::now() + FREEZE_LIMIT;
        let mut backoff = Backoff::new();
        let mut last: BTreeSet<u32> = BTreeSet::new();
        loop {
            let members = list()?;
            let mut all_stopped = true;
            for m in members.iter().filter(|m| !stopped(m)) {
                all_stopped = false;
                reach(m, libc::SIGSTOP)?;
            }
            let now: BTreeSet<u32> = members.iter().map(Process::pid).collect();
            if all_stopped && now == last {
                return Ok(());
            }
            last = now;
            let Some(pause) = backoff.next_pause_until(Some(limit)) else {
                return Err(Error::new(ErrorKind::Other, "freeze")
                    .with_detail("a member did not stop within 10 s (an uninterruptible sleep?)"));
            };
            if !all_stopped {
                std::thread::sleep(pause);
            }
        }
    }

    /// A `SIGCONT` to every member `list()` names.
    pub(super) fn thaw(&self, list: impl Fn() -> Result<Vec<Process>>) -> Result<()> {
        self.frozen.store(false, Ordering::SeqCst);
        for m in list()? {
            reach(&m, libc::SIGCONT)?;
        }
        Ok(())
    }

    /// Whether the last word was a freeze and every member is stopped.
    pub(super) fn is_frozen(&self, list: impl Fn() -> Result<Vec<Process>>) -> Result<bool> {
        Ok(self.frozen.load(Ordering::SeqCst) && list()?.iter().all(stopped))
    }
}
