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
//!
//! The thaw resumes only the members the freeze stopped: one found
//! stopped already (by a debugger, a `kill -STOP`) stays stopped, as the
//! cgroup freezer leaves it.

use std::collections::BTreeSet;
use std::sync::Mutex;
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
    /// `Some` from a freeze to the thaw: the members it sent `SIGSTOP`,
    /// pinned, so that the thaw's `SIGCONT` reaches them and no other.
    stopped: Mutex<Option<Vec<Process>>>,
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
        if self.freeze_until(Instant::now() + FREEZE_LIMIT, list)? {
            return Ok(());
        }
        Err(Error::new(ErrorKind::Other, "freeze")
            .with_detail("a member did not stop within 10 s (an uninterruptible sleep?)"))
    }

    /// The sweeps, until every member is stopped (`true`) or `deadline`
    /// passes (`false`: a member has its `SIGSTOP` pending, the rest are
    /// stopped; the freeze stands until the thaw either way).
    pub(super) fn freeze_until(
        &self,
        deadline: Instant,
        list: impl Fn() -> Result<Vec<Process>>,
    ) -> Result<bool> {
        let mut guard = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        let stopped_here = guard.get_or_insert_with(Vec::new);
        let mut backoff = Backoff::new();
        let mut last: BTreeSet<u32> = BTreeSet::new();
        loop {
            let members = list()?;
            let now: BTreeSet<u32> = members.iter().map(Process::pid).collect();
            let mut all_stopped = true;
            for m in members {
                if stopped(&m) {
                    continue;
                }
                all_stopped = false;
                // A member stopped by this freeze before (its stop still
                // pending) is pinned once.
                let ours = stopped_here.iter().any(|s| s.pid() == m.pid());
                if reach(&m, libc::SIGSTOP)? && !ours {
                    stopped_here.push(m);
                }
            }
            if all_stopped && now == last {
                return Ok(true);
            }
            last = now;
            let Some(pause) = backoff.next_pause_until(Some(deadline)) else {
                return Ok(false);
            };
            if !all_stopped {
                std::thread::sleep(pause);
            }
        }
    }

    /// A `SIGCONT` to every member the freeze stopped (their `SIGSTOP`
    /// still pending is discarded by it, so a member that was in an
    /// uninterruptible sleep does not stop later).
    pub(super) fn thaw(&self) -> Result<()> {
        let stopped_here = self
            .stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        for m in stopped_here.unwrap_or_default() {
            reach(&m, libc::SIGCONT)?;
        }
        Ok(())
    }

    /// Whether the last word was a freeze and every member is stopped.
    pub(super) fn is_frozen(&self, list: impl Fn() -> Result<Vec<Process>>) -> Result<bool> {
        let frozen = self
            .stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        Ok(frozen && list()?.iter().all(stopped))
    }
}

/// The freeze methods of a `ScopeMechanism` frozen by these sweeps over
/// its own `members()`, its `StopSweeps` in the field named `$stops`.
macro_rules! freeze_by_sweeps {
    ($stops:ident) => {
        /// `SIGSTOP` sweeps (see `stop_sweeps.rs` for what they cannot
        /// promise).
        fn freeze(&self) -> crate::error::Result<()> {
            self.$stops.freeze(|| ScopeMechanism::members(self))
        }

        fn freeze_until(&self, deadline: std::time::Instant) -> crate::error::Result<bool> {
            self.$stops
                .freeze_until(deadline, || ScopeMechanism::members(self))
        }

        fn thaw(&self) -> crate::error::Result<()> {
            self.$stops.thaw()
        }

        fn is_frozen(&self) -> crate::error::Result<bool> {
            self.$stops.is_frozen(|| ScopeMechanism::members(self))
        }
    };
}
pub(super) use freeze_by_sweeps;
