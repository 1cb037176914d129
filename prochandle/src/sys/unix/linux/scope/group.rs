//! The process group on Linux: the floor (`../../pgroup.rs`), listed
//! through `/proc` so that each member is pinned (pidfd) before it is
//! signalled rather than reached by `kill(-pgid)`, whose group ID could,
//! once the whole group is gone and reaped, name a stranger's group.

use std::io;
use std::process::{Child, Command};
use std::time::Instant;

use super::super::procfs;
use super::super::spawn::Spec;
use super::group_leaders::GroupLeaders;
use super::stop_sweeps::StopSweeps;
use super::{kill_listed, pin_listed, signal_each};
use crate::control::{Measure, ScopeStats};
use crate::error::{Error, Result};
use crate::sys::scope::{Request, ScopeMechanism};
use crate::sys::Process;

#[derive(Debug)]
pub(super) struct ListedGroup {
    leaders: GroupLeaders,
    kill_on_drop: bool,
    stops: StopSweeps,
}

impl ListedGroup {
    pub(super) fn new(request: &Request) -> ListedGroup {
        ListedGroup {
            leaders: GroupLeaders::new(request),
            kill_on_drop: request.kill_on_drop,
            stops: StopSweeps::default(),
        }
    }

    fn started_pid(&self, pid: u32) -> Result<()> {
        self.leaders.started(pid).map(drop)
    }

    /// The live (non-zombie) members' PIDs.
    fn pids(&self) -> io::Result<Vec<i32>> {
        live_in_groups(&self.leaders.pgids())
    }
}

impl ScopeMechanism for ListedGroup {
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
        pin_listed(|| self.pids())
    }

    fn signal(&self, sig: i32) -> Result<()> {
        signal_each(&self.members()?, sig)
    }

    /// Pass after pass of pinned `SIGKILL`s until a pass lists nobody: a
    /// member forked during a pass is in the group, and the next pass
    /// lists it.
    fn kill(&self) -> Result<()> {
        kill_listed(|| self.pids())
    }

    fn is_empty(&self) -> Result<bool> {
        Ok(self
            .pids()
            .map_err(|e| Error::os("list members", e))?
            .is_empty())
    }

    fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool> {
        let found = crate::backoff::poll_until(deadline, || {
            self.is_empty().map(|empty| empty.then_some(()))
        })?;
        Ok(found.is_some())
    }

    /// `SIGSTOP` sweeps (see `stop_sweeps.rs` for what they cannot promise).
    fn freeze(&self) -> Result<()> {
        self.stops.freeze(|| self.members())
    }

    fn freeze_until(&self, deadline: Instant) -> Result<bool> {
        self.stops.freeze_until(deadline, || self.members())
    }

    fn thaw(&self) -> Result<()> {
        self.stops.thaw()
    }

    fn is_frozen(&self) -> Result<bool> {
        self.stops.is_frozen(|| self.members())
    }

    /// The live count only: members that ended were reaped by whoever
    /// their parent was (init, for an orphan), their account with them.
    fn stats(&self) -> Result<ScopeStats> {
        let why = "a process group keeps no account of its members that ended";
        let mut stats = ScopeStats::absent(why);
        stats.live =
            Measure::Known(self.pids().map_err(|e| Error::os("list members", e))?.len() as u64);
        Ok(stats)
    }

    fn adopt(&self, _process: &Process) -> Result<()> {
        Err(Error::unsupported(
            "adopt",
            "a process group can be joined only by a process of the same session, by its own \
             or its parent's doing (a cgroup scope or a Windows job can adopt)",
        ))
    }
}

impl Drop for ListedGroup {
    fn drop(&mut self) {
        if self.kill_on_drop {
            let _ = self.kill();
        }
    }
}

/// Every live process whose `/proc/<pid>/stat` names one of `pgids` as
/// its group.
fn live_in_groups(pgids: &[i32]) -> io::Result<Vec<i32>> {
    if pgids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = procfs::read_stat(pid) else {
            continue;
        };
        if pgids.contains(&stat.pgrp) && !stat.exited() {
            out.push(pid);
        }
    }
    Ok(out)
}
