//! The subreaper mechanism: this process is the child subreaper (the
//! caller opted in), so the tree's orphans come to us instead of to init;
//! each first child also leads a process group of its own, which the
//! guardian kills. The sweeps themselves are `../subreaper.rs`.

use std::process::{Child, Command};
use std::time::Instant;

use super::super::spawn::Spec;
use super::super::subreaper::Subreaper;
use super::group_leaders::GroupLeaders;
use super::stop_sweeps::StopSweeps;
use crate::control::ScopeStats;
use crate::error::{Error, Result};
use crate::sys::scope::{Request, ScopeMechanism};
use crate::sys::Process;

#[derive(Debug)]
pub(super) struct SubreaperScope {
    sweeps: Subreaper,
    leaders: GroupLeaders,
    kill_on_drop: bool,
    stops: StopSweeps,
}

impl SubreaperScope {
    pub(super) fn new(request: &Request) -> SubreaperScope {
        SubreaperScope {
            sweeps: Subreaper::default(),
            leaders: GroupLeaders::new(request),
            kill_on_drop: request.kill_on_drop,
            stops: StopSweeps::default(),
        }
    }

    fn started_pid(&self, pid: u32) -> Result<()> {
        // Recorded before the guardian forks, as the group is.
        self.sweeps.add_root(pid);
        if let Some(guardian) = self.leaders.started(pid)? {
            // Our child, but never a member.
            self.sweeps.exclude(guardian);
        }
        Ok(())
    }
}

impl ScopeMechanism for SubreaperScope {
    fn prepare(&self, command: &mut Command) {
        self.leaders.prepare(command);
    }

    fn started(&self, child: &Child) -> Result<()> {
        self.started_pid(child.id())
    }

    fn spawn_direct(&self, spec: &Spec<'_>) -> Result<Option<Process>> {
        self.leaders.spawn_direct(spec, |pid| self.started_pid(pid))
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

    fn freeze_until(&self, deadline: Instant) -> Result<bool> {
        self.stops.freeze_until(deadline, || self.sweeps.members())
    }

    fn thaw(&self) -> Result<()> {
        self.stops.thaw()
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
