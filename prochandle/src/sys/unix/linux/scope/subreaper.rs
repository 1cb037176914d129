//! The subreaper mechanism: this process is the child subreaper (the
//! caller opted in), so the tree's orphans come to us instead of to init;
//! each first child also leads a process group of its own, which the
//! guardian kills. The sweeps themselves are `../subreaper.rs`.

use std::time::Instant;

use super::super::subreaper::Subreaper;
use super::group_leaders::{GroupLeaders, LeaderScope, Reach};
use crate::control::ScopeStats;
use crate::error::Result;
use crate::sys::Process;

/// The subreaper scope.
pub(super) type SubreaperScope = LeaderScope<Subreaper>;

/// Members found by the sweeps, which need no group: the first children
/// and every orphan of the tree are ours.
impl Reach for Subreaper {
    const NO_ADOPT: &'static str = "a subreaper collects only the orphans of its own \
                                    descendants: a running process cannot be made one (a cgroup \
                                    scope or a Windows job can adopt)";

    fn add_root(&self, pid: u32) {
        Subreaper::add_root(self, pid);
    }

    fn exclude(&self, pid: u32) {
        Subreaper::exclude(self, pid);
    }

    fn members(&self, _leaders: &GroupLeaders) -> Result<Vec<Process>> {
        Subreaper::members(self)
    }

    fn signal(&self, _leaders: &GroupLeaders, sig: i32) -> Result<()> {
        Subreaper::signal(self, sig)
    }

    /// Sweeps until one finds no member and no orphan to reap.
    fn kill(&self, _leaders: &GroupLeaders) -> Result<()> {
        Subreaper::kill(self)
    }

    fn is_empty(&self, _leaders: &GroupLeaders) -> Result<bool> {
        Subreaper::is_empty(self)
    }

    fn wait_empty(&self, _leaders: &GroupLeaders, deadline: Option<Instant>) -> Result<bool> {
        Subreaper::wait_empty(self, deadline)
    }

    fn stats(&self, _leaders: &GroupLeaders) -> Result<ScopeStats> {
        Subreaper::stats(self)
    }
}
