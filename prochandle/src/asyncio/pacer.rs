//! The pauses of a future that has to re-check: one runtime timer, re-armed
//! on the crate's backoff schedule. Shared by the exit and the emptiness
//! futures.

use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::reactor::Reactor;
use crate::backoff::Backoff;

pub(super) struct Pacer<R: Reactor> {
    /// Created on the first pause, re-armed after.
    timer: Option<R::Timer>,
    /// Whether `timer` is armed and must fire before the next check.
    pausing: bool,
    backoff: Backoff,
}

impl<R: Reactor> Pacer<R> {
    pub(super) fn new() -> Self {
        Pacer {
            timer: None,
            pausing: false,
            backoff: Backoff::new(),
        }
    }

    /// Back to the start of the schedule, no pause pending (the timer is
    /// kept for reuse).
    pub(super) fn restart(&mut self) {
        self.pausing = false;
        self.backoff = Backoff::new();
    }

    /// Arms the timer for the next pause of the schedule (at most `limit`).
    pub(super) fn pause(&mut self, limit: Option<Duration>) {
        let mut pause = self.backoff.next_pause();
        if let Some(limit) = limit {
            pause = pause.min(limit);
        }
        match &mut self.timer {
            Some(timer) => R::reset(timer, pause),
            None => self.timer = Some(R::timer(pause)),
        }
        self.pausing = true;
    }

    /// `Pending` while a pause runs; then `Ready(true)` if a pause just
    /// ended, `Ready(false)` if none was pending.
    pub(super) fn poll_pause(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        if !self.pausing {
            return Poll::Ready(false);
        }
        if let Some(timer) = &mut self.timer {
            ready!(R::poll_timer(timer, cx));
        }
        self.pausing = false;
        Poll::Ready(true)
    }
}
