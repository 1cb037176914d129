//! The scope without a writable cgroup: this process becomes the child
//! subreaper (`PR_SET_CHILD_SUBREAPER`, process-wide, set only when the
//! caller opted in), so every orphan of the tree is re-parented to us
//! instead of to init, where we can still find it through
//! `/proc/<pid>/task/*/children`.
//!
//! Members are the descendants of the scope's first children, plus the
//! orphans re-parented to us. An orphan carries no mark of where it came
//! from: a child of ours that the scope did not spawn is counted as an
//! orphan of the scope when it started no earlier than the scope's first
//! child (and is not excluded by name, as the guardian is). Each member is
//! pinned (pidfd) before it is signalled; orphans are reaped here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use rustix::event::{poll, PollFd, PollFlags};

use super::recheck::owns_pid;
use super::scope::accounting::{ticks_of, Ticks};
use super::{procfs, tree, Process};
use crate::backoff::Backoff;
use crate::control::{Measure, ScopeStats};
use crate::error::{Error, ErrorKind, Result};

/// Sets `PR_SET_CHILD_SUBREAPER` on this process.
pub(crate) fn enable() -> std::io::Result<()> {
    // SAFETY: prctl with an option and an integer argument; no pointers.
    let ret = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
    if ret == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[derive(Debug, Default)]
struct Roots {
    /// The first children, pinned; never reaped here (their `Process`
    /// belongs to whoever spawned them).
    pids: Vec<u32>,
    /// The earliest start time (clock ticks since boot) of a first child.
    since: Option<u64>,
    /// Children of ours that are never members (the guardian).
    excluded: Vec<u32>,
}

/// The state of one subreaper scope.
#[derive(Debug, Default)]
pub(crate) struct Subreaper {
    roots: Mutex<Roots>,
    /// The CPU time of the orphans reaped here (each with what it reaped).
    reaped: Mutex<Ticks>,
    /// The CPU time each first child was last seen with: its owner reaps
    /// it, and its account with it.
    roots_seen: Mutex<HashMap<u32, Ticks>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `p` has exited (a zombie, or gone from `/proc`).
pub(crate) fn is_zombie(p: &Process) -> bool {
    procfs::read_stat(p.pid() as i32).map_or(true, |s| s.exited())
}

/// The start time of `p`, read while `p` is known to own its PID.
fn start_of(p: &Process) -> Option<u64> {
    let stat = procfs::read_stat(p.pid() as i32).ok()?;
    owns_pid(p).then_some(stat.start_time)
}

impl Subreaper {
    /// Records a first child of the scope.
    pub(crate) fn add_root(&self, pid: u32) {
        let start = procfs::read_stat(pid as i32).ok().map(|s| s.start_time);
        let mut roots = self.roots.lock().unwrap_or_else(|e| e.into_inner());
        roots.pids.push(pid);
        roots.since = match (roots.since, start) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Keeps a child of ours out of the scope for good.
    pub(crate) fn exclude(&self, pid: u32) {
        let mut roots = self.roots.lock().unwrap_or_else(|e| e.into_inner());
        roots.excluded.push(pid);
    }

    /// Our direct children that belong to the scope: its first children,
    /// and orphans started after them.
    fn own_children(&self) -> Result<Vec<(Process, bool)>> {
        let (pids, since, excluded) = {
            let r = self.roots.lock().unwrap_or_else(|e| e.into_inner());
            (r.pids.clone(), r.since, r.excluded.clone())
        };
        let Some(since) = since else {
            return Ok(Vec::new());
        };
        let me = Process::current()?;
        let mut out = Vec::new();
        for kid in tree::children(&me)? {
            let pid = kid.pid();
            if excluded.contains(&pid) {
                continue;
            }
            let root = pids.contains(&pid);
            if root || start_of(&kid).is_some_and(|s| s >= since) {
                out.push((kid, root));
            }
        }
        Ok(out)
    }

    /// Reaps the zombie orphans of the scope; returns how many.
    fn reap_orphans(&self) -> Result<usize> {
        let mut reaped = 0;
        for (kid, root) in self.own_children()? {
            if root || !is_zombie(&kid) {
                continue;
            }
            // Our unreaped child: the PID is its own until the reaping.
            let ticks = ticks_of(kid.pid()).unwrap_or_default();
            if kid.try_wait()?.is_some() {
                reaped += 1;
                lock(&self.reaped).add(ticks);
            }
        }
        Ok(reaped)
    }

    /// The tree's CPU time: the live members' (each with what it reaped),
    /// the first children's as last seen, and the orphans reaped here.
    pub(crate) fn stats(&self) -> Result<ScopeStats> {
        self.reap_orphans()?;
        let roots = lock(&self.roots).pids.clone();
        let mut total = *lock(&self.reaped);
        let mut seen = lock(&self.roots_seen);
        let members = self.members()?;
        for m in &members {
            // Read while alive: the PID was this member's.
            let Some(t) = ticks_of(m.pid()).filter(|_| !m.has_exited().unwrap_or(true)) else {
                continue;
            };
            if roots.contains(&m.pid()) {
                seen.insert(m.pid(), t);
            } else {
                total.add(t);
            }
        }
        for (kid, root) in self.own_children()? {
            // A first child that is our zombie: its final account.
            if root && is_zombie(&kid) {
                if let Some(t) = ticks_of(kid.pid()) {
                    seen.insert(kid.pid(), t);
                }
            }
        }
        seen.values().for_each(|t| total.add(*t));
        let (user, system) = total.durations();
        let why = "without a cgroup the system keeps no such count for a tree";
        Ok(ScopeStats {
            cpu_user: Measure::Known(user),
            cpu_system: Measure::Known(system),
            live: Measure::Known(members.len() as u64),
            started: Measure::absent(why),
            peak_memory: Measure::absent(why),
        })
    }

    /// The live (non-zombie) members, each pinned.
    pub(crate) fn members(&self) -> Result<Vec<Process>> {
        let mut out = Vec::new();
        for (kid, _) in self.own_children()? {
            match tree::descendants(&kid) {
                Ok(below) => out.extend(below.into_iter().filter(|p| !is_zombie(p))),
                Err(e) if e.kind() == ErrorKind::Done => {}
                Err(e) => return Err(e),
            }
            if !is_zombie(&kid) {
                out.push(kid);
            }
        }
        Ok(out)
    }

    /// Sends `sig` to every member one sweep finds.
    pub(crate) fn signal(&self, sig: i32) -> Result<()> {
        for member in self.members()? {
            match member.signal(sig) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Done => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// `SIGKILL`s and reaps, sweep after sweep, until a sweep finds no
    /// member and no orphan to reap: a tree that forks while it is being
    /// killed loses a generation per sweep, and its orphans come to us.
    pub(crate) fn kill(&self) -> Result<()> {
        loop {
            // Members first, orphans second: a process re-parents its
            // children before it turns zombie, so once a sweep sees no
            // live member, every orphan is already ours for the reaping
            // that follows; the other order can miss the last ones.
            let members = self.members()?;
            let reaped = self.reap_orphans()?;
            if members.is_empty() && reaped == 0 {
                return Ok(());
            }
            for member in &members {
                match member.signal(libc::SIGKILL) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::Done => {}
                    Err(e) => return Err(e),
                }
            }
            std::thread::yield_now();
        }
    }

    /// Whether no member is alive (after reaping the dead orphans).
    pub(crate) fn is_empty(&self) -> Result<bool> {
        self.reap_orphans()?;
        Ok(self.members()?.is_empty())
    }

    /// Sleeps until no member is alive or `deadline` passes. Sleeps on the
    /// members' pidfds (woken by any exit); a fork is not an event the
    /// kernel reports, so the sleep is capped by the crate's backoff.
    pub(crate) fn wait_empty(&self, deadline: Option<Instant>) -> Result<bool> {
        let mut backoff = Backoff::new();
        loop {
            self.reap_orphans()?;
            let members = self.members()?;
            if members.is_empty() {
                return Ok(true);
            }
            let Some(pause) = backoff.next_pause_until(deadline) else {
                return Ok(false);
            };
            let mut fds: Vec<PollFd<'_>> = members
                .iter()
                .filter_map(|m| m.handle())
                .map(|fd| PollFd::from_borrowed_fd(fd, PollFlags::IN))
                .collect();
            let timeout = Some(crate::sys::timeout::rustix_timespec(pause));
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::os("poll", e.into())),
            }
        }
    }
}
