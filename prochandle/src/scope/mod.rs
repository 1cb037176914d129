//! [`Scope`]: a container for a whole process tree.
//!
//! The portable layer: it chooses nothing itself, it holds the mechanism
//! the OS layer chose (`sys::scope::ScopeMechanism`) and turns what that
//! returns into [`Process`]es and reports.

mod command;
mod control;
mod options;
mod stop;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub use crate::control::{Ending, Measure, ScopeLimits, ScopeStats, StopReport, StoppedMember};
pub use crate::mechanism::{Mechanism, MechanismKind, PassedOver};
pub use command::{ChildStdio, ScopeCommand};
pub use options::ScopeOptions;

use crate::error::{Error, Result};
use crate::process::Process;
use crate::signal::Signal;
use crate::sys;
use crate::sys::scope::ScopeMechanism;

/// A container for a process tree: every process spawned into it, and
/// every descendant of those, stays in it (where the mechanism allows, also
/// through `setsid` and double forks) until it exits; the scope lists,
/// signals and kills them all, and tells when the last one is gone.
///
/// Mechanisms, best first (see [`Mechanism`] and the crate's
/// `docs/trees.md`):
///
/// | system | mechanism | `setsid` escapes | kill | owner dies |
/// | --- | --- | --- | --- | --- |
/// | Linux, cgroup v2 writable | a new cgroup leaf | no | `cgroup.kill`, or freeze + signal + thaw | the whole tree (the [`guardian`](ScopeOptions::guardian), on by default; Linux 5.14+) |
/// | Linux, no writable cgroup (6.15+ with pidfds) | a keeper per member, its parent and its tree's subreaper ([`spawn_child`](Scope::spawn_child): a process group) | no (`spawn_child`: yes) | each keeper sweeps its tree | the whole tree (`spawn_child`: its group) |
/// | Linux, opted in | this process as child subreaper, plus a process group | no | sweeps until one finds nothing | the first child's group (the guardian): `setsid` escapers survive |
/// | Windows | a job object (the child is assigned before it runs) | no | `TerminateJobObject` | the job dies with its last handle |
/// | macOS, FreeBSD, Linux otherwise | a process group | **yes** | `kill(-pgid)` (Linux: each pinned member), pass after pass | Linux: the group (the guardian); macOS, FreeBSD: nothing |
///
/// A `Scope` is `Send + Sync`: share it (`Arc`) with a thread that
/// forwards signals to it or waits for it to empty.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// # #[cfg(unix)] {
/// use std::process::Command;
/// use prochandle::Scope;
///
/// let scope = Scope::new()?;
/// let shell = scope.spawn(Command::new("sh").args(["-c", "sleep 30 & sleep 30"]))?;
/// scope.kill()?; // the shell and its background sleep
/// assert!(scope.is_empty()?);
/// assert!(shell.wait()?.signal().is_some());
/// # }
/// # Ok(()) }
/// ```
pub struct Scope {
    inner: Box<dyn ScopeMechanism>,
    mechanism: Mechanism,
    passed_over: Vec<PassedOver>,
}

impl Scope {
    /// A scope with the default [`ScopeOptions`]: the best mechanism that
    /// needs no process-wide change, killed on drop.
    pub fn new() -> Result<Scope> {
        Scope::with_options(&ScopeOptions::new())
    }

    /// A scope made as `options` say.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// use prochandle::{Scope, ScopeOptions};
    /// let scope = Scope::with_options(&ScopeOptions::new().kill_on_drop(true))?;
    /// assert!(scope.is_empty()?);
    /// # Ok(()) }
    /// ```
    pub fn with_options(options: &ScopeOptions) -> Result<Scope> {
        let chosen = sys::new_scope(&options.request())?;
        if !options.get_limits().is_empty() {
            // Before any member exists; a refusal drops (and removes) the
            // new container: never a silently unlimited scope.
            chosen.mechanism.set_limits(&options.get_limits())?;
        }
        Ok(Scope {
            inner: chosen.mechanism,
            mechanism: chosen.report,
            passed_over: chosen.passed_over,
        })
    }

