//! The scope without a writable cgroup that still holds its tree when the
//! owner dies: each member gets a keeper of its own (`../spawn/kept.rs`),
//! a small process that is the member's parent and the child subreaper of
//! its tree. `setsid` escapers come to the keeper, never past it, and the
//! keeper kills the whole tree when the owner's end of its link closes,
//! `SIGKILL` of the owner included. Nothing process-wide changes here, so
//! it needs no opt-in. `spawn_command` forks the keeper itself;
//! `Scope::spawn` has std's child become the keeper (a pre-exec hook).
//!
//! A member of `spawn_child` must be this process's own child (std's
//! `Child` is returned): it is held as the process-group mechanism holds
//! it (a group of its own, the guardian).
//!
//! A kept member is not our child: its exit status comes from the kernel
//! (`PIDFD_INFO_EXIT`, Linux 6.15) once its keeper has reaped it, which
//! is why the mechanism is offered only where the kernel keeps it.

use std::os::fd::OwnedFd;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::super::spawn::{self, kept, Spec};
use super::super::subreaper::is_zombie;
use super::super::tree;
use super::accounting::{ticks_of, Ticks};
use super::group::ListedGroup;
use super::signal_each;
use super::stop_sweeps::{freeze_by_sweeps, StopSweeps};
use crate::control::{Measure, ScopeStats};
use crate::error::{Error, ErrorKind, Result};
use crate::sys::scope::{Request, ScopeMechanism};
use crate::sys::Process;

/// One keeper: our child, and our end of its link.
#[derive(Debug)]
struct Keeper {
    process: Process,
    link: OwnedFd,
}

#[derive(Debug)]
pub(super) struct KeptScope {
    /// The members spawned through std's `Command`.
    listed: ListedGroup,
    keepers: Mutex<Vec<Keeper>>,
    /// The CPU time of the keepers reaped (each with all it reaped).
    reaped: Mutex<Ticks>,
    /// Keepers kill their tree when this process dies.
    guard: bool,
    death_signal: Option<i32>,
    kill_on_drop: bool,
    stops: StopSweeps,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a kept scope can be made here: the fast spawn, children listed
/// in `/proc` (the keeper's sweeps), and exit statuses the kernel keeps
/// for processes that are not our children.
pub(super) fn available() -> std::result::Result<(), &'static str> {
    use crate::capabilities::Feature;
    if !kept::available() {
        return Err("the kernel (or a filter) refuses clone3, which the keeper spawns with");
    }
    if !std::path::Path::new("/proc/thread-self/children").exists() {
        return Err(
            "the kernel lists no children in /proc (CONFIG_PROC_CHILDREN), which the \
                    keeper's sweeps read",
        );
    }
    if !super::super::capabilities().is_available(Feature::PidfdInfoExit) {
        return Err(
            "a kept member is not our child, and this kernel keeps no exit status \
                    for others (PIDFD_INFO_EXIT, Linux 6.15)",
        );
    }
    Ok(())
}

impl KeptScope {
    pub(super) fn new(request: &Request) -> KeptScope {
        KeptScope {
            listed: ListedGroup::new(request),
            keepers: Mutex::new(Vec::new()),
            reaped: Mutex::new(Ticks::default()),
            guard: request.guardian,
            // The death signal follows the member's parent, the keeper,
            // which outlives the tree unless it lets the tree go (a scope
            // not killed on drop): then no death signal.
            death_signal: request.death_signal.filter(|_| request.kill_on_drop),
            kill_on_drop: request.kill_on_drop,
            stops: StopSweeps::default(),
        }
    }

    /// Reaps the keepers that exited (their trees are gone), keeping
    /// their CPU account.
    fn reap_keepers(&self, keepers: &mut Vec<Keeper>) -> Result<()> {
        let mut i = 0;
        while i < keepers.len() {
            let keeper = &keepers[i].process;
            if !keeper.has_exited()? {
                i += 1;
                continue;
            }
            // Read before reaping: a zombie keeper still shows what it
            // reaped.
            let ticks = ticks_of(keeper.pid()).unwrap_or_default();
            keeper.try_wait()?;
            lock(&self.reaped).add(ticks);
            keepers.swap_remove(i);
        }
        Ok(())
    }

