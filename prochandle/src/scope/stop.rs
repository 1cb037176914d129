//! [`Scope::stop`]: a graceful stop that says, member by member, who
//! needed the kill.

use std::time::{Duration, Instant};

use super::Scope;
use crate::control::{Ending, StopReport, StoppedMember};
use crate::error::Result;
use crate::signal::Signal;
use crate::sys::scope::Listed;

impl Scope {
    /// Stops the tree gracefully: `signal` to every member, up to `grace`
    /// for the tree to empty, then [`kill`](Scope::kill) for the rest.
    /// Returns when no member is left, with a report of each member found
    /// (PID, start time, name) and how it ended: after the signal, by the
    /// kill (also a member started after the signal), or gone before the
    /// signal reached it.
    ///
    /// - cgroup modes: the signal goes to every member while the tree is
    ///   frozen, so none forks past it; the tree is thawed to act on it.
    /// - subreaper and process group: to every member one sweep finds
    ///   (a frozen tree is thawed after the signal, to act on it).
    /// - Windows has no signal: its soft step is a console Ctrl-Break,
    ///   whatever `signal` is (none for `KILL`), to each console group
    ///   the scope started (a [`ScopeCommand`](crate::ScopeCommand) with
    ///   `prochandle::windows::ScopeCommandExt::console_group`),
    ///   where this process has a console to send it through. Members in
    ///   no such group get none (their
    ///   [`reached`](crate::StoppedMember::reached) is `false`); when no
    ///   member is reached, [`soft_step`](StopReport::soft_step) is
    ///   `false` and `TerminateJobObject` ends every member at once.
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(target_os = "linux")] {
    /// use std::time::Duration;
    /// use prochandle::{Ending, Scope, Signal};
    /// let scope = Scope::new()?;
    /// let child = scope.spawn(std::process::Command::new("sleep").arg("30"))?;
    /// let report = scope.stop(Signal::TERM, Duration::from_secs(5))?;
    /// assert_eq!(report.members[0].pid, child.pid());
    /// assert_eq!(report.members[0].ending, Ending::Signal);
    /// assert!(scope.is_empty()?);
    /// # child.wait()?;
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn stop(&self, signal: Signal, grace: Duration) -> Result<StopReport> {
        let began = Instant::now();
        let soft = self.inner.stop_signal(signal.as_raw())?;
        if soft.sent && self.inner.is_frozen().unwrap_or(false) {
            self.inner.thaw()?;
        }
        if soft.sent {
            self.inner.wait_empty(began.checked_add(grace))?;
        }
        // Who is left: the listed members still alive, and any started
        // after the listing; all of them are killed.
        let late: Vec<Listed> = self
            .inner
            .members()?
            .into_iter()
            .map(Listed::describe)
            .collect();
        self.inner.kill()?;
        let mut members = Vec::with_capacity(soft.members.len());
        for (listing, reached) in &soft.members {
            let alive = late.iter().any(|l| l.same(listing));
            let ending = match (reached, alive || !soft.sent) {
                (false, false) => Ending::AlreadyGone,
                (_, true) => Ending::Killed,
                (true, false) => Ending::Signal,
            };
            members.push(member(listing, ending, *reached));
        }
        for listing in &late {
            if !soft.members.iter().any(|(l, _)| l.same(listing)) {
                members.push(member(listing, Ending::Killed, false));
            }
        }
        Ok(StopReport {
            members,
            elapsed: began.elapsed(),
            soft_step: soft.sent,
        })
    }
}

fn member(listing: &Listed, ending: Ending, reached: bool) -> StoppedMember {
    StoppedMember {
        pid: listing.process.pid(),
        start_time: listing.start,
        name: listing.name.clone(),
        ending,
        reached,
    }
}
