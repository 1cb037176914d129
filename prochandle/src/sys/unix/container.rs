//! The Unix container behind `Scope`: a cgroup v2 leaf or a subreaper on
//! Linux, a process group everywhere. Choosing (`choose.rs` on Linux) and
//! the mechanisms themselves live beside it; this file holds what every
//! mode shares: the pre-exec hooks, membership, signals, waits, drop.

#[cfg(target_os = "linux")]
use std::io;
use std::os::fd::BorrowedFd;
#[cfg(target_os = "linux")]
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
#[cfg(target_os = "linux")]
use std::sync::{Arc, OnceLock};
use std::time::Instant;

#[cfg(not(target_os = "linux"))]
use super::errno::{self, Call};
#[cfg(target_os = "linux")]
use super::linux::spawn::{self, Place, Spawned, Spec};
#[cfg(target_os = "linux")]
use super::linux::{cgroup::Cgroup, guardian::Guardian, subreaper::Subreaper};
use super::pgroup::Group;
use super::Process;
#[cfg(target_os = "linux")]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::sys::container::{Chosen, Request};

/// The mechanism of one container.
#[derive(Debug)]
pub(crate) enum Inner {
    #[cfg(target_os = "linux")]
    Cgroup {
        cgroup: Cgroup,
        freeze_only: bool,
    },
    #[cfg(target_os = "linux")]
    Subreaper(Subreaper),
    Group,
}

/// One container: a tree of processes spawned into it.
#[derive(Debug)]
pub(crate) struct Container {
    pub(crate) inner: Inner,
    pub(crate) chosen: Chosen,
    pub(crate) request: Request,
    /// The process group (subreaper and process-group modes).
    pub(crate) group: Group,
    #[cfg(target_os = "linux")]
    pub(crate) guardian: OnceLock<Guardian>,
}

#[cfg(target_os = "linux")]
/// Opens `pid` for a member list; `None` if it is gone already.
fn pin(pid: i32) -> Result<Option<Process>> {
    match Process::open(pid as u32) {
        Ok(p) => Ok(Some(p)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Done) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(target_os = "linux")]
/// Pins every PID of `list()`, then keeps those that `list()` still names
/// while they are pinned: a PID reused between the two reads names a
/// process outside the container, which the second read does not list.
fn pin_listed(list: impl Fn() -> io::Result<Vec<i32>>) -> Result<Vec<Process>> {
    let os = |e| Error::os("list members", e);
    let mut pinned = Vec::new();
    for pid in list().map_err(os)? {
        pinned.extend(pin(pid)?);
    }
    let now: std::collections::HashSet<i32> = list().map_err(os)?.into_iter().collect();
    pinned.retain(|p| now.contains(&(p.pid() as i32)));
    Ok(pinned)
}

#[cfg(target_os = "linux")]
fn ignore_done(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() == ErrorKind::Done => Ok(()),
        r => r,
    }
}

