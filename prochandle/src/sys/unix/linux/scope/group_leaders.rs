//! What the listed group (`group.rs`) and the subreaper (`subreaper.rs`)
//! do alike at each spawn: every first child leads a process group of its
//! own, armed with the owner's death signal, and the first spawn starts
//! the guardian, which `SIGKILL`s the first child's group if this process
//! dies. They differ in how they find and reach the members afterwards.

use std::os::unix::process::CommandExt;
use std::process::Command;

use super::super::guardian::{Action, Guardian};
use super::super::spawn::{Place, Spec};
use super::owner::Owner;
use crate::error::Result;
use crate::sys::scope::Request;
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
        super::spawn_direct(Place::NewGroup, spec, death, started)
    }
}
