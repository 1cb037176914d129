//! The cgroup v2 mechanisms: a new leaf per scope, which every descendant
//! stays in (`setsid` and double forks included). Killed in one write to
//! `cgroup.kill` (5.14+), or, in the freeze variant, by freezing the leaf,
//! signalling every member and thawing it (5.2+). Either way the kill
//! repeats until the kernel reports the leaf unpopulated.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::super::cgroup::Cgroup;
use super::super::guardian::{Action, Guardian};
use super::super::spawn::{Place, Spec};
use super::owner::Owner;
use super::{pin_listed, signal_each};
use crate::error::{Error, Result};
use crate::sys::scope::{Request, ScopeMechanism};
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
        let (parent, name) = self
            .cgroup
            .parent_and_name()
            .map_err(|e| Error::os("open the cgroup's parent", e))?;
        Guardian::start(Action::Cgroup {
            kill,
            events: self.cgroup.events_fd(),
            parent: parent.as_fd(),
            name: &name,
        })
    }

    /// Signals every member while none can fork or exit (frozen), so that
    /// the signal reaches the whole tree as it is at one instant.
    fn signal_frozen(&self, sig: i32) -> Result<()> {
        let frozen = self.cgroup.has_freeze_file();
        let freeze = |on| {
            self.cgroup
                .set_frozen(on)
                .map_err(|e| Error::os("cgroup.freeze", e))
        };
        if frozen {
            freeze(true)?;
        }
        let result = pin_listed(|| self.cgroup.pids()).and_then(|all| signal_each(&all, sig));
        if frozen {
            freeze(false)?;
        }
        result
    }
}

impl ScopeMechanism for CgroupScope {
    fn prepare(&self, command: &mut Command) {
        // The guardian needs only the leaf: started before the first
        // child, the tree is never without it (an owner killed between
        // the spawn and the guardian's fork would leave the tree). An
        // error here is told by `started`, which tries again.
        let _ = self.started_pid();
        self.owner.hook(command, Some(self.cgroup.procs_for_hook()));
    }

    fn started(&self, _child: &Child) -> Result<()> {
        self.started_pid()
    }

    /// `CLONE_INTO_CGROUP`: the child starts inside the leaf.
    fn spawn_direct(&self, spec: &Spec<'_>) -> Result<Option<Process>> {
        // The guardian before the child, as in `prepare`.
        self.started_pid()?;
        let place = Place::Cgroup(self.cgroup.dir_fd());
        super::spawn_direct(place, spec, self.owner.death_signal, |_| self.started_pid())
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
}

impl Drop for CgroupScope {
    fn drop(&mut self) {
        if self.kill_on_drop {
            let _ = self.kill();
        }
        // Empty once killed; left in place (it must be, with members in
        // it) when the tree was told to outlive the scope.
        if !self.cgroup.populated().unwrap_or(true) {
            let _ = self.cgroup.remove();
        }
    }
}
