//! The process group on Linux: the floor (`../../pgroup.rs`), listed
//! through `/proc` so that each member is pinned (pidfd) before it is
//! signalled rather than reached by `kill(-pgid)`, whose group ID could,
//! once the whole group is gone and reaped, name a stranger's group.

use std::io;
use std::time::Instant;

use super::super::procfs;
use super::group_leaders::{GroupLeaders, LeaderScope, Reach};
use super::{kill_listed, pin_listed, signal_each};
use crate::control::{Measure, ScopeStats};
use crate::error::{Error, Result};
use crate::sys::Process;

/// The process-group scope.
pub(super) type ListedGroup = LeaderScope<ByGroup>;

/// Members found by their group in `/proc`, each pinned before it is
/// signalled.
#[derive(Debug, Default)]
pub(super) struct ByGroup;

/// The live (non-zombie) members' PIDs.
fn pids(leaders: &GroupLeaders) -> io::Result<Vec<i32>> {
    live_in_groups(&leaders.pgids())
}

impl Reach for ByGroup {
    const NO_ADOPT: &'static str = "a process group can be joined only by a process of the same \
                                    session, by its own or its parent's doing (a cgroup scope or a \
                                    Windows job can adopt)";

    fn members(&self, leaders: &GroupLeaders) -> Result<Vec<Process>> {
        pin_listed(|| pids(leaders))
    }

    fn signal(&self, leaders: &GroupLeaders, sig: i32) -> Result<()> {
        signal_each(&self.members(leaders)?, sig)
    }

    /// Pass after pass of pinned `SIGKILL`s until a pass lists nobody: a
    /// member forked during a pass is in the group, and the next pass
    /// lists it.
    fn kill(&self, leaders: &GroupLeaders) -> Result<()> {
        kill_listed(|| pids(leaders))
    }

    fn is_empty(&self, leaders: &GroupLeaders) -> Result<bool> {
        Ok(pids(leaders)
            .map_err(|e| Error::os("list members", e))?
            .is_empty())
    }

    fn wait_empty(&self, leaders: &GroupLeaders, deadline: Option<Instant>) -> Result<bool> {
        let found = crate::backoff::poll_until(deadline, || {
            self.is_empty(leaders).map(|empty| empty.then_some(()))
        })?;
        Ok(found.is_some())
    }

    /// The live count only: members that ended were reaped by whoever
    /// their parent was (init, for an orphan), their account with them.
    fn stats(&self, leaders: &GroupLeaders) -> Result<ScopeStats> {
        let why = "a process group keeps no account of its members that ended";
        let mut stats = ScopeStats::absent(why);
        stats.live = Measure::Known(
            pids(leaders)
                .map_err(|e| Error::os("list members", e))?
                .len() as u64,
        );
        Ok(stats)
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
