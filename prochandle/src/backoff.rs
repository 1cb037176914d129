//! The one wait/re-check policy of the crate.
//!
//! Where nothing can tell us that a process exited (no handle, or a status
//! the kernel records only after a parent reaps), we re-check: first soon,
//! then less often. One policy serves every such loop, so that a wait with
//! a handle and one without, sync or async, behave alike.

use std::time::{Duration, Instant};

/// How long a non-child's exit status is awaited after it exits, for its
/// parent to reap it: Linux records the status for others only then.
pub(crate) const REAP_GRACE: Duration = Duration::from_millis(250);

/// Exponential backoff between re-checks: 1 ms, doubling, capped.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    /// The first pause.
    pub(crate) const FIRST: Duration = Duration::from_millis(1);
    /// The longest pause: an exit is noticed at most this late.
    pub(crate) const CAP: Duration = Duration::from_millis(50);

    pub(crate) fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    /// The pause to take now; the next one doubles, up to [`Self::CAP`].
    pub(crate) fn next_pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(Self::CAP);
        pause
    }

    /// Calls `check` until it gives `Some`, sleeping between calls, or until
    /// `deadline` passes (`None`). `check` runs at least once, and once more
    /// at the deadline.
    pub(crate) fn poll_until<T>(
        mut self,
        deadline: Option<Instant>,
        mut check: impl FnMut() -> Option<T>,
    ) -> Option<T> {
        loop {
            if let Some(found) = check() {
                return Some(found);
            }
            let now = Instant::now();
            let pause = self.next_pause();
            let nap = match deadline {
                Some(d) if now >= d => return None,
                Some(d) => pause.min(d - now),
                None => pause,
            };
            std::thread::sleep(nap);
        }
    }
}
