//! The watcher's book-keeping: who is registered, who is due for a
//! re-check, and which exits were found but not yet handed out.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::Event;
use crate::error::Result;
use crate::process::Process;

/// How one registered process is being watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Watch {
    /// Its handle is armed in the poller: the kernel will report its exit.
    /// Should the report prove spurious, re-check after `spurious_pause`.
    Armed { spurious_pause: Duration },
    /// It is re-checked at `due`, then `pause` later, doubling. `registered`
    /// says whether its handle is (disarmed) in the poller, to be re-armed
    /// once a check finds it alive: the state after a spurious readiness.
    /// Without it, this is the polling of a process without a handle.
    Recheck {
        due: Instant,
        pause: Duration,
        registered: bool,
    },
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

#[derive(Default)]
pub(super) struct Registry {
    next_token: u64,
    entries: HashMap<u64, Entry>,
    /// Re-check times, earliest first. An item whose entry is gone or has
    /// another `due` is stale and skipped when popped.
    schedule: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Exits (or check failures) found and not yet returned by `next`.
    found: VecDeque<Result<Event>>,
}

impl Registry {
    pub fn allocate_token(&mut self) -> u64 {
        let token = self.next_token;
        self.next_token += 1;
        token
    }

    pub fn insert(&mut self, token: u64, entry: Entry) {
        if let Watch::Recheck { due, .. } = entry.watch {
            self.schedule.push(Reverse((due, token)));
        }
        self.entries.insert(token, entry);
    }

    pub fn get_mut(&mut self, token: u64) -> Option<&mut Entry> {
        self.entries.get_mut(&token)
    }

    pub fn get(&self, token: u64) -> Option<&Entry> {
        self.entries.get(&token)
    }

    pub fn take(&mut self, token: u64) -> Option<Entry> {
        self.entries.remove(&token)
    }

    /// Sets a registered process to be re-checked at `due`.
    pub fn recheck_at(&mut self, token: u64, due: Instant, pause: Duration, registered: bool) {
        if let Some(entry) = self.entries.get_mut(&token) {
            entry.watch = Watch::Recheck {
                due,
                pause,
                registered,
            };
            self.schedule.push(Reverse((due, token)));
        }
    }

    /// A token whose re-check is due at `now`, if any, with its pause.
    pub fn pop_due(&mut self, now: Instant) -> Option<(u64, Duration)> {
        while let Some(Reverse((due, token))) = self.schedule.peek().copied() {
            if due > now {
                return None;
            }
            self.schedule.pop();
            if let Some(Entry {
                watch:
                    Watch::Recheck {
                        due: current,
                        pause,
                        ..
                    },
                ..
            }) = self.entries.get(&token)
            {
                if *current == due {
                    return Some((token, *pause));
                }
            }
        }
        None
    }

    /// When the earliest live re-check is due.
    pub fn next_due(&mut self) -> Option<Instant> {
        while let Some(Reverse((due, token))) = self.schedule.peek().copied() {
            let live = matches!(
                self.entries.get(&token),
                Some(Entry { watch: Watch::Recheck { due: current, .. }, .. }) if *current == due
            );
            if live {
                return Some(due);
            }
            self.schedule.pop();
        }
        None
    }

    pub fn push_found(&mut self, found: Result<Event>) {
        self.found.push_back(found);
    }

    pub fn pop_found(&mut self) -> Option<Result<Event>> {
        self.found.pop_front()
    }

    pub fn has_found(&self) -> bool {
        !self.found.is_empty()
    }

    /// Takes back a process whose exit was found but not yet returned.
    pub fn take_found(&mut self, token: u64) -> Option<Process> {
        let at = self
            .found
            .iter()
            .position(|f| matches!(f, Ok(event) if event.token.0 == token))?;
        match self.found.remove(at) {
            Some(Ok(event)) => Some(event.process),
            _ => None,
        }
    }

    /// Processes registered plus exits not yet handed out.
    pub fn len(&self) -> usize {
        self.entries.len() + self.found.iter().filter(|f| f.is_ok()).count()
    }
}
