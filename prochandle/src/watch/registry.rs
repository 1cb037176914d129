//! The watcher's book-keeping: who is registered, who is due for a
//! re-check, and which exits were found but not yet handed out.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use super::{Event, Notice, ScopeEvent};
use crate::backoff::Backoff;
use crate::error::Result;
use crate::process::Process;
use crate::scope::Scope;
use crate::state::ProcessState;
use crate::sys::ScopeWatch;

/// How one registered process is being watched.
#[derive(Debug, Clone, Copy)]
pub(super) enum Watch {
    /// Its handle is armed in the poller: the kernel will report its exit.
    /// Should the report prove spurious, re-check on the `spurious`
    /// schedule (which keeps growing across spurious readinesses).
    Armed { spurious: Backoff },
    /// It is re-checked at `due`, then on the `backoff` schedule.
    /// `registered` says whether its handle is (disarmed) in the poller, to
    /// be re-armed once a check finds it alive: the state after a spurious
    /// readiness. Without it, this is the polling of a process without a
    /// handle.
    Recheck {
        due: Instant,
        backoff: Backoff,
        registered: bool,
    },
    /// It has exited, but it is not our child and its parent had not reaped
    /// it: re-checked at `due` (on the `backoff` schedule) for the status
    /// the kernel records at reaping, until `give_up`; then reported with
    /// `first`, the state seen at the exit. Out of the poller.
    Settle {
        due: Instant,
        backoff: Backoff,
        give_up: Instant,
        first: ProcessState,
    },
}

impl Watch {
    /// When it is next checked on a schedule, if it is.
    fn due(&self) -> Option<Instant> {
        match *self {
            Watch::Armed { .. } => None,
            Watch::Recheck { due, .. } | Watch::Settle { due, .. } => Some(due),
        }
    }

    fn settling(&self) -> bool {
        matches!(self, Watch::Settle { .. })
    }
}

pub(super) struct Entry {
    pub process: Process,
    pub watch: Watch,
}

impl Entry {
    /// Whether its handle is in the poller, armed or not.
    pub fn registered(&self) -> bool {
        matches!(
            self.watch,
            Watch::Armed { .. }
                | Watch::Recheck {
                    registered: true,
                    ..
                }
        )
    }
}

/// One registered scope.
pub(super) struct ScopeEntry {
    pub scope: Arc<Scope>,
    /// Its registration in the poller (Linux: its own `cgroup.events`
    /// descriptor, for `EPOLLPRI`, edge-triggered and never read, so each
    /// kernel notification is one report; Windows: a pool wait on a
    /// listener of its job's port); `None`: it is re-checked.
    pub events: Option<ScopeWatch>,
    /// When it is next re-checked: always for a scope without `events`,
    /// else only after a failed check. Then on the `backoff` schedule.
    pub due: Option<Instant>,
    pub backoff: Backoff,
}

/// An exit or an emptiness found and not yet handed out.
pub(super) enum Found {
    Exit(Result<Event>),
    Empty(Result<ScopeEvent>),
}

#[derive(Default)]
pub(super) struct Registry {
    next_token: u64,
    entries: HashMap<u64, Entry>,
    scopes: HashMap<u64, ScopeEntry>,
    /// Re-check times, earliest first. An item whose entry is gone or has
    /// another `due` is stale and skipped when popped.
    schedule: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Exits (or check failures) found and not yet returned by `next`.
    found: VecDeque<Found>,
    /// How many entries are in [`Watch::Settle`].
    settling: usize,
}

impl Registry {
    pub fn allocate_token(&mut self) -> u64 {
        let token = self.next_token;
        self.next_token += 1;
        token
    }

    pub fn insert(&mut self, token: u64, entry: Entry) {
        self.note(None, Some(&entry.watch), token);
        self.entries.insert(token, entry);
    }

    pub fn get_mut(&mut self, token: u64) -> Option<&mut Entry> {
        self.entries.get_mut(&token)
    }

    pub fn get(&self, token: u64) -> Option<&Entry> {
        self.entries.get(&token)
    }

    pub fn take(&mut self, token: u64) -> Option<Entry> {
        let entry = self.entries.remove(&token)?;
        self.note(Some(&entry.watch), None, token);
        Some(entry)
    }

    /// Changes how a registered process is watched (scheduling its next
    /// check, if the new way has one).
    pub fn set_watch(&mut self, token: u64, watch: Watch) {
        let Some(entry) = self.entries.get_mut(&token) else {
            return;
        };
        let old = std::mem::replace(&mut entry.watch, watch);
        self.note(Some(&old), Some(&watch), token);
    }

    /// Keeps the schedule and the settling count in step with a change of
    /// one entry's watch from `old` to `new` (`None`: no entry).
    fn note(&mut self, old: Option<&Watch>, new: Option<&Watch>, token: u64) {
        if old.is_some_and(Watch::settling) {
            self.settling -= 1;
        }
        if new.is_some_and(Watch::settling) {
            self.settling += 1;
        }
        if let Some(due) = new.and_then(Watch::due) {
            self.schedule.push(Reverse((due, token)));
        }
    }