impl Container {
    /// Adds the hooks that put a child spawned from `command` into the
    /// container before it runs its program.
    pub(crate) fn prepare(&self, command: &mut Command) {
        if self.uses_group() {
            command.process_group(0);
        }
        #[cfg(target_os = "linux")]
        {
            let procs: Option<Arc<OwnedFd>> = match &self.inner {
                Inner::Cgroup { cgroup, .. } => Some(cgroup.procs_for_hook()),
                _ => None,
            };
            let death = self.request.death_signal;
            if procs.is_none() && death.is_none() {
                // No hook: std keeps its posix_spawn path (vfork-like).
                return;
            }
            let parent = std::process::id() as i32;
            let hook = move || -> io::Result<()> {
                if let Some(procs) = &procs {
                    super::linux::cgroup::join(procs.as_fd())?;
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
    }

    fn uses_group(&self) -> bool {
        match self.inner {
            #[cfg(target_os = "linux")]
            Inner::Subreaper(_) => true,
            #[cfg(target_os = "linux")]
            Inner::Cgroup { .. } => false,
            Inner::Group => true,
        }
    }

    /// Records a child spawned with [`prepare`](Container::prepare)'s hooks.
    pub(crate) fn started(&self, child: &Child) -> Result<()> {
        self.started_pid(child.id())
    }

    /// Records our new child `pid`, however it was spawned.
    fn started_pid(&self, pid: u32) -> Result<()> {
        if self.uses_group() {
            self.group.started(pid);
        }
        #[cfg(target_os = "linux")]
        {
            if let Inner::Subreaper(s) = &self.inner {
                s.add_root(pid);
            }
            self.start_guardian()?;
        }
        Ok(())
    }

    /// Where the kernel and this architecture allow: spawns `spec` with
    /// `clone3`, vfork-like, straight into the cgroup (cgroup modes) or as
    /// the leader of a new process group (the others): no `fork` and no
    /// pre-exec write. `None` when the caller must spawn through std's
    /// `Command` instead (no `clone3`, no `CLONE_INTO_CGROUP`, or a filter
    /// that refuses it).
    #[cfg(target_os = "linux")]
    pub(crate) fn spawn_direct(&self, spec: &Spec<'_>) -> Result<Option<Process>> {
        if !spawn::available() {
            return Ok(None);
        }
        let place = match &self.inner {
            Inner::Cgroup { cgroup, .. } => Place::Cgroup(cgroup.dir_fd()),
            Inner::Subreaper(_) | Inner::Group => Place::NewGroup,
        };
        let spec = Spec {
            death_signal: self.request.death_signal,
            ..*spec
        };
        let pid = match spawn::spawn(place, &spec) {
            Ok(Spawned::Child(pid)) => pid,
            Ok(Spawned::Refused) => return Ok(None),
            Err(e) => {
                return Err(
                    Error::os("spawn", e).with_detail(format!("cannot start {:?}", spec.program))
                )
            }
        };
        let process = Process::from_child_pid(pid).inspect_err(|_| spawn::reap(pid))?;
        if let Err(err) = self.started_pid(pid as u32) {
            let _ = process.signal(libc::SIGKILL);
            let _ = process.wait_until(None);
            return Err(err);
        }
        Ok(Some(process))
    }

    /// The live members, each pinned.
    pub(crate) fn members(&self) -> Result<Vec<Process>> {
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::Cgroup { cgroup, .. } => pin_listed(|| cgroup.pids()),
            #[cfg(target_os = "linux")]
            Inner::Subreaper(s) => s.members(),
            #[cfg(target_os = "linux")]
            Inner::Group => pin_listed(|| self.group.pids()),
            #[cfg(not(target_os = "linux"))]
            Inner::Group => Err(Error::unsupported(
                "members",
                "this system offers no way to list a process group",
            )),
        }
    }

    /// Sends `sig` to every member.
    pub(crate) fn signal(&self, sig: i32) -> Result<()> {
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::Cgroup { cgroup, .. } => self.signal_frozen(cgroup, sig),
            #[cfg(target_os = "linux")]
            Inner::Subreaper(s) => s.signal(sig),
            #[cfg(target_os = "linux")]
            Inner::Group => {
                for member in pin_listed(|| self.group.pids())? {
                    ignore_done(member.signal(sig))?;
                }
                Ok(())
            }
            #[cfg(not(target_os = "linux"))]
            Inner::Group => self
                .group
                .signal(sig)
                .map_err(|e| errno::os_error(Call::Signal, "kill", e)),
        }
    }

    /// Signals every member while none can fork or exit (frozen), so that
    /// the signal reaches the whole tree as it is at one instant.
    #[cfg(target_os = "linux")]
    fn signal_frozen(&self, cgroup: &Cgroup, sig: i32) -> Result<()> {
        let frozen = cgroup.has_freeze_file();
        if frozen {
            cgroup
                .set_frozen(true)
                .map_err(|e| Error::os("cgroup.freeze", e))?;
        }
        let result = (|| {
            for member in pin_listed(|| cgroup.pids())? {
                ignore_done(member.signal(sig))?;
            }
            Ok(())
        })();
        if frozen {
            cgroup
                .set_frozen(false)
                .map_err(|e| Error::os("cgroup.freeze", e))?;
        }
        result
    }

    /// Kills every member; returns when none is left alive.
    pub(crate) fn kill(&self) -> Result<()> {
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::Cgroup {
                cgroup,
                freeze_only,
            } => {
                while cgroup
                    .populated()
                    .map_err(|e| Error::os("cgroup.events", e))?
                {
                    if *freeze_only {
                        self.signal_frozen(cgroup, libc::SIGKILL)?;
                    } else {
                        cgroup.kill_all().map_err(|e| Error::os("cgroup.kill", e))?;
                    }
                    // SIGKILL cannot be blocked: the wait is short, but it
                    // is the kernel's to end, so it has no deadline.
                    let soon = Instant::now() + std::time::Duration::from_secs(1);
                    cgroup
                        .wait_empty_soon(Some(soon))
                        .map_err(|e| Error::os("cgroup.events", e))?;
                }
                Ok(())
            }
            #[cfg(target_os = "linux")]
            Inner::Subreaper(s) => s.kill(),
            Inner::Group => {
                self.signal(libc::SIGKILL)?;
                #[cfg(target_os = "linux")]
                self.wait_empty(None)?;
                Ok(())
            }
        }
    }

