//! The cgroup v2 mechanisms: a new leaf per scope, which every descendant
//! stays in (`setsid` and double forks included). Killed in one write to
//! `cgroup.kill` (5.14+), or, in the freeze variant, by freezing the leaf,
//! signalling every member and thawing it (5.2+). Either way the kill
//! repeats until the kernel reports the leaf unpopulated.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::super::cgroup::Cgroup;
use super::super::guardian::{Action, Guardian};
use super::super::spawn::{Place, Spec};
use super::owner::Owner;
use super::{accounting, limits, pin_listed, signal_each};
use crate::control::{ScopeLimits, ScopeStats};
use crate::error::{Error, ErrorKind, Result};
use crate::sys::scope::{reach, Listed, Request, ScopeMechanism, SoftStep};
use crate::sys::unix::errno::{os_error, Call};
use crate::sys::Process;

#[derive(Debug)]
pub(super) struct CgroupScope {
    cgroup: Cgroup,
    /// Killed by freeze, signal, thaw rather than `cgroup.kill`.
    freeze_only: bool,
    owner: Owner,
    kill_on_drop: bool,
}

fn events_error(e: std::io::Error) -> Error {
    Error::os("cgroup.events", e)
}

/// Makes `command`'s spawn fail with `error` (`cgroup.procs` could not be
/// opened, so its child could not join): a pre-exec hook that returns it
/// before anything of the program runs, outside the cgroup or not.
fn refuse_spawn(command: &mut Command, error: std::io::Error) {
    use std::os::unix::process::CommandExt;
    let errno = error.raw_os_error().unwrap_or(libc::EIO);
    // SAFETY: the hook only builds an error from a number (no allocation,
    // no call at all).
    unsafe { command.pre_exec(move || Err(std::io::Error::from_raw_os_error(errno))) };
}

impl CgroupScope {
    pub(super) fn new(cgroup: Cgroup, freeze_only: bool, request: &Request) -> CgroupScope {
        CgroupScope {
            cgroup,
            freeze_only,
            owner: Owner::new(request),
            kill_on_drop: request.kill_on_drop,
        }
    }

    fn started_pid(&self) -> Result<()> {
        self.owner.guard(|| self.start_guardian()).map(drop)
    }

    /// A guardian that writes `cgroup.kill` and removes the leaf.
    fn start_guardian(&self) -> Result<Guardian> {
        let Some(kill) = self.cgroup.kill_fd() else {
            return Err(Error::unsupported(
                "guardian",
                "the guardian needs cgroup.kill (Linux 5.14+)",
            ));
        };
        let (parent, name) = self.cgroup.parent_and_name();
        Guardian::start(Action::Cgroup {
            kill,
            events: self.cgroup.events_fd(),
            parent,
            name,
        })
    }

    /// Runs `f` over the pinned members while none can fork or exit
    /// (frozen), so that it sees the whole tree as it is at one instant;
    /// a tree frozen before stays frozen.
    ///
    /// The wait for `frozen 1` is bounded: a member in an uninterruptible
    /// sleep (a dead NFS server, a stuck FUSE daemon) freezes only when it
    /// leaves it, and a signal must not wait for that. Past the bound `f`
    /// runs on the tree as listed then, the members that did freeze still
    /// held; a member that forks in that moment may leave a child `f` did
    /// not see (a kill repeats until the cgroup is empty, so only a
    /// non-fatal signal can miss it).
    fn while_frozen<T>(&self, f: impl FnOnce(Vec<Process>) -> Result<T>) -> Result<T> {
        const FREEZE_PATIENCE: Duration = Duration::from_secs(1);
        let was_frozen = self.cgroup.is_frozen().map_err(events_error)?;
        let toggle = self.cgroup.has_freeze_file() && !was_frozen;
        if toggle {
            self.cgroup
                .freeze_until(Some(Instant::now() + FREEZE_PATIENCE))
                .map_err(|e| Error::os("cgroup.freeze", e))?;
        }
        let result = pin_listed(|| self.cgroup.pids()).and_then(f);
        if toggle {
            self.cgroup
                .set_frozen(false)
                .map_err(|e| Error::os("cgroup.freeze", e))?;
        }
        result
    }

    /// Signals every member while none can fork or exit (frozen), so that
    /// the signal reaches the whole tree as it is at one instant.
    fn signal_frozen(&self, sig: i32) -> Result<()> {
        self.while_frozen(|all| signal_each(&all, sig))
    }

    fn freezer(&self) -> Result<()> {
        if self.cgroup.has_freeze_file() {
            return Ok(());
        }
        Err(Error::unsupported(
            "freeze",
            "the cgroup has no cgroup.freeze (Linux 5.2+)",
        ))
    }
}

impl ScopeMechanism for CgroupScope {
    fn prepare(&self, command: &mut Command) {
        // The guardian needs only the leaf: started before the first
        // child, the tree is never without it (an owner killed between
        // the spawn and the guardian's fork would leave the tree). An
        // error here is told by `started`, which tries again.
        let _ = self.started_pid();
        match self.cgroup.procs_for_hook() {
            Ok(procs) => self.owner.hook(command, Some(procs)),
            Err(e) => refuse_spawn(command, e),
        }
    }

    fn started(&self, _child: &Child) -> Result<()> {
        let started = self.started_pid();
        self.cgroup.sweep_stale_once();
        started
    }

