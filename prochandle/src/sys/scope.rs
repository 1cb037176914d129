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
use crate::control::{ScopeLimits, ScopeStats};
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
/// Capabilities beyond containing go in as provided methods that answer
/// [`Error::unsupported`], overridden only by the mechanisms that can (so
/// adding one to a mechanism touches no other): freeze and thaw, stats,
/// limits, adopting a running [`Process`], and the soft step of a
/// graceful stop (`stop_signal`; the portable `Scope::stop` does the
/// rest with `wait_empty`, `members` and `kill`).
pub(crate) trait ScopeMechanism: Send + Sync + fmt::Debug {
    /// Adds to `command` what makes its child a member before it runs its
    /// program (a process group, a cgroup join, a suspended start).
    fn prepare(&self, command: &mut Command);

    /// Records `child`, spawned from a command [`prepare`]d here.
    ///
    /// [`prepare`]: ScopeMechanism::prepare
    fn started(&self, child: &Child) -> Result<()>;

    /// Spawns `command` for [`Scope::spawn`](crate::Scope::spawn) in a way
    /// of the mechanism's own, returning the program's process (which
    /// need not be our child); `None` where the mechanism spawns as
    /// [`prepare`](ScopeMechanism::prepare) and
    /// [`started`](ScopeMechanism::started) say.
    fn spawn_std(&self, command: &mut Command) -> Option<Result<Process>> {
        let _ = command;
        None
    }

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

    /// Stops every member where it stands, with no race against forks.
    fn freeze(&self) -> Result<()> {
        Err(Error::unsupported(
            "freeze",
            "this mechanism cannot freeze a tree",
        ))
    }

    /// [`freeze`](ScopeMechanism::freeze), waiting for every member to
    /// stop until `deadline` only: whether all did. The freeze stands
    /// either way, until the thaw. Where the freeze has no wait to bound,
    /// the freeze itself.
    fn freeze_until(&self, deadline: Instant) -> Result<bool> {
        let _ = deadline;
        self.freeze().map(|()| true)
    }

    /// Lets a frozen tree run again.
    fn thaw(&self) -> Result<()> {
        Err(Error::unsupported(
            "thaw",
            "this mechanism cannot freeze a tree",
        ))
    }

    /// Whether the tree is frozen.
    fn is_frozen(&self) -> Result<bool> {
        Err(Error::unsupported(
            "is_frozen",
            "this mechanism cannot freeze a tree",
        ))
    }

    /// The whole tree's accounting.
    fn stats(&self) -> Result<ScopeStats> {
        Err(Error::unsupported(
            "stats",
            "this mechanism keeps no account of a tree",
        ))
    }

    /// Applies every limit `limits` asks for, or none and an error naming
    /// what is missing.
    fn set_limits(&self, limits: &ScopeLimits) -> Result<()> {
        let asked = [
            limits.memory_max.map(|_| "memory (memory.max)"),
            limits.tasks_max.map(|_| "pids (pids.max)"),
            limits.cpu_max.map(|_| "cpu (cpu.max)"),
        ];
        let asked: Vec<&str> = asked.into_iter().flatten().collect();
        Err(Error::unsupported(
            "limits",
            format!(
                "cannot limit {}: this mechanism has no limits; they need a cgroup v2 scope with \
                 the controller delegated (Linux, e.g. as root or in a unit with Delegate=yes) \
                 or a job object (Windows)",
                asked.join(", ")
            ),
        ))
    }

    /// Moves the running `process`, and what it starts from then on, into
    /// the scope.
    fn adopt(&self, process: &Process) -> Result<()> {
        let _ = process;
        Err(Error::unsupported(
            "adopt",
            "this mechanism cannot take in a running process",
        ))
    }

    /// The soft step of a graceful stop: `sig` to every member, each
    /// listed with whether it was reached (`false`: gone before).
    fn stop_signal(&self, sig: i32) -> Result<SoftStep> {
        let mut listed = Vec::new();
        for member in self.members()? {
            let listing = Listed::describe(member);
            let reached = reach(&listing.process, sig)?;
            listed.push((listing, reached));
        }
        Ok(SoftStep {
            members: listed,
            sent: true,
        })
    }
}