    /// Whether no member is alive.
    pub(crate) fn is_empty(&self) -> Result<bool> {
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::Cgroup { cgroup, .. } => cgroup
                .populated()
                .map(|p| !p)
                .map_err(|e| Error::os("cgroup.events", e)),
            #[cfg(target_os = "linux")]
            Inner::Subreaper(s) => s.is_empty(),
            Inner::Group => self
                .group
                .is_empty()
                .map_err(|e| Error::os("list members", e)),
        }
    }

    /// Sleeps until no member is alive, or `deadline` passes.
    pub(crate) fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool> {
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::Cgroup { cgroup, .. } => cgroup
                .wait_empty(deadline)
                .map_err(|e| Error::os("poll cgroup.events", e)),
            #[cfg(target_os = "linux")]
            Inner::Subreaper(s) => s.wait_empty(deadline),
            Inner::Group => Ok(crate::backoff::poll_until(deadline, || {
                self.is_empty().map(|empty| empty.then_some(()))
            })?
            .is_some()),
        }
    }

    /// The descriptor the kernel marks readable (POLLPRI) when the
    /// container's emptiness changes, where there is one.
    pub(crate) fn events_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.inner {
            #[cfg(target_os = "linux")]
            Inner::Cgroup { cgroup, .. } => Some(cgroup.events_fd()),
            _ => None,
        }
    }

    /// Cgroup modes: a new descriptor of `cgroup.events`, an open file of
    /// its own. The kernel tracks per open file which notification a
    /// reader last saw, so a watcher on this one misses nothing when
    /// others read the container's own descriptor (`is_empty`, `kill`).
    /// `None` in the other modes.
    #[cfg(target_os = "linux")]
    pub(crate) fn open_events(&self) -> Result<Option<std::os::fd::OwnedFd>> {
        match &self.inner {
            Inner::Cgroup { cgroup, .. } => {
                // std opens with O_CLOEXEC.
                let file =
                    std::fs::File::open(cgroup.path().join("cgroup.events")).map_err(|e| {
                        super::errno::os_error(
                            super::errno::Call::NewDescriptor,
                            "open cgroup.events",
                            e,
                        )
                    })?;
                Ok(Some(file.into()))
            }
            _ => Ok(None),
        }
    }

    /// Starts the guardian on the first spawn, if asked for.
    #[cfg(target_os = "linux")]
    fn start_guardian(&self) -> Result<()> {
        use super::linux::guardian::Action;
        if !self.request.guardian || self.guardian.get().is_some() {
            return Ok(());
        }
        let guardian = match &self.inner {
            Inner::Cgroup { cgroup, .. } => {
                let Some(kill) = cgroup.kill_fd() else {
                    return Err(Error::unsupported(
                        "guardian",
                        "the guardian needs cgroup.kill (Linux 5.14+)",
                    ));
                };
                let (parent, name) = cgroup
                    .parent_and_name()
                    .map_err(|e| Error::os("open the cgroup's parent", e))?;
                Guardian::start(Action::Cgroup {
                    kill,
                    events: cgroup.events_fd(),
                    parent: parent.as_fd(),
                    name: &name,
                })?
            }
            _ => Guardian::start(Action::KillGroup(self.group.pgid().unwrap_or(0)))?,
        };
        if let Inner::Subreaper(s) = &self.inner {
            s.exclude(guardian.pid());
        }
        let _ = self.guardian.set(guardian);
        Ok(())
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if self.request.kill_on_drop {
            let _ = self.kill();
        }
        #[cfg(target_os = "linux")]
        if let Inner::Cgroup { cgroup, .. } = &self.inner {
            // Empty once killed; left in place (it must be, with members
            // in it) when the tree was told to outlive the scope.
            if !cgroup.populated().unwrap_or(true) {
                let _ = cgroup.remove();
            }
        }
    }
}
