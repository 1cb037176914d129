//! What the listed group (`group.rs`) and the subreaper (`subreaper.rs`)
//! do alike: at each spawn every first child leads a process group of its
//! own, armed with the owner's death signal, and the first spawn starts
//! the guardian, which `SIGKILL`s the first child's group if this process
//! dies; a freeze is `SIGSTOP` sweeps over the members; dropping the scope
//! kills them if asked. They differ only in how they find and reach the
//! members ([`Reach`]), so one [`LeaderScope`] is the mechanism for both.

use std::fmt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::Instant;

use super::super::guardian::{Action, Guardian};
use super::super::spawn::{Place, Spec};
use super::owner::Owner;
use super::stop_sweeps::{freeze_by_sweeps, StopSweeps};
use crate::control::ScopeStats;
use crate::error::{Error, Result};
use crate::sys::scope::{Request, ScopeMechanism};
use crate::sys::unix::pgroup::Group;
use crate::sys::Process;

#[derive(Debug)]
pub(super) struct GroupLeaders {
    group: Group,
    owner: Owner,
}

impl GroupLeaders {
    pub(super) fn new(request: &Request) -> GroupLeaders {
        GroupLeaders {
            group: Group::default(),
            owner: Owner::new(request),
        }
    }

    /// Every first child's group, first first.
    pub(super) fn pgids(&self) -> Vec<i32> {
        self.group.all()
    }

    /// For std's spawn: a new group, and the owner's hook.
    pub(super) fn prepare(&self, command: &mut Command) {
        command.process_group(0);
        self.owner.hook(command, None);
    }

    /// Records `pid` as the leader of a new group and, on the first spawn,
    /// starts the guardian over the first group: its PID if one was
    /// started now (our child, never a member).
    pub(super) fn started(&self, pid: u32) -> Result<Option<u32>> {
        self.group.started(pid);
        let pgid = self.group.first().unwrap_or(0);
        self.owner
            .guard(|| Guardian::start(Action::KillGroup(pgid)))
    }

    /// The fast spawn into a new group, with the death signal; `started`
    /// records the child (the mechanism's own bookkeeping, then
    /// [`started`](Self::started)).
    pub(super) fn spawn_direct(
        &self,
        spec: &Spec<'_>,
        started: impl FnOnce(u32) -> Result<()>,
    ) -> Result<Option<Process>> {
        let death = self.owner.death_signal;
        super::spawn_direct(Place::NewGroup, spec, death, || Ok(()), started)
    }
}

/// How a [`LeaderScope`] finds and reaches its members, given the groups
/// its first children lead.
pub(super) trait Reach: Default + Send + Sync + fmt::Debug {
    /// Why a running process cannot be adopted.
    const NO_ADOPT: &'static str;

    /// Records a first child, before the guardian forks.
    fn add_root(&self, _pid: u32) {}

    /// `pid` is the guardian: our child, never a member.
    fn exclude(&self, _pid: u32) {}

    fn members(&self, leaders: &GroupLeaders) -> Result<Vec<Process>>;
    fn signal(&self, leaders: &GroupLeaders, sig: i32) -> Result<()>;
    fn kill(&self, leaders: &GroupLeaders) -> Result<()>;
    fn is_empty(&self, leaders: &GroupLeaders) -> Result<bool>;
    fn wait_empty(&self, leaders: &GroupLeaders, deadline: Option<Instant>) -> Result<bool>;
    fn stats(&self, leaders: &GroupLeaders) -> Result<ScopeStats>;
}

/// A scope whose first children lead process groups, its members found
/// and reached through `R`.
#[derive(Debug)]
pub(super) struct LeaderScope<R: Reach> {
    leaders: GroupLeaders,
    reach: R,
    kill_on_drop: bool,
    stops: StopSweeps,
}

impl<R: Reach> LeaderScope<R> {
    pub(super) fn new(request: &Request) -> LeaderScope<R> {
        LeaderScope {
            leaders: GroupLeaders::new(request),
            reach: R::default(),
            kill_on_drop: request.kill_on_drop,
            stops: StopSweeps::default(),
        }
    }

    fn started_pid(&self, pid: u32) -> Result<()> {
        self.reach.add_root(pid);
        if let Some(guardian) = self.leaders.started(pid)? {
            self.reach.exclude(guardian);
        }
        Ok(())
    }

    fn members(&self) -> Result<Vec<Process>> {
        self.reach.members(&self.leaders)
    }

    /// Whether any first child was spawned.
    pub(super) fn has_spawned(&self) -> bool {
        !self.leaders.pgids().is_empty()
    }
}

impl<R: Reach> ScopeMechanism for LeaderScope<R> {
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
        LeaderScope::members(self)
    }

    fn signal(&self, sig: i32) -> Result<()> {
        self.reach.signal(&self.leaders, sig)
    }

    fn kill(&self) -> Result<()> {
        self.reach.kill(&self.leaders)
    }

    fn is_empty(&self) -> Result<bool> {
        self.reach.is_empty(&self.leaders)
    }

    fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool> {
        self.reach.wait_empty(&self.leaders, deadline)
    }

    freeze_by_sweeps!(stops);

    fn stats(&self) -> Result<ScopeStats> {
        self.reach.stats(&self.leaders)
    }

    fn adopt(&self, _process: &Process) -> Result<()> {
        Err(Error::unsupported("adopt", R::NO_ADOPT))
    }
}

impl<R: Reach> Drop for LeaderScope<R> {
    fn drop(&mut self) {
        if self.kill_on_drop {
            let _ = self.reach.kill(&self.leaders);
        }
    }
}
