//! How the watcher confirms exits: the checks run when the poller reports
//! a process, when a re-check falls due, and right after arming, and the
//! wait for a non-child's status after its exit.

use std::time::Instant;

use super::registry::{Registry, Watch};
use super::{target, Event, Notice, Token, Watcher};
use crate::backoff::{Backoff, REAP_GRACE};
use crate::error::Result;
use crate::state::{ExitStatus, ProcessState, UnknownReason};

impl Watcher {
    /// The next notice to hand out (`scopes` false: exits only).
    pub(super) fn pop_found(
        &self,
        registry: &mut Registry,
        scopes: bool,
    ) -> Option<Result<Notice>> {
        let found = registry.pop_found(scopes)?;
        if registry.has_found() || registry.len() == 0 {
            // Another thread may be asleep while exits wait here, or while
            // nothing is left to wait for.
            self.poller.wake();
        }
        Some(found)
    }

    /// The poller reported `token` ready (and disarmed it): confirm the
    /// exit, or treat the readiness as spurious.
    pub(super) fn on_ready(&self, registry: &mut Registry, token: u64) {
        let Some(entry) = registry.get_mut(token) else {
            // A scope's, or removed meanwhile.
            return self.check_scope(registry, token, Instant::now());
        };
        let Watch::Armed { mut spurious } = entry.watch else {
            return;
        };
        match entry.process.try_wait() {
            Ok(Some(state)) => self.report(registry, token, state),
            Ok(None) => {
                // Spurious readiness: look again shortly, re-arm if alive.
                // The schedule keeps growing across spurious readinesses,
                // so a handle that stays readable costs at most one check
                // per longest pause.
                let due = Instant::now() + spurious.next_pause();
                let watch = Watch::Recheck {
                    due,
                    backoff: spurious,
                    registered: true,
                };
                registry.set_watch(token, watch);
            }
            Err(error) => {
                retry_later(registry, token, Instant::now(), true);
                registry.push_found(Err(error));
            }
        }
    }

    /// Checks every process whose turn has come.
    pub(super) fn run_due_checks(&self, registry: &mut Registry) {
        let now = Instant::now();
        while let Some(token) = registry.pop_due(now) {
            let Some(entry) = registry.get(token) else {
                self.check_scope(registry, token, now);
                continue;
            };
            match entry.watch {
                Watch::Recheck {
                    backoff,
                    registered,
                    ..
                } => self.recheck(registry, token, backoff, registered, now),
                Watch::Settle {
                    backoff,
                    give_up,
                    first,
                    ..
                } => self.settle(registry, token, backoff, (give_up, first), now),
                Watch::Armed { .. } => {}
            }
        }
    }

    /// A re-check of a process not known to have exited: report it, or
    /// re-arm its handle, or schedule the next check.
    fn recheck(
        &self,
        registry: &mut Registry,
        token: u64,
        mut backoff: Backoff,
        mut registered: bool,
        now: Instant,
    ) {
        let Some(entry) = registry.get_mut(token) else {
            return;
        };
        match entry.process.try_wait() {
            Ok(Some(state)) => self.report(registry, token, state),
            Ok(None) => {
                if registered {
                    match self.poller.rearm(target(&entry.process), token) {
                        Ok(true) => {
                            let spurious = backoff.advanced();
                            registry.set_watch(token, Watch::Armed { spurious });
                            if super::Poller::CHECK_AFTER_ARM {
                                self.check_after_arm(registry, token);
                            }
                            return;
                        }
                        // The backend can no longer watch it (kqueue: the
                        // PID is gone): the next check decides.
                        Ok(false) => registered = false,
                        // Try to re-arm again at the next check.
                        Err(_) => {}
                    }
                }
                let due = now + backoff.next_pause();
                let watch = Watch::Recheck {
                    due,
                    backoff,
                    registered,
                };
                registry.set_watch(token, watch);
            }
            Err(error) => {
                retry_later(registry, token, now, registered);
                registry.push_found(Err(error));
            }
        }
    }

    /// A re-check of an exit held back for its status: report it once the
    /// status is known or the grace is over.
    fn settle(
        &self,
        registry: &mut Registry,
        token: u64,
        mut backoff: Backoff,
        (give_up, first): (Instant, ProcessState),
        now: Instant,
    ) {
        let Some(entry) = registry.get(token) else {
            return;
        };
        let failure = match entry.process.try_wait() {
            Ok(Some(state)) if !not_reaped_yet(&state) => {
                return self.report(registry, token, state)
            }
            Ok(_) if now >= give_up => return self.report_now(registry, token, first),
            Ok(_) => None,
            Err(error) => Some(error),
        };
        let due = (now + backoff.next_pause()).min(give_up);
        let watch = Watch::Settle {
            due,
            backoff,
            give_up,
            first,
        };
        registry.set_watch(token, watch);
        if let Some(error) = failure {
            registry.push_found(Err(error));
        }
    }

    /// Checks a process just (re-)armed in a backend that watches PIDs
    /// (kqueue): an exit, or a PID reuse, before the registration is
    /// invisible to the kernel filter but not to [`Process::try_wait`].
    /// After this check, any exit of the process fires the filter.
    ///
    /// [`Process::try_wait`]: crate::Process::try_wait
    pub(super) fn check_after_arm(&self, registry: &mut Registry, token: u64) {
        let Some(entry) = registry.get_mut(token) else {
            return;
        };
        match entry.process.try_wait() {
            Ok(Some(state)) => self.report(registry, token, state),
            Ok(None) => {}
            // Stays armed; the filter still reports the exit.
            Err(error) => registry.push_found(Err(error)),
        }
    }

    /// A process has exited: report it, or first hold it back for its
    /// status if the watcher awaits statuses and its parent has not reaped
    /// it yet.
    fn report(&self, registry: &mut Registry, token: u64, state: ProcessState) {
        if !(self.await_status && not_reaped_yet(&state)) {
            return self.report_now(registry, token, state);
        }
        let Some(entry) = registry.get(token) else {
            return;
        };
        if matches!(entry.watch, Watch::Settle { .. }) {
            return; // already held back
        }
        if entry.registered() {
            // Out of the poller: its (level-triggered) readiness would only
            // report the exit again.
            self.poller.deregister(target(&entry.process), token);
        }
        let now = Instant::now();
        let mut backoff = Backoff::new();
        let watch = Watch::Settle {
            due: now + backoff.next_pause(),
            backoff,
            give_up: now + REAP_GRACE,
            first: state,
        };
        registry.set_watch(token, watch);
    }

    /// Unregisters an exited process and queues its event.
    fn report_now(&self, registry: &mut Registry, token: u64, state: ProcessState) {
        let Some(entry) = registry.take(token) else {
            return;
        };
        if entry.registered() {
            self.poller.deregister(target(&entry.process), token);
        }
        registry.push_found(Ok(Event {
            token: Token(token),
            process: entry.process,
            state,
        }));
    }
}

/// After a failed check: try again after the longest pause.
fn retry_later(registry: &mut Registry, token: u64, now: Instant, registered: bool) {
    let backoff = Backoff::slowest();
    let watch = Watch::Recheck {
        due: now + backoff.current(),
        backoff,
        registered,
    };
    registry.set_watch(token, watch);
}

fn not_reaped_yet(state: &ProcessState) -> bool {
    state.status() == ExitStatus::Unknown(UnknownReason::NotReapedYet)
}
