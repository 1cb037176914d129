//! [`ScopeOptions`]: how a [`Scope`] is made.

use super::Scope;
use crate::control::ScopeLimits;
use crate::error::Result;
use crate::mechanism::MechanismKind;
use crate::signal::Signal;
use crate::sys::scope::Request;

/// How a [`Scope`] is made: a builder, ended by [`create`](ScopeOptions::create).
///
/// | option | default | meaning |
/// | --- | --- | --- |
/// | [`kill_on_drop`](ScopeOptions::kill_on_drop) | `true` | dropping the scope kills the tree; `false` leaves it running (and, on Linux, its cgroup in place) |
/// | [`guardian`](ScopeOptions::guardian) | as `kill_on_drop` | Linux: a tiny process outside the tree kills it when this process dies without dropping the scope (`SIGKILL` included) |
/// | [`allow_subreaper`](ScopeOptions::allow_subreaper) | `false` | Linux: without a writable cgroup, make *this process* the child subreaper (process-wide, for good) |
/// | [`death_signal`](ScopeOptions::death_signal) | `Some(KILL)` | Linux: `PR_SET_PDEATHSIG` for each first child |
/// | [`mechanism`](ScopeOptions::mechanism) | the best available | exactly this mechanism, or an error |
/// | [`memory_max`](ScopeOptions::memory_max), [`tasks_max`](ScopeOptions::tasks_max), [`cpu_max`](ScopeOptions::cpu_max) | none | limits for the whole tree, or an error naming what is missing |
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// use prochandle::ScopeOptions;
///
/// let scope = ScopeOptions::new().kill_on_drop(true).allow_subreaper(false).create()?;
/// # drop(scope);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ScopeOptions {
    force: Option<MechanismKind>,
    allow_subreaper: bool,
    /// `None`: follow `kill_on_drop`.
    guardian: Option<bool>,
    death_signal: Option<Signal>,
    kill_on_drop: bool,
    limits: ScopeLimits,
}

impl Default for ScopeOptions {
    fn default() -> ScopeOptions {
        ScopeOptions {
            force: None,
            allow_subreaper: false,
            guardian: None,
            death_signal: Some(Signal::KILL),
            kill_on_drop: true,
            limits: ScopeLimits::new(),
        }
    }
}

impl ScopeOptions {
    /// The defaults (see the table above).
    pub fn new() -> ScopeOptions {
        ScopeOptions::default()
    }

    /// Whether dropping the [`Scope`] kills every member (default `true`).
    /// With `false` the tree keeps running after the drop, out of reach of
    /// this crate; on Linux its cgroup stays in place (a cgroup with
    /// processes cannot be removed).
    pub fn kill_on_drop(mut self, kill: bool) -> ScopeOptions {
        self.kill_on_drop = kill;
        self
    }

    /// Linux: starts a guardian with the first spawn, a small forked
    /// process outside the tree that kills the tree when this process dies
    /// without dropping the scope (a crash, `SIGKILL`). Default: on when
    /// [`kill_on_drop`](ScopeOptions::kill_on_drop) is (the default), so
    /// that a tree the scope would kill on drop also dies with its owner;
    /// `guardian(false)` opts out (it saves one `fork` per scope). A
    /// guardian left on by default is skipped where it cannot work (a
    /// cgroup without `cgroup.kill`, before Linux 5.14; a `fork` refused
    /// by a seccomp filter or a process limit); one asked for with
    /// `guardian(true)` is then an error.
    ///
    /// What it reaches: in the cgroup modes the whole tree (`cgroup.kill`);
    /// in the subreaper and process-group modes the first child's process
    /// group (members that left it with `setsid` survive, unless a death
    /// signal reaches them). Elsewhere the option is ignored: on Windows the
    /// job is closed, and so killed, with this process anyway; macOS and
    /// FreeBSD have no such guarantee.
    pub fn guardian(mut self, guardian: bool) -> ScopeOptions {
        self.guardian = Some(guardian);
        self
    }

    /// Linux: allows the subreaper mode when no cgroup can be created.
    /// Default `false`, because `PR_SET_CHILD_SUBREAPER` changes this whole
    /// process, for good: every orphan of any descendant is re-parented to
    /// it, and this process must reap them (the scope does, for its own).
    /// A program that owns its process (a command-line tool) may opt in.
    pub fn allow_subreaper(mut self, allow: bool) -> ScopeOptions {
        self.allow_subreaper = allow;
        self
    }

    /// Linux: the signal each first child gets when the thread that
    /// spawned it exits (`PR_SET_PDEATHSIG`); `None` for none. Default
    /// `Some(Signal::KILL)`. It reaches one process, the first child, not
    /// its descendants; and it fires when the spawning *thread* ends, not
    /// only the process: spawn from a thread that lives as long as the
    /// tree should, or turn it off.
    pub fn death_signal(mut self, signal: Option<Signal>) -> ScopeOptions {
        self.death_signal = signal;
        self
    }

    /// Uses exactly `kind`, or fails with
    /// [`Unsupported`](crate::ErrorKind::Unsupported) saying why. For
    /// tests and benchmarks, and for callers that accept nothing weaker.
    pub fn mechanism(mut self, kind: MechanismKind) -> ScopeOptions {
        self.force = Some(kind);
        self
    }

    /// Limits the whole tree's memory to `bytes` (cgroup `memory.max`,
    /// Windows job memory). Where the limit cannot be enforced, creating
    /// the scope fails with [`Unsupported`](crate::ErrorKind::Unsupported)
    /// naming the missing controller: never a silently unlimited scope.
    ///
    /// ```
    /// use prochandle::{ErrorKind, ScopeOptions};
    /// match ScopeOptions::new().memory_max(64 << 20).create() {
    ///     Ok(scope) => assert!(scope.is_empty().unwrap()),
    ///     Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}"),
    /// }
    /// ```
    pub fn memory_max(mut self, bytes: u64) -> ScopeOptions {
        self.limits = self.limits.memory_max(bytes);
        self
    }

    /// Limits how many tasks (cgroup `pids.max`: threads count) or
    /// processes (Windows job) may live in the tree at once; refused as
    /// [`memory_max`](ScopeOptions::memory_max) is.
    pub fn tasks_max(mut self, tasks: u64) -> ScopeOptions {
        self.limits = self.limits.tasks_max(tasks);
        self
    }

    /// Limits the tree's CPU to `percent` of one CPU (cgroup `cpu.max`,
    /// Windows CPU rate); refused as [`memory_max`](ScopeOptions::memory_max) is.
    pub fn cpu_max(mut self, percent: u32) -> ScopeOptions {
        self.limits = self.limits.cpu_max(percent);
        self
    }

    /// Every limit of `limits` at once (see [`ScopeLimits`]).
    pub fn limits(mut self, limits: ScopeLimits) -> ScopeOptions {
        self.limits = limits;
        self
    }

    /// Creates the scope.
    pub fn create(&self) -> Result<Scope> {
        Scope::with_options(self)
    }

    pub(crate) fn get_limits(&self) -> ScopeLimits {
        self.limits
    }

    pub(crate) fn request(&self) -> Request {
        Request {
            force: self.force,
            allow_subreaper: self.allow_subreaper,
            guardian: self.guardian.unwrap_or(self.kill_on_drop),
            guardian_asked: self.guardian == Some(true),
            death_signal: self.death_signal.map(Signal::as_raw),
            kill_on_drop: self.kill_on_drop,
        }
    }
}
