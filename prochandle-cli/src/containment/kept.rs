//! `run`'s side of the keeper ([`Keeper`]): CMD's tree where no cgroup
//! can be made, held by a child of `run` that is the tree's subreaper and
//! ends it when `run` goes, however `run` goes.
//!
//! The keeper holds ([`Keeper::spawn_holding`]): when CMD exits, CMD is
//! left unreaped and the rest of the tree alive until `run` finishes. So
//! `run` watches CMD itself, pinned, writes its identity for `--pidfile`,
//! and finds the members for `--report` and `--leaks` as the keeper's
//! descendants (every member is one: escapers are re-parented to the
//! keeper), each pinned and checked to be its parent's child before it is
//! looked at. Signals go through the keeper, which alone may reap the
//! tree; "the tree ended" is that no descendant but CMD is left alive.
//!
//! Should the keeper itself be killed, CMD gets its death signal, but the
//! rest of the tree, orphaned, would go to init and live on. So `run`
//! makes itself the child subreaper before it forks the keeper: the
//! orphans then come to `run`, and [`Kept::finish`] kills them by sweeps
//! until none is left.

use std::collections::HashSet;
use std::io;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use prochandle::linux::{Keeper, ProcessExt as _};
use prochandle::{Process, ProcessState, Signal};

/// CMD's tree under a holding keeper.
#[derive(Default)]
pub struct Kept {
    /// Set once CMD has started.
    held: OnceLock<Held>,
    /// Set once [`finish`](Kept::finish) has run.
    finished: AtomicBool,
}

struct Held {
    keeper: Keeper,
    /// The keeper itself: our child.
    process: Process,
}

/// Why CMD could not be started under the keeper.
pub enum Refused {
    /// `run` could not become the subreaper of a killed keeper's orphans.
    Subreaper(io::Error),
    /// The keeper, or CMD's own spawn, failed.
    Spawn(prochandle::Error),
    /// The keeper died before it said whether CMD started (it was killed):
    /// prochandle's failure, not CMD's.
    KeeperLost(prochandle::Error),
}

impl Kept {
    /// Makes `run` the child subreaper (a flag kept until exit), then
    /// starts `command` under a holding keeper; returns CMD, pinned.
    pub fn spawn(&self, command: &mut Command) -> Result<Process, Refused> {
        prochandle::linux::become_subreaper().map_err(Refused::Subreaper)?;
        let (keeper, process, command) = match Keeper::spawn_holding(command) {
            Ok(spawned) => spawned,
            Err(err) => {
                // The keeper is reaped by now; had it started CMD before it
                // died, CMD's tree came to `run`, its subreaper.
                end_orphans();
                let lost = std::error::Error::source(&err)
                    .and_then(|source| source.downcast_ref::<io::Error>())
                    .is_some_and(|io| io.kind() == io::ErrorKind::UnexpectedEof);
                return Err(if lost {
                    Refused::KeeperLost(err)
                } else {
                    Refused::Spawn(err)
                });
            }
        };
        let _ = self.held.set(Held { keeper, process });
        Ok(command)
    }

    /// Asks the keeper to send `signal` to CMD and to every member; a
    /// keeper that is finishing or gone is no error.
    pub fn signal(&self, signal: Signal) -> prochandle::Result<()> {
        match self.held.get().map(|held| held.keeper.signal(signal)) {
            Some(Err(err)) if !err.is_done() => Err(err),
            _ => Ok(()),
        }
    }

    /// Has the keeper stop every member by `SIGSTOP` sweeps, within
    /// `limit`; whether all stopped in time.
    pub fn freeze_within(&self, limit: Duration) -> prochandle::Result<bool> {
        match self.held.get() {
            Some(held) => held.keeper.freeze_within(limit),
            None => Err(prochandle::Error::done("freeze")),
        }
    }

    /// Lets a frozen tree go.
    pub fn thaw(&self) -> prochandle::Result<()> {
        match self.held.get() {
            Some(held) => held.keeper.thaw(),
            None => Ok(()),
        }
    }

    /// The live members besides `command`: the keeper's descendants, each
    /// pinned and checked to be its parent's child when it was found.
    pub fn leftovers(&self, command: &Process) -> Vec<Process> {
        let Some(held) = self.held.get() else {
            return Vec::new();
        };
        let members = held.process.descendants().unwrap_or_default();
        members
            .into_iter()
            .filter(|member| member.pid() != command.pid())
            .filter(|member| !member.has_exited().unwrap_or(true))
            .collect()
    }

    /// Ends the tree: the keeper kills what is left, reaps CMD, reports
    /// and exits, and is reaped here; then whatever came to `run` as an
    /// orphan (the tree of a keeper that was killed) is killed too. Once.
    pub fn finish(&self) {
        if self.finished.swap(true, Ordering::SeqCst) {
            return;
        }
        let Some(held) = self.held.get() else {
            return;
        };
        held.keeper.finish();
        // A keeper that exits by itself has killed and reaped its whole
        // tree first (it sweeps until none is left), and nothing leaves
        // its subreaping while it lives: only a keeper that died some
        // other way can have left orphans to `run`.
        let exited = held.process.wait().ok().and_then(|state| state.exit_code());
        if exited != Some(0) {
            end_orphans();
        }
    }

    /// CMD's status and usage as the keeper reaped it; after
    /// [`finish`](Kept::finish). A keeper that was killed could not say.
    pub fn command_state(&self, reaped: ProcessState) -> Result<ProcessState, String> {
        let Some(held) = self.held.get() else {
            return Ok(reaped);
        };
        held.keeper.command_state().map_err(|err| {
            match held
                .process
                .try_wait()
                .ok()
                .flatten()
                .and_then(|s| s.signal())
            {
                Some(signal) => format!(
                    "the keeper (PID {}) was killed by {signal}: the command's status is unknown",
                    held.process.pid()
                ),
                None => err.to_string(),
            }
        })
    }
}

impl Drop for Kept {
    /// A `run` that returns early still leaves nothing.
    fn drop(&mut self) {
        self.finish();
    }
}

/// Kills every descendant of `run` and reaps its children. Called once
/// the keeper is reaped, so these are only the orphans of a killed keeper
/// (`run` is their subreaper). Each sweep kills every member not yet
/// killed (pinned, so a recycled PID is never hit). It ends when `run`
/// has no child left at all, not even a zombie: every descendant hangs
/// below some child of `run`, and a child is listed until it is reaped,
/// which is after its own children were re-parented to `run`, so no
/// member can be in transit, unseen, at that moment. A member stuck in
/// the kernel is given up on after [`ORPHANS_GONE`] (it has been sent
/// `SIGKILL` and forks no more).
fn end_orphans() {
    let Ok(me) = Process::current() else {
        return;
    };
    let give_up = Instant::now() + ORPHANS_GONE;
    let mut killed = HashSet::new();
    while Instant::now() < give_up {
        let _ = prochandle::linux::reap_exited_children(None);
        if me.children().map_or(true, |children| children.is_empty()) {
            return;
        }
        let mut new = 0;
        for member in me.descendants().unwrap_or_default() {
            if killed.insert(member.pid()) {
                let _ = member.kill();
                new += 1;
            }
        }
        if new == 0 {
            // Killed, not yet exited: give them a moment.
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// How long the orphans of a killed keeper may take to be gone.
const ORPHANS_GONE: Duration = Duration::from_secs(10);
