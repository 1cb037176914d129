//! Waiting for something that happens on its own (an exit, a state change
//! in `/proc`), with a deadline so that a test never hangs.

use std::time::{Duration, Instant};

/// How long [`eventually`] waits.
const EVENTUALLY: Duration = Duration::from_secs(10);

/// Polls `f` every few milliseconds until it returns `Some`, for up to
/// `limit`; `None` if it never did.
pub fn within<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = f() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls `f` until it returns `Some`, and returns that; fails the test,
/// naming `what`, if that takes more than ten seconds.
///
/// ```
/// use prochandle_test_support::eventually;
///
/// let mut tries = 0;
/// let third = eventually("the third try", || {
///     tries += 1;
///     (tries == 3).then_some(tries)
/// });
/// assert_eq!(third, 3);
/// ```
pub fn eventually<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    within(EVENTUALLY, f).unwrap_or_else(|| panic!("timed out waiting for {what}"))
}