    /// Spawns `command` into the scope and holds the new child. The child
    /// joins the container before it runs its program, so nothing it starts
    /// is ever outside.
    ///
    /// The `command` keeps the hooks that make it join *this* scope: use it
    /// for this scope only. On Unix a process group set on it is replaced
    /// in the process-group and subreaper modes; on Windows its creation
    /// flags are replaced. As with [`Process::spawn`], the child's standard
    /// streams are dropped: to keep pipes, use
    /// [`spawn_child`](Scope::spawn_child).
    ///
    /// On Linux the hooks (joining the cgroup, the death signal) make std
    /// `fork` this whole process for the child; [`spawn_command`](Scope::spawn_command)
    /// does without, at about the cost of a plain spawn.
    ///
    /// In the keeper mode (the default where no cgroup can be made) std's
    /// child becomes the child's keeper: set up as the command says, it
    /// forks the child, which runs the program, and stays its parent and
    /// its tree's subreaper (see [`spawn_command`](Scope::spawn_command)).
    /// The returned process is the program's, not our child.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// let scope = prochandle::Scope::new()?;
    /// let child = scope.spawn(&mut std::process::Command::new("true"))?;
    /// assert!(child.wait()?.success());
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn spawn(&self, command: &mut Command) -> Result<Process> {
        if let Some(spawned) = self.inner.spawn_std(command) {
            return spawned.map(Process::from_sys);
        }
        Process::hold_spawned(self.spawn_child(command)?)
    }