/// What the soft step of a stop reached.
#[derive(Debug)]
pub(crate) struct SoftStep {
    /// Every member found (described before the signal), with whether
    /// the signal reached it.
    pub members: Vec<(Listed, bool)>,
    /// Whether a soft step was sent at all (else all are to be killed).
    pub sent: bool,
}

/// `sig` to one pinned member: whether it reached it (`false`: gone).
pub(crate) fn reach(member: &Process, sig: i32) -> Result<bool> {
    match member.signal(sig) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == crate::ErrorKind::Done => Ok(false),
        Err(e) => Err(e),
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
    /// A relay's signal state for the child (else: nothing blocked).
    pub restore: Option<&'a crate::sys::relay::Restore>,
    /// Start the child as the leader of a new console process group.
    #[cfg(windows)]
    pub console_group: bool,
}

impl Spec<'_> {
    /// The same command as a std `Command`, for the spawn paths that go
    /// through std (each standard stream given is copied for the child).
    /// Creation flags and the console group are the mechanism's to add.
    pub(crate) fn std_command(&self) -> std::io::Result<Command> {
        fn stdio(s: Stdio<'_>) -> std::io::Result<std::process::Stdio> {
            Ok(match s {
                Stdio::Inherit => std::process::Stdio::inherit(),
                Stdio::Null => std::process::Stdio::null(),
                Stdio::Given(handle) => handle.try_clone_to_owned()?.into(),
            })
        }
        let mut command = Command::new(self.program);
        command.args(self.args);
        if self.env_clear {
            command.env_clear();
        }
        for (key, value) in self.env {
            match value {
                Some(v) => command.env(key, v),
                None => command.env_remove(key),
            };
        }
        if let Some(dir) = self.cwd {
            command.current_dir(dir);
        }
        let [stdin, stdout, stderr] = self.stdio;
        command
            .stdin(stdio(stdin)?)
            .stdout(stdio(stdout)?)
            .stderr(stdio(stderr)?);
        if let Some(restore) = self.restore {
            restore.apply(&mut command);
        }
        Ok(command)
    }
}

/// A pinned member with what names it, read while it was alive.
#[derive(Debug)]
pub(crate) struct Listed {
    pub process: Process,
    pub name: Option<String>,
    pub start: Option<u64>,
}

impl Listed {
    pub(crate) fn describe(process: Process) -> Listed {
        Listed {
            name: name_of(&process),
            start: start_of(&process),
            process,
        }
    }

    /// Whether `other` is the same process: the same PID and start.
    pub(crate) fn same(&self, other: &Listed) -> bool {
        self.process.pid() == other.process.pid() && self.start == other.start
    }
}

/// The name of a pinned member, read while it is known to be alive
/// (Linux `comm`, Windows image file name).
fn name_of(member: &Process) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        let comm = std::fs::read_to_string(format!("/proc/{}/comm", member.pid())).ok()?;
        // Read while alive: the PID was still this member's.
        let alive = !member.has_exited().unwrap_or(true);
        alive.then(|| comm.trim_end().to_owned())
    }
    #[cfg(windows)]
    {
        let path = super::windows::query::image_path(member.handle()?).ok()?;
        Some(path.file_name()?.to_string_lossy().into_owned())
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        let _ = member;
        None
    }
}

/// The start time of a pinned member, where the system gives one, read
/// while it is known to be alive.
fn start_of(member: &Process) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let start = member.start_time().or_else(|| {
            let stat = super::unix::linux::procfs::read_stat(member.pid() as i32).ok()?;
            Some(stat.start_time)
        });
        start.filter(|_| !member.has_exited().unwrap_or(true))
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        member.start_time()
    }
    #[cfg(windows)]
    {
        let _ = member;
        None
    }
}