    /// Whether the schedule item (`due`, `token`) is still current.
    fn live(&self, due: Instant, token: u64) -> bool {
        match self.entries.get(&token) {
            Some(entry) => entry.watch.due() == Some(due),
            None => self
                .scopes
                .get(&token)
                .is_some_and(|entry| entry.due == Some(due)),
        }
    }

    pub fn insert_scope(&mut self, token: u64, entry: ScopeEntry) {
        if let Some(due) = entry.due {
            self.schedule.push(Reverse((due, token)));
        }
        self.scopes.insert(token, entry);
    }

    pub fn get_scope(&self, token: u64) -> Option<&ScopeEntry> {
        self.scopes.get(&token)
    }

    pub fn take_scope(&mut self, token: u64) -> Option<ScopeEntry> {
        self.scopes.remove(&token)
    }

    /// Schedules a scope's next re-check at `due`, on `backoff`.
    pub fn recheck_scope(&mut self, token: u64, due: Instant, backoff: Backoff) {
        if let Some(entry) = self.scopes.get_mut(&token) {
            entry.due = Some(due);
            entry.backoff = backoff;
            self.schedule.push(Reverse((due, token)));
        }
    }

    /// A token whose check is due at `now`, if any.
    pub fn pop_due(&mut self, now: Instant) -> Option<u64> {
        while let Some(Reverse((due, token))) = self.schedule.peek().copied() {
            if due > now {
                return None;
            }
            self.schedule.pop();
            if self.live(due, token) {
                return Some(token);
            }
        }
        None
    }

    /// When the earliest live check is due.
    pub fn next_due(&mut self) -> Option<Instant> {
        while let Some(Reverse((due, token))) = self.schedule.peek().copied() {
            if self.live(due, token) {
                return Some(due);
            }
            self.schedule.pop();
        }
        None
    }

    /// When the last exit now held back for its status is reported at the
    /// latest; `None` if none is.
    pub fn settled_by(&self) -> Option<Instant> {
        if self.settling == 0 {
            return None;
        }
        self.entries
            .values()
            .filter_map(|entry| match entry.watch {
                Watch::Settle { give_up, .. } => Some(give_up),
                _ => None,
            })
            .max()
    }

    pub fn push_found(&mut self, found: Result<Event>) {
        self.found.push_back(Found::Exit(found));
    }

    pub fn push_empty(&mut self, found: Result<ScopeEvent>) {
        self.found.push_back(Found::Empty(found));
    }

    /// The oldest notice found; with `scopes` false, the oldest exit (or
    /// process check failure), leaving scope notices queued.
    pub fn pop_found(&mut self, scopes: bool) -> Option<Result<Notice>> {
        let at = if scopes {
            0
        } else {
            self.found
                .iter()
                .position(|f| matches!(f, Found::Exit(_)))?
        };
        Some(match self.found.remove(at)? {
            Found::Exit(found) => found.map(Notice::Exit),
            Found::Empty(found) => found.map(Notice::Empty),
        })
    }

    pub fn has_found(&self) -> bool {
        !self.found.is_empty()
    }

    /// Takes back a process whose exit was found but not yet returned.
    pub fn take_found(&mut self, token: u64) -> Option<Process> {
        let at = self
            .found
            .iter()
            .position(|f| matches!(f, Found::Exit(Ok(event)) if event.token.0 == token))?;
        match self.found.remove(at) {
            Some(Found::Exit(Ok(event))) => Some(event.process),
            _ => None,
        }
    }

    /// Takes back a scope whose emptiness was found but not yet returned.
    pub fn take_found_scope(&mut self, token: u64) -> Option<Arc<Scope>> {
        let at = self
            .found
            .iter()
            .position(|f| matches!(f, Found::Empty(Ok(event)) if event.token.0 == token))?;
        match self.found.remove(at) {
            Some(Found::Empty(Ok(event))) => Some(event.scope),
            _ => None,
        }
    }

    /// Processes and scopes registered plus notices not yet handed out.
    pub fn len(&self) -> usize {
        let found = self.found.iter().filter(|f| match f {
            Found::Exit(r) => r.is_ok(),
            Found::Empty(r) => r.is_ok(),
        });
        self.entries.len() + self.scopes.len() + found.count()
    }

    /// Processes registered plus exits not yet handed out.
    pub fn process_len(&self) -> usize {
        let found = self
            .found
            .iter()
            .filter(|f| matches!(f, Found::Exit(Ok(_))));
        self.entries.len() + found.count()
    }

    /// [`len`](Registry::len) with `scopes`, else
    /// [`process_len`](Registry::process_len).
    pub fn len_for(&self, scopes: bool) -> usize {
        if scopes {
            self.len()
        } else {
            self.process_len()
        }
    }
}