    /// Like [`spawn`](Scope::spawn), returning std's `Child` with its pipes
    /// (hold it with [`Process::from_child`] if you like).
    ///
    /// The `Child` must be the program and our own child, so in the keeper
    /// mode this spawn has no keeper: it leads a process group of its own,
    /// as in the process-group mode (a `setsid` escaper leaves it). Keep
    /// pipes with [`spawn_command`](Scope::spawn_command) and a descriptor
    /// ([`ChildStdio::Fd`](crate::ChildStdio)) to have them kept whole.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # #[cfg(unix)] {
    /// use std::process::{Command, Stdio};
    /// let scope = prochandle::Scope::new()?;
    /// let child = scope.spawn_child(Command::new("echo").arg("hi").stdout(Stdio::piped()))?;
    /// assert_eq!(child.wait_with_output()?.stdout, b"hi\n");
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn spawn_child(&self, command: &mut Command) -> Result<Child> {
        self.inner.prepare(command);
        let mut child = command.spawn().map_err(|e| {
            Error::os("spawn", e).with_detail(format!("cannot start {:?}", command.get_program()))
        })?;
        if let Err(err) = self.inner.started(&child) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(err);
        }
        Ok(child)
    }

    /// Spawns `command` into the scope and holds the new child, like
    /// [`spawn`](Scope::spawn), as cheaply as the system allows.
    ///
    /// On Linux (kernel 5.7+, x86-64 or aarch64) the scope spawns the
    /// child itself with `clone3`, sharing this process's memory until it
    /// execs (`CLONE_VM | CLONE_VFORK`, as `posix_spawn` does): no `fork`
    /// of this process, so it costs about a plain spawn. In the cgroup
    /// modes the kernel creates the child inside the cgroup
    /// (`CLONE_INTO_CGROUP`); in the others the child makes itself the
    /// leader of a new process group; the death signal is armed in the
    /// child either way. Where `clone3` is missing or refused (an older
    /// kernel, a seccomp filter), and on other systems, the command goes
    /// through std's `Command` as [`spawn`](Scope::spawn) does; the result
    /// is the same.
    ///
    /// In the keeper mode ([`MechanismKind::Keeper`](crate::MechanismKind::Keeper),
    /// the default where no cgroup can be made) the child is spawned by a
    /// keeper forked for it, which stays its parent and its tree's
    /// subreaper: `setsid` escapers stay members, and the whole tree dies
    /// if this process is killed, even with `SIGKILL`. The child is then
    /// not ours: [`Process::wait`] learns its status from the kernel's
    /// record once the keeper has reaped it (no resource usage). The same
    /// holds for [`spawn`](Scope::spawn).
    ///
    /// A program that cannot be run is an error of kind
    /// [`NotFound`](crate::ErrorKind::NotFound) (or
    /// [`PermissionDenied`](crate::ErrorKind::PermissionDenied)), and no
    /// child is left behind.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// use prochandle::{ErrorKind, Scope, ScopeCommand};
    /// let scope = Scope::new()?;
    /// let child = scope.spawn_command(&ScopeCommand::new("true"))?;
    /// assert!(child.wait()?.success());
    /// let missing = scope.spawn_command(&ScopeCommand::new("no-such-program-here"));
    /// assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn spawn_command(&self, command: &ScopeCommand) -> Result<Process> {
        if let Some(child) = self.inner.spawn_direct(&command.spec())? {
            return Ok(Process::from_sys(child));
        }
        let mut std_command = command.to_std().map_err(|e| {
            Error::os("spawn", e).with_detail(format!(
                "cannot start {:?}: duplicating a standard stream",
                command.get_program()
            ))
        })?;
        self.spawn(&mut std_command)
    }

    /// The live members, each pinned (by a pidfd or `HANDLE` where the
    /// system has them), zombies left out. On macOS and FreeBSD a process
    /// group cannot be listed: [`Unsupported`](crate::ErrorKind::Unsupported).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(target_os = "linux")] {
    /// let scope = prochandle::Scope::new()?;
    /// let child = scope.spawn(std::process::Command::new("sleep").arg("30"))?;
    /// let members = scope.members()?;
    /// assert_eq!(members.iter().map(|p| p.pid()).collect::<Vec<_>>(), [child.pid()]);
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn members(&self) -> Result<Vec<Process>> {
        self.inner
            .members()
            .map(|all| all.into_iter().map(Process::from_sys).collect())
    }

    /// Sends `signal` to every member. In the cgroup modes the tree is
    /// frozen meanwhile (`cgroup.freeze`), so it reaches every member of
    /// one instant, none forked half-way; in the subreaper mode, every
    /// member one sweep finds. On Windows only [`Signal::KILL`] exists.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        self.inner.signal(signal.as_raw())
    }

    /// Kills every member and returns when none is left alive, also when
    /// the tree forks while it is being killed: every mode repeats until a
    /// pass finds nobody (`cgroup.kill`; freeze, signal, thaw; sweeps;
    /// `TerminateJobObject`; pinned group members on Linux, `kill(-pgid)`
    /// elsewhere). Orphans re-parented to this process (subreaper mode) are
    /// reaped; the first children stay for their [`Process`] to reap. The
    /// process-group mode reaches only the group; on macOS and FreeBSD,
    /// which cannot tell a zombie member from a live one, its passes end
    /// once the group is empty or a few passes after its leader exited.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// let scope = prochandle::Scope::new()?;
    /// scope.spawn(std::process::Command::new("sleep").arg("30"))?;
    /// scope.kill()?;
    /// assert!(scope.is_empty()?);
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn kill(&self) -> Result<()> {
        self.inner.kill()
    }

    /// Whether no member is alive.
    pub fn is_empty(&self) -> Result<bool> {
        self.inner.is_empty()
    }

    /// Sleeps until the last member has exited (not only the first child).
    /// The cgroup mode sleeps in the kernel (`cgroup.events`); the
    /// subreaper mode on the members' pidfds, re-listing now and then for
    /// new forks; a Windows job until its completion port reports it
    /// empty (`JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO`); the others re-check
    /// with backoff. To await it with other
    /// work: [`Watcher::add_scope`](crate::Watcher::add_scope), or the
    /// `asyncio` `wait_empty` futures.
    pub fn wait_empty(&self) -> Result<()> {
        self.inner.wait_empty(None).map(drop)
    }

    /// Like [`wait_empty`](Scope::wait_empty), giving up after `timeout`;
    /// returns whether the scope is empty.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// use std::time::Duration;
    /// let scope = prochandle::Scope::new()?;
    /// scope.spawn(std::process::Command::new("sleep").arg("30"))?;
    /// assert!(!scope.wait_empty_timeout(Duration::from_millis(10))?);
    /// scope.kill()?;
    /// assert!(scope.wait_empty_timeout(Duration::from_secs(5))?);
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn wait_empty_timeout(&self, timeout: Duration) -> Result<bool> {
        self.inner.wait_empty(Instant::now().checked_add(timeout))
    }

    /// The mechanism this scope got.
    pub fn mechanism(&self) -> &Mechanism {
        &self.mechanism
    }

    /// The better mechanisms this scope did not get, best first, each with
    /// the reason.
    pub fn passed_over(&self) -> &[PassedOver] {
        &self.passed_over
    }

    /// Linux cgroup modes: the `cgroup.events` descriptor, which the
    /// kernel marks with `POLLPRI` (`EPOLLPRI`) whenever the scope becomes
    /// empty or populated again; register it with your own `poll`/`epoll`
    /// loop or async reactor and call [`is_empty`](Scope::is_empty) when it
    /// fires. `None` in the other modes.
    ///
    /// The kernel tracks per open file which notification was last read,
    /// and reading this descriptor (as `is_empty`, `kill` and the waits do)
    /// consumes it: a reactor of your own that others may race should open
    /// its own descriptor. [`Watcher::add_scope`](crate::Watcher::add_scope)
    /// and the `asyncio` `wait_empty` futures do so.
    #[cfg(unix)]
    pub fn events_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.inner.events_fd()
    }

    /// What tells a watcher's poller (or the async futures' reactor) of
    /// this scope's emptiness, opened for it alone: a new `cgroup.events` descriptor (Linux cgroup modes), a
    /// listener rung by the job's completion port (Windows); `None` where
    /// the scope must be re-checked (every other mode).
    pub(crate) fn empty_notifier(&self) -> Result<Option<sys::EmptyNotifier>> {
        self.inner.empty_notifier()
    }
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("mechanism", &self.mechanism)
            .field("passed_over", &self.passed_over)
            .finish()
    }
}

// A scope is shared with the threads that forward signals to it or wait
// for it to empty.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Scope>();
};