    /// The live members below the keepers, each pinned.
    fn kept_members(&self) -> Result<Vec<Process>> {
        let mut keepers = lock(&self.keepers);
        self.reap_keepers(&mut keepers)?;
        let mut out = Vec::new();
        for keeper in keepers.iter() {
            match tree::descendants(&keeper.process) {
                Ok(below) => out.extend(below.into_iter().filter(|p| !is_zombie(p))),
                Err(e) if e.kind() == ErrorKind::Done => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    fn spawn_kept(&self, spec: &Spec<'_>) -> Result<Process> {
        let spec = Spec {
            death_signal: self.death_signal,
            ..*spec
        };
        // The keeper is our child: held only while the kernel leaves our
        // children to us, as every spawn of the crate is.
        crate::sys::unix::guarded::sigchld_not_ignored()?;
        let cannot =
            |e| Error::os("spawn", e).with_detail(format!("cannot start {:?}", spec.program));
        let started = kept::spawn(&spec, self.guard).map_err(cannot)?;
        let keeper =
            Process::from_child_pid(started.keeper).inspect_err(|_| spawn::reap(started.keeper))?;
        self.hold(keeper, started)
    }

    /// `Scope::spawn` with std's `Command`: std's child becomes the
    /// keeper (a pre-exec hook) and forks the member, which execs the
    /// program as the command says.
    fn spawn_std_kept(&self, command: &mut Command) -> Result<Process> {
        crate::sys::unix::guarded::sigchld_not_ignored()?;
        let program = command.get_program().to_owned();
        let cannot = |e| Error::os("spawn", e).with_detail(format!("cannot start {program:?}"));
        let pending = kept::prepare_std(command, self.guard, self.death_signal).map_err(cannot)?;
        // An `execve` that fails in the member is std's error here; the
        // keeper then exits and std reaps it.
        let child = command.spawn().map_err(cannot)?;
        let keeper = Process::from_child(&child)?;
        drop(child);
        let started = match pending.started(keeper.pid() as i32) {
            Ok(started) => started,
            Err(err) => {
                let _ = keeper.signal(libc::SIGKILL);
                let _ = keeper.wait_until(None);
                return Err(cannot(err));
            }
        };
        self.hold(keeper, started)
    }

    /// Pins the member of a started keeper, tells the keeper so, and keeps
    /// the keeper (reaping the ones whose trees ended).
    fn hold(&self, keeper: Process, started: kept::Kept) -> Result<Process> {
        let member = match Process::open(started.member as u32) {
            Ok(member) => member,
            Err(err) => {
                let _ = kept::kill(&started.link);
                let _ = keeper.wait_until(None);
                return Err(err);
            }
        };
        // A keeper gone already (killed from outside) took its tree along.
        let _ = started.pinned();
        let mut keepers = lock(&self.keepers);
        // The keepers whose trees ended are reaped here too, so that a
        // scope that spawns for long leaves no zombie behind.
        self.reap_keepers(&mut keepers)?;
        keepers.push(Keeper {
            process: keeper,
            link: started.link,
        });
        Ok(member)
    }

    /// Asks every keeper to kill its tree and waits until each has, and
    /// exited (it exits once it has no child).
    fn kill_kept(&self) -> Result<()> {
        let mut keepers = lock(&self.keepers);
        for keeper in keepers.iter() {
            let _ = kept::kill(&keeper.link);
        }
        for keeper in keepers.iter() {
            keeper.process.wait_until(None)?;
        }
        self.reap_keepers(&mut keepers)
    }
}

impl ScopeMechanism for KeptScope {
    fn prepare(&self, command: &mut Command) {
        self.listed.prepare(command);
    }

    fn started(&self, child: &std::process::Child) -> Result<()> {
        self.listed.started(child)
    }

    fn spawn_std(&self, command: &mut Command) -> Option<Result<Process>> {
        Some(self.spawn_std_kept(command))
    }

    fn spawn_direct(&self, spec: &Spec<'_>) -> Result<Option<Process>> {
        self.spawn_kept(spec).map(Some)
    }

    fn members(&self) -> Result<Vec<Process>> {
        let mut all = self.listed.members()?;
        all.extend(self.kept_members()?);
        Ok(all)
    }

    fn signal(&self, sig: i32) -> Result<()> {
        self.listed.signal(sig)?;
        signal_each(&self.kept_members()?, sig)
    }

    fn kill(&self) -> Result<()> {
        self.listed.kill()?;
        self.kill_kept()
    }

    fn is_empty(&self) -> Result<bool> {
        Ok(self.listed.is_empty()? && self.kept_members()?.is_empty())
    }

    fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool> {
        let found = crate::backoff::poll_until(deadline, || {
            self.is_empty().map(|empty| empty.then_some(()))
        })?;
        Ok(found.is_some())
    }

    freeze_by_sweeps!(stops);

    /// The kept trees' CPU time is known (the live members', each with
    /// what it reaped, and what the keepers reaped); the std-spawned
    /// members' only while none has ended.
    fn stats(&self) -> Result<ScopeStats> {
        let listed = self.listed.stats()?;
        let kept = self.kept_members()?;
        let mut total = *lock(&self.reaped);
        for keeper in lock(&self.keepers).iter() {
            total.add(ticks_of(keeper.process.pid()).unwrap_or_default());
        }
        for member in &kept {
            if let Some(t) = ticks_of(member.pid()).filter(|_| !is_zombie(member)) {
                total.add(t);
            }
        }
        let live = listed.live.known().copied().unwrap_or(0) + kept.len() as u64;
        let (user, system) = total.durations();
        let why = "a member spawned through std's Command is held by its process group, \
                   which keeps no account";
        let cpu = |d| {
            if self.listed.has_spawned() {
                Measure::absent(why)
            } else {
                Measure::Known(d)
            }
        };
        Ok(ScopeStats {
            cpu_user: cpu(user),
            cpu_system: cpu(system),
            live: Measure::Known(live),
            started: Measure::absent("without a cgroup the system keeps no such count"),
            peak_memory: Measure::absent("without a cgroup the system keeps no such count"),
        })
    }

    fn adopt(&self, _process: &Process) -> Result<()> {
        Err(Error::unsupported(
            "adopt",
            "a keeper holds only the tree it spawned (a cgroup scope or a Windows job can adopt)",
        ))
    }
}

impl Drop for KeptScope {
    fn drop(&mut self) {
        let keepers = std::mem::take(&mut *lock(&self.keepers));
        for keeper in &keepers {
            let _ = if self.kill_on_drop {
                kept::kill(&keeper.link)
            } else {
                kept::detach(&keeper.link)
            };
        }
        for keeper in keepers {
            drop(keeper.link);
            let _ = keeper.process.wait_until(None);
        }
    }
}
