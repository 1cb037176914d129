//! Controlling a whole tree beyond containing it: freezing and thawing,
//! accounting, limits, adopting a running process. Each asks the scope's
//! mechanism, which answers [`Unsupported`](crate::ErrorKind::Unsupported)
//! with the reason where it cannot.

use super::Scope;
use crate::control::{ScopeLimits, ScopeStats};
use crate::error::Result;
use crate::process::Process;

impl Scope {
    /// Stops every member where it stands (also known as suspend); returns
    /// once all are stopped. Members forked meanwhile are stopped too:
    ///
    /// - cgroup modes: `cgroup.freeze`, and the wait until `cgroup.events`
    ///   says `frozen 1`; the kernel holds every member, and a frozen
    ///   member cannot fork, so there is no race with forks. Nothing a
    ///   member does (not `SIGCONT`) thaws it.
    /// - subreaper and process group (Linux): `SIGSTOP` sweeps until a
    ///   sweep finds every member stopped and a new listing finds nobody
    ///   else. A member forked by one still running is caught by the next
    ///   sweep. What a sweep cannot promise: a `SIGCONT` from outside (a
    ///   shell's job control, another user of the process) resumes a
    ///   member, and a process group member that left with `setsid` is
    ///   out of reach.
    /// - Windows: every thread of every member suspended, sweep after
    ///   sweep until a sweep finds no new thread.
    /// - macOS, FreeBSD: [`Unsupported`](crate::ErrorKind::Unsupported).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(target_os = "linux")] {
    /// let scope = prochandle::Scope::new()?;
    /// scope.spawn(std::process::Command::new("sleep").arg("30"))?;
    /// scope.freeze()?;
    /// assert!(scope.is_frozen()?);
    /// scope.thaw()?;
    /// assert!(!scope.is_frozen()?);
    /// # }
    /// # Ok(()) }
    /// ```
    #[doc(alias = "suspend")]
    #[doc(alias = "pause")]
    pub fn freeze(&self) -> Result<()> {
        self.inner.freeze()
    }

    /// [`freeze`](Scope::freeze), waiting at most `limit` for every member
    /// to stop: `true` when all did, `false` when one had not yet (a
    /// member in an uninterruptible sleep, `D`, stops only when that
    /// ends; the rest are stopped). The freeze stands either way: call
    /// [`thaw`](Scope::thaw) after. For a look at a tree that must not
    /// wait on a member stuck in the kernel.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(target_os = "linux")] {
    /// use std::time::Duration;
    /// let scope = prochandle::Scope::new()?;
    /// scope.spawn(std::process::Command::new("sleep").arg("30"))?;
    /// let whole = scope.freeze_within(Duration::from_millis(200))?;
    /// assert!(whole && scope.is_frozen()?);
    /// scope.thaw()?;
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn freeze_within(&self, limit: std::time::Duration) -> Result<bool> {
        match std::time::Instant::now().checked_add(limit) {
            Some(deadline) => self.inner.freeze_until(deadline),
            None => self.inner.freeze().map(|()| true),
        }
    }

    /// Lets a frozen tree run again (also known as resume): `cgroup.freeze`
    /// cleared, a `SIGCONT` to each member the freeze stopped, or each
    /// suspended thread resumed. A member stopped by someone else before
    /// the freeze (a `kill -STOP`, a debugger) stays stopped.
    #[doc(alias = "resume")]
    #[doc(alias = "unpause")]
    pub fn thaw(&self) -> Result<()> {
        self.inner.thaw()
    }

    /// Whether the tree is frozen: the kernel's `frozen` in the cgroup
    /// modes; elsewhere, whether [`freeze`](Scope::freeze) was the last
    /// word and every member is still stopped.
    pub fn is_frozen(&self) -> Result<bool> {
        self.inner.is_frozen()
    }

    /// The whole tree's accounting: CPU time (user and system) of every
    /// member past and present, the live members, processes started in
    /// total and peak memory where the system counts them. A figure this
    /// mechanism cannot give is [`Measure::Absent`](crate::Measure) with
    /// the reason, never zero.
    ///
    /// | mechanism | CPU | started | peak memory |
    /// | --- | --- | --- | --- |
    /// | cgroup | `cpu.stat` (every v2 cgroup) | absent | `memory.peak` with the memory controller |
    /// | subreaper | `/proc` of the live, plus what the scope reaped | absent | absent |
    /// | process group (Linux) | absent: members that ended leave no account | absent | absent |
    /// | Windows job | basic accounting | total processes | `PeakJobMemoryUsed` |
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(target_os = "linux")] {
    /// let scope = prochandle::Scope::new()?;
    /// scope.spawn(&mut std::process::Command::new("true"))?.wait()?;
    /// let stats = scope.stats()?;
    /// assert_eq!(stats.live.known(), Some(&0));
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> Result<ScopeStats> {
        self.inner.stats()
    }

    /// Changes the tree's limits while it runs (a limit left `None` in
    /// `limits` is kept as it is). Refused with
    /// [`Unsupported`](crate::ErrorKind::Unsupported), nothing changed,
    /// where a limit cannot be enforced: the cgroup controller is not
    /// delegated to the scope's cgroup (the error names it and what would
    /// enable it), or the mechanism has no limits (subreaper, process
    /// group).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// use prochandle::{ErrorKind, Scope, ScopeLimits};
    /// let scope = Scope::new()?;
    /// match scope.set_limits(&ScopeLimits::new().tasks_max(100)) {
    ///     Ok(()) => {}
    ///     Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn set_limits(&self, limits: &ScopeLimits) -> Result<()> {
        if limits.is_empty() {
            return Ok(());
        }
        self.inner.set_limits(limits)
    }

    /// Moves the running `process` into the scope; what it starts from
    /// then on is a member too (children it already has stay where they
    /// are). Never a recycled PID:
    ///
    /// - cgroup modes: the PID is written to `cgroup.procs`, then the
    ///   process is confirmed, through its handle, to be alive (so the PID
    ///   was still its own) and inside the cgroup.
    /// - Windows: `AssignProcessToJobObject` through the handle.
    /// - subreaper and process group: [`Unsupported`](crate::ErrorKind::Unsupported)
    ///   (a subreaper cannot become the parent of a running process; a
    ///   process group can be joined only by a process of the same
    ///   session, and only by its own or its parent's doing).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(target_os = "linux")] {
    /// use prochandle::{Process, Scope};
    /// let scope = Scope::new()?;
    /// let outside = Process::spawn(std::process::Command::new("sleep").arg("30"))?;
    /// match scope.adopt(&outside) {
    ///     Ok(()) => assert_eq!(scope.members()?.len(), 1),
    ///     Err(e) => assert_eq!(e.kind(), prochandle::ErrorKind::Unsupported, "{e}"),
    /// }
    /// outside.kill()?;
    /// outside.wait()?;
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn adopt(&self, process: &Process) -> Result<()> {
        self.inner.adopt(process.sys())
    }
}
