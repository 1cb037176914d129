//! The subreaper mechanism: this process is the child subreaper (the
//! caller opted in), so the tree's orphans come to us instead of to init;
//! each first child also leads a process group of its own, which the
//! guardian kills. The sweeps themselves are `../subreaper.rs`.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::Instant;

use super::super::guardian::{Action, Guardian};
use super::super::spawn::{Place, Spec};
use super::super::subreaper::Subreaper;
use super::owner::Owner;
use super::stop_sweeps::StopSweeps;
use crate::control::ScopeStats;
use crate::error::{Error, Result};
use crate::sys::scope::{Request, ScopeMechanism};
use crate::sys::unix::pgroup::Group;
use crate::sys::Process;

#[derive(Debug)]
pub(super) struct SubreaperScope {
    sweeps: Subreaper,
    group: Group,
    owner: Owner,
    kill_on_drop: bool,
    stops: StopSweeps,
}

impl SubreaperScope {
    pub(super) fn new(request: &Request) -> SubreaperScope {
        SubreaperScope {
            sweeps: Subreaper::default(),
            group: Group::default(),
            owner: Owner::new(request),
            kill_on_drop: request.kill_on_drop,
            stops: StopSweeps::default(),
        }
    }

    fn started_pid(&self, pid: u32) -> Result<()> {
        self.group.started(pid);
        self.sweeps.add_root(pid);
        let pgid = self.group.first().unwrap_or(0);
        let guardian = self
            .owner
            .guard(|| Guardian::start(Action::KillGroup(pgid)))?;
        if let Some(pid) = guardian {
            // Our child, but never a member.
            self.sweeps.exclude(pid);
        }
        Ok(())
    }
}

impl ScopeMechanism for SubreaperScope {
    fn prepare(&self, command: &mut Command) {
        command.process_group(0);
        self.owner.hook(command, None);
    }

    fn started(&self, child: &Child) -> Result<()> {
        self.started_pid(child.id())
    }

    fn spawn_direct(&self, spec: &Spec<'_>) -> Result<Option<Process>> {
        let death = self.owner.death_signal;
        super::spawn_direct(Place::NewGroup, spec, death, |pid| self.started_pid(pid))
    }

    fn members(&self) -> Result<Vec<Process>> {
        self.sweeps.members()
    }

    fn signal(&self, sig: i32) -> Result<()> {
        self.sweeps.signal(sig)
    }

    /// Sweeps until one finds no member and no orphan to reap.
    fn kill(&self) -> Result<()> {
        self.sweeps.kill()
    }

    fn is_empty(&self) -> Result<bool> {
        self.sweeps.is_empty()
    }

    fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool> {
        self.sweeps.wait_empty(deadline)
    }

    /// `SIGSTOP` sweeps (see `stop_sweeps.rs` for what they cannot promise).
    fn freeze(&self) -> Result<()> {
        self.stops.freeze(|| self.sweeps.members())
    }

    fn thaw(&self) -> Result<()> {
        self.stops.thaw(|| self.sweeps.members())
    }

    fn is_frozen(&self) -> Result<bool> {
        self.stops.is_frozen(|| self.sweeps.members())
    }

    fn stats(&self) -> Result<ScopeStats> {
        self.sweeps.stats()
    }

    fn adopt(&self, _process: &Process) -> Result<()> {
        Err(Error::unsupported(
            "adopt",
            "a subreaper collects only the orphans of its own descendants: a running process \
             cannot be made one (a cgroup scope or a Windows job can adopt)",
        ))
    }
}

impl Drop for SubreaperScope {
    fn drop(&mut self) {
        if self.kill_on_drop {
            let _ = self.kill();
        }
    }
}