    /// `CLONE_INTO_CGROUP`: the child starts inside the leaf.
    fn spawn_direct(&self, spec: &Spec<'_>) -> Result<Option<Process>> {
        // The guardian before the child, as in `prepare` (where `clone3`
        // is refused, the std path that follows starts it there).
        let place = Place::Cgroup(self.cgroup.dir_fd());
        let spawned = super::spawn_direct(
            place,
            spec,
            self.owner.death_signal,
            || self.started_pid(),
            |_| self.started_pid(),
        );
        self.cgroup.sweep_stale_once();
        spawned
    }

    fn members(&self) -> Result<Vec<Process>> {
        pin_listed(|| self.cgroup.pids())
    }

    fn signal(&self, sig: i32) -> Result<()> {
        self.signal_frozen(sig)
    }

    fn kill(&self) -> Result<()> {
        while self.cgroup.populated().map_err(events_error)? {
            if self.freeze_only {
                self.signal_frozen(libc::SIGKILL)?;
            } else {
                self.cgroup
                    .kill_all()
                    .map_err(|e| Error::os("cgroup.kill", e))?;
            }
            // SIGKILL cannot be blocked: the wait is short, but it is the
            // kernel's to end, so the loop has no deadline.
            let soon = Instant::now() + Duration::from_secs(1);
            self.cgroup
                .wait_empty_soon(Some(soon))
                .map_err(events_error)?;
        }
        Ok(())
    }

    fn is_empty(&self) -> Result<bool> {
        self.cgroup.populated().map(|p| !p).map_err(events_error)
    }

    fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool> {
        self.cgroup
            .wait_empty(deadline)
            .map_err(|e| Error::os("poll cgroup.events", e))
    }

    fn events_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.cgroup.events_fd())
    }

    /// A new descriptor of `cgroup.events`, an open file of its own. The
    /// kernel tracks per open file which notification a reader last saw,
    /// so a watcher on this one misses nothing when others read the
    /// scope's own descriptor (`is_empty`, `kill`).
    fn empty_notifier(&self) -> Result<Option<OwnedFd>> {
        // std opens with O_CLOEXEC.
        let file = std::fs::File::open(self.cgroup.path().join("cgroup.events"))
            .map_err(|e| os_error(Call::NewDescriptor, "open cgroup.events", e))?;
        Ok(Some(file.into()))
    }

    /// `cgroup.freeze`, and the wait for `frozen 1`.
    fn freeze(&self) -> Result<()> {
        self.freezer()?;
        self.cgroup
            .set_frozen(true)
            .map_err(|e| Error::os("cgroup.freeze", e))
    }

    fn freeze_until(&self, deadline: Instant) -> Result<bool> {
        self.freezer()?;
        self.cgroup
            .freeze_until(Some(deadline))
            .map_err(|e| Error::os("cgroup.freeze", e))
    }

    fn thaw(&self) -> Result<()> {
        self.freezer()?;
        self.cgroup
            .set_frozen(false)
            .map_err(|e| Error::os("cgroup.freeze", e))
    }

    fn is_frozen(&self) -> Result<bool> {
        self.freezer()?;
        self.cgroup.is_frozen().map_err(events_error)
    }

    fn stats(&self) -> Result<ScopeStats> {
        accounting::cgroup_stats(&self.cgroup)
    }

    fn set_limits(&self, limits: &ScopeLimits) -> Result<()> {
        limits::apply(self.cgroup.path(), limits)
    }

    /// Writes the PID to `cgroup.procs`, then confirms through the handle
    /// that the process is still alive (so the PID was its own all along)
    /// and listed in the cgroup.
    fn adopt(&self, process: &Process) -> Result<()> {
        let gone = || Error::done("adopt");
        if process.has_exited()? {
            return Err(gone());
        }
        match self.cgroup.move_in(process.pid()) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Err(gone()),
            Err(e) => return Err(Error::os("cgroup.procs", e)),
            Ok(()) => {}
        }
        let listed = self
            .cgroup
            .pids()
            .map_err(|e| Error::os("cgroup.procs", e))?;
        if process.has_exited()? {
            return Err(gone());
        }
        if !listed.contains(&(process.pid() as i32)) {
            return Err(Error::new(ErrorKind::Other, "adopt")
                .with_detail("the process is not in the cgroup after it was moved there"));
        }
        Ok(())
    }

    /// The signal to every member while the tree is frozen: no member
    /// forks past it.
    fn stop_signal(&self, sig: i32) -> Result<SoftStep> {
        self.while_frozen(|all| {
            let mut members = Vec::with_capacity(all.len());
            for member in all {
                let listing = Listed::describe(member);
                let reached = reach(&listing.process, sig)?;
                members.push((listing, reached));
            }
            Ok(SoftStep {
                members,
                sent: true,
            })
        })
    }
}

impl Drop for CgroupScope {
    fn drop(&mut self) {
        self.cgroup.sweep_stale_once();
        if self.kill_on_drop {
            let _ = self.kill();
        }
        // Empty once killed; left in place (it must be, with members in
        // it) when the tree was told to outlive the scope.
        if !self.cgroup.populated().unwrap_or(true) {
            // Nothing left for the guardian to kill: told to go now, it
            // exits while we remove the directory (it is reaped after).
            // An owner killed in between leaves only the empty directory,
            // which the next scope made beside it removes.
            self.owner.retire_guardian();
            let _ = self.cgroup.remove();
        }
    }
}
