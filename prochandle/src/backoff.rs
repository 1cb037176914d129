//! The one policy for waits that can only re-check: how soon to look
//! again, and how long to give a parent to reap a process that is not
//! ours.
//!
//! Used wherever nothing can tell us about an exit and we have to ask: the
//! blocking waits of the guarded-PID mode, the [`Watcher`](crate::Watcher)'s
//! processes without a handle (and its re-checks after a spurious
//! readiness), the exit futures' timers, and the wait for a non-child's
//! status after it exits. It sits below all of them and depends on nothing
//! else in the crate.
//!
//! # The numbers
//!
//! - First re-check after [`FIRST_PAUSE`] (1 ms): most processes a caller
//!   waits on by polling are about to exit (it just killed them), and the
//!   first looks should come quickly.
//! - Doubling, so a process that keeps running costs a handful of checks
//!   in its first tenth of a second and then settles into the cap.
//! - Capped at [`MAX_PAUSE`] (50 ms): an exit is seen at most 50 ms late,
//!   under the threshold at which a person notices a delay (about 100 ms)
//!   and well under the CLI's 200 ms progress redraw, while a polled
//!   process costs 20 checks a second (a `waitid(WNOHANG)` or a
//!   `/proc/<pid>/stat` read, a few microseconds each: about 0.01 % of a
//!   core). Polling is the fallback path (no handles), so a quick answer
//!   matters more there than the last fraction of CPU; 50 ms is also what
//!   `Process::wait` and the exit futures always promised.
//! - [`REAP_GRACE`] (250 ms): after a non-child exits, how long a wait
//!   keeps asking for the status that Linux 6.15+ records only once the
//!   parent has reaped it. A healthy parent reaps within microseconds to
//!   milliseconds of `SIGCHLD`; 250 ms covers a busy one, and bounds what
//!   a caller pays for a parent that never reaps.

use std::time::{Duration, Instant};

/// The first pause between two checks.
pub(crate) const FIRST_PAUSE: Duration = Duration::from_millis(1);

/// The longest pause between two checks: the worst-case delay of an exit
/// seen by polling. See the [module docs](self) for why 50 ms.
pub(crate) const MAX_PAUSE: Duration = Duration::from_millis(50);

/// How long the status of a non-child is awaited after its exit, for its
/// parent to reap it (Linux records the status for others only then).
pub(crate) const REAP_GRACE: Duration = Duration::from_millis(250);

/// A re-check schedule: [`FIRST_PAUSE`], doubling up to [`MAX_PAUSE`].
///
/// It only computes pauses; the caller sleeps (a thread sleep, a runtime
/// timer, or a due time in the watcher's schedule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    pause: Duration,
}

impl Backoff {
    /// A schedule at its start.
    pub(crate) const fn new() -> Backoff {
        Backoff { pause: FIRST_PAUSE }
    }

    /// A schedule whose first pause is `first` (shorter than
    /// [`FIRST_PAUSE`] where the awaited event is usually microseconds
    /// away), doubling up to the cap as any other.
    // Only Unix waits poll for a non-child's status.
    #[cfg_attr(windows, allow(dead_code))]
    pub(crate) const fn starting_at(first: Duration) -> Backoff {
        Backoff { pause: first }
    }

    /// A schedule already at its cap (after a failure: no hurry to retry).
    pub(crate) const fn slowest() -> Backoff {
        Backoff { pause: MAX_PAUSE }
    }

    /// The pause to take now, without moving on.
    pub(crate) fn current(&self) -> Duration {
        self.pause
    }

    /// The pause to take now; the next one is twice as long (capped).
    pub(crate) fn next_pause(&mut self) -> Duration {
        let pause = self.pause;
        self.pause = (pause * 2).min(MAX_PAUSE);
        pause
    }

    /// The schedule after one more step, leaving `self` as it is.
    pub(crate) fn advanced(mut self) -> Backoff {
        self.next_pause();
        self
    }

    /// Like [`next_pause`](Backoff::next_pause), cut short so as not to
    /// sleep past `deadline`; `None` once the deadline has passed.
    pub(crate) fn next_pause_until(&mut self, deadline: Option<Instant>) -> Option<Duration> {
        let pause = self.next_pause();
        match deadline {
            None => Some(pause),
            Some(d) => time_left(d).map(|left| pause.min(left)),
        }
    }
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new()
    }
}

/// The time left before `deadline`; `None` once it has come (a zero
/// remainder counts as come, so that a wait never turns into a 0 ms poll).
pub(crate) fn time_left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
}

/// Calls `check` until it returns `Some`, sleeping this thread on the
/// backoff schedule in between; `Ok(None)` once `deadline` passes (`None`:
/// no deadline). `check` always runs at least once, and once more at the
/// deadline, so an answer that arrives during the last pause is not lost.
/// The first error from `check` ends the wait.
// Windows waits on handles and never polls, so nothing there calls it.
#[cfg_attr(windows, allow(dead_code))]
pub(crate) fn poll_until<T, E>(
    deadline: Option<Instant>,
    check: impl FnMut() -> Result<Option<T>, E>,
) -> Result<Option<T>, E> {
    poll_on(Backoff::new(), deadline, check)
}

/// [`poll_until`] on the schedule `backoff`.
#[cfg_attr(windows, allow(dead_code))]
pub(crate) fn poll_on<T, E>(
    mut backoff: Backoff,
    deadline: Option<Instant>,
    mut check: impl FnMut() -> Result<Option<T>, E>,
) -> Result<Option<T>, E> {
    loop {
        if let Some(found) = check()? {
            return Ok(Some(found));
        }
        match backoff.next_pause_until(deadline) {
            Some(pause) => std::thread::sleep(pause),
            None => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_first_pause_up_to_the_cap() {
        let mut backoff = Backoff::new();
        let pauses: Vec<u64> = (0..9)
            .map(|_| backoff.next_pause().as_millis() as u64)
            .collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 32, 50, 50, 50]);
        assert_eq!(Backoff::slowest().current(), MAX_PAUSE);
        assert_eq!(Backoff::new().advanced().current(), FIRST_PAUSE * 2);
    }

    #[test]
    fn a_pause_never_runs_past_the_deadline() {
        let mut backoff = Backoff::slowest();
        let soon = Instant::now() + Duration::from_millis(5);
        assert!(backoff.next_pause_until(Some(soon)).unwrap() <= Duration::from_millis(5));
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(backoff.next_pause_until(Some(past)), None);
        assert_eq!(backoff.next_pause_until(None), Some(MAX_PAUSE));
    }

    #[test]
    fn poll_until_returns_the_answer_or_gives_up_at_the_deadline() {
        let mut calls = 0;
        let found: Result<Option<u32>, ()> = poll_until(None, || {
            calls += 1;
            Ok((calls == 3).then_some(7))
        });
        assert_eq!(found, Ok(Some(7)));

        let start = Instant::now();
        let deadline = start + Duration::from_millis(20);
        let never: Result<Option<()>, ()> = poll_until(Some(deadline), || Ok(None));
        assert_eq!(never, Ok(None));
        assert!(Instant::now() >= deadline);

        let failed: Result<Option<()>, &str> = poll_until(None, || Err("broken"));
        assert_eq!(failed, Err("broken"));
    }
}
