//! The seam between the portable `Scope` and each OS's ways of containing
//! a process tree: the request (options), the report of what was chosen,
//! and [`ScopeMechanism`], the trait each mechanism implements in its OS
//! directory (`unix/pgroup.rs`, `unix/linux/scope/`, `windows/job.rs`).
//! Choosing among mechanisms is the business of the OS that has a choice
//! (Linux); the others have one each.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Instant;

use super::{BorrowedHandle, Process};
use crate::error::{Error, Result};
use crate::mechanism::{Mechanism, MechanismKind, PassedOver};

/// The caller's options.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) struct Request {
    /// Use exactly this mechanism, or fail.
    pub force: Option<MechanismKind>,
    /// The caller allows `PR_SET_CHILD_SUBREAPER` on this process.
    pub allow_subreaper: bool,
    /// Start a guardian that kills the tree when the owner dies.
    pub guardian: bool,
    /// The caller asked for the guardian (rather than taking the default):
    /// a guardian that cannot start is then an error, not skipped.
    pub guardian_asked: bool,
    /// The signal the first children get when the spawning thread dies.
    pub death_signal: Option<i32>,
    /// Kill the tree when the mechanism is dropped.
    pub kill_on_drop: bool,
}

impl Request {
    /// Whether `kind` may be chosen: nothing is forced, or `kind` is.
    pub(crate) fn wants(&self, kind: MechanismKind) -> bool {
        self.force.is_none_or(|f| f == kind)
    }
}

/// A mechanism the OS layer chose, with the report of the choice.
pub(crate) struct Chosen {
    pub mechanism: Box<dyn ScopeMechanism>,
    /// What the mechanism is, for the caller.
    pub report: Mechanism,
    /// One line per better mechanism passed over, saying why.
    pub passed_over: Vec<PassedOver>,
}

/// The error for a request nothing here can meet, with every reason.
#[cfg_attr(windows, allow(dead_code))]
pub(crate) fn none_available(passed_over: &[PassedOver]) -> Error {
    let why: Vec<String> = passed_over
        .iter()
        .map(|p| format!("{:?}: {}", p.kind, p.reason))
        .collect();
    Error::unsupported(
        "scope",
        format!(
            "the mechanism asked for is not available: {}",
            why.join("; ")
        ),
    )
}

/// What one mechanism does for a `Scope`. Each implementation holds
/// everything of its own (a cgroup, a job, process groups, the owner-death
/// protection it offers) and drops it as its options say (killing the tree
/// first when `kill_on_drop` was asked for).
///
/// Where the next capabilities go: each as a provided method here that
/// answers [`Error::unsupported`], overridden only by the mechanisms that
/// can (so adding one to a mechanism touches no other): freeze and thaw
/// (cgroup `cgroup.freeze`, Windows job suspension), statistics (CPU time,
/// member count, peak memory: cgroup `cpu.stat`/`memory.peak`, job
/// accounting), limits (memory, tasks, CPU: cgroup controllers, job
/// limits), adopting a running [`Process`], a graceful stop that reports
/// who needed the kill, and owner-death protection beyond today's
/// guardian and death signal.
pub(crate) trait ScopeMechanism: Send + Sync + fmt::Debug {
    /// Adds to `command` what makes its child a member before it runs its
    /// program (a process group, a cgroup join, a suspended start).
    fn prepare(&self, command: &mut Command);

    /// Records `child`, spawned from a command [`prepare`]d here.
    ///
    /// [`prepare`]: ScopeMechanism::prepare
    fn started(&self, child: &Child) -> Result<()>;

    /// Spawns `spec` straight into the scope without std's `Command`,
    /// where the system allows a cheaper spawn; `None` when the caller must
    /// go through [`prepare`](ScopeMechanism::prepare) instead.
    fn spawn_direct(&self, spec: &Spec<'_>) -> Result<Option<Process>> {
        let _ = spec;
        Ok(None)
    }

    /// The live members, each pinned.
    fn members(&self) -> Result<Vec<Process>>;

    /// Sends `sig` to every member.
    fn signal(&self, sig: i32) -> Result<()>;

    /// Kills every member; returns when none is left alive. A kill repeats
    /// until a pass finds nobody, so a tree forking meanwhile is no escape.
    fn kill(&self) -> Result<()>;

    /// Whether no member is alive.
    fn is_empty(&self) -> Result<bool>;

    /// Sleeps until no member is alive, or `deadline` passes; returns
    /// whether the scope is empty.
    fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool>;

    /// The descriptor the kernel marks readable (`POLLPRI`) when the
    /// scope's emptiness changes, where there is one.
    #[cfg(unix)]
    fn events_fd(&self) -> Option<BorrowedHandle<'_>> {
        None
    }

    /// A notifier of its own for the scope's emptiness, for a watcher's
    /// poller: a new descriptor of `cgroup.events` (Linux cgroups), a
    /// listener rung by the job's completion port (Windows). `None` when
    /// emptiness must be re-checked.
    fn empty_notifier(&self) -> Result<Option<super::EmptyNotifier>> {
        Ok(None)
    }
}

/// Where a standard stream of a directly spawned child comes from.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum Stdio<'a> {
    /// This process's own.
    Inherit,
    /// The null device.
    Null,
    /// This descriptor or handle.
    Given(BorrowedHandle<'a>),
}

/// What to run, as the portable layer's command describes it, for
/// [`ScopeMechanism::spawn_direct`].
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) struct Spec<'a> {
    pub program: &'a OsStr,
    pub args: &'a [OsString],
    /// Start from an empty environment instead of this process's.
    pub env_clear: bool,
    /// Variables set (`Some`) or removed (`None`).
    pub env: &'a BTreeMap<OsString, Option<OsString>>,
    pub cwd: Option<&'a Path>,
    pub stdio: [Stdio<'a>; 3],
    /// `PR_SET_PDEATHSIG` for the child (Linux).
    pub death_signal: Option<i32>,
}
