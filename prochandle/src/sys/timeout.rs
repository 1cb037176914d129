//! The one rule for turning a deadline into a blocking call's timeout.
//!
//! Every wait in `sys` (`poll`, `ppoll`, `epoll_wait`, `kevent`,
//! `WaitForSingleObject`, `GetQueuedCompletionStatus`) takes its timeout
//! from here, so they all agree on four things:
//!
//! - **No deadline is no limit**: `None` stays the call's "forever" (a
//!   null timespec, `INFINITE`), and nothing else ever becomes it.
//! - **A deadline that has passed is zero**: the call looks once and
//!   returns; it never blocks, and never becomes "no timeout".
//! - **Too long saturates at the call's maximum**, never wraps or turns
//!   into a short wait: the call comes back early, and its caller, which
//!   loops until its own deadline, goes round again.
//! - **Remainders round up** to the call's unit, so a wait never returns
//!   before its deadline and a sub-millisecond remainder never becomes a
//!   0 ms busy poll.

use std::time::{Duration, Instant};

/// The time left before `deadline` (`None`: no deadline, no limit); zero
/// once it has passed.
pub(crate) fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

/// `timeout` in whole milliseconds, rounded up, at most `max` (which a
/// call whose "forever" is a millisecond value keeps below that value).
// Only Windows waits take milliseconds (Unix waits take a timespec).
#[cfg_attr(unix, allow(dead_code))]
pub(crate) fn ceil_millis(timeout: Duration, max: u32) -> u32 {
    let ms = timeout.as_nanos().div_ceil(1_000_000);
    u32::try_from(ms).unwrap_or(max).min(max)
}

/// The longest `timespec` handed to a kernel: 2³¹−1 seconds, 68 years.
/// Every Unix kernel takes it (FreeBSD treats more as forever, others
/// overflow converting to their clock), and no caller can tell it from
/// forever.
#[cfg(unix)]
pub(crate) const MAX_TIMESPEC_SECS: u64 = i32::MAX as u64;

/// `timeout` as the C library's `timespec` (`ppoll`, `kevent`), saturated
/// at [`MAX_TIMESPEC_SECS`]. Nanoseconds are exact: nothing to round.
#[cfg(unix)]
pub(crate) fn timespec(timeout: Duration) -> libc::timespec {
    let (secs, nanos) = timespec_parts(timeout);
    libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: nanos as libc::c_long,
    }
}

/// `timeout` as rustix's `Timespec` (`poll`, `epoll_wait`), by the same
/// rule as [`timespec`].
#[cfg(target_os = "linux")]
pub(crate) fn rustix_timespec(timeout: Duration) -> rustix::event::Timespec {
    let (secs, nanos) = timespec_parts(timeout);
    rustix::event::Timespec {
        tv_sec: secs as i64,
        tv_nsec: nanos as _,
    }
}

/// Seconds and nanoseconds of `timeout`, saturated at
/// [`MAX_TIMESPEC_SECS`] (with the nanoseconds then dropped, so the
/// maximum is exactly 2³¹−1 seconds).
#[cfg(unix)]
fn timespec_parts(timeout: Duration) -> (u64, u32) {
    if timeout.as_secs() >= MAX_TIMESPEC_SECS {
        (MAX_TIMESPEC_SECS, 0)
    } else {
        (timeout.as_secs(), timeout.subsec_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_deadline_is_no_limit_and_a_past_one_is_zero() {
        assert_eq!(remaining(None), None);
        let past = Instant::now() - Duration::from_millis(5);
        assert_eq!(remaining(Some(past)), Some(Duration::ZERO));
        let later = Instant::now() + Duration::from_secs(60);
        let left = remaining(Some(later)).unwrap();
        assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(60));
    }

    #[test]
    fn milliseconds_round_up_and_saturate_below_forever() {
        assert_eq!(ceil_millis(Duration::ZERO, 10), 0);
        assert_eq!(ceil_millis(Duration::from_nanos(1), 10), 1);
        assert_eq!(ceil_millis(Duration::from_micros(1500), 10), 2);
        assert_eq!(ceil_millis(Duration::from_millis(3), 10), 3);
        assert_eq!(ceil_millis(Duration::from_secs(1), 10), 10);
        assert_eq!(ceil_millis(Duration::MAX, u32::MAX - 1), u32::MAX - 1);
        let just_over = Duration::from_millis(u64::from(u32::MAX) + 1);
        assert_eq!(ceil_millis(just_over, 7), 7);
    }

    #[cfg(unix)]
    #[test]
    fn timespecs_are_exact_and_saturate_at_68_years() {
        let t = timespec(Duration::new(3, 999_999_999));
        assert_eq!((t.tv_sec, t.tv_nsec), (3, 999_999_999));
        let t = timespec(Duration::ZERO);
        assert_eq!((t.tv_sec, t.tv_nsec), (0, 0));
        for long in [Duration::MAX, Duration::from_secs(MAX_TIMESPEC_SECS)] {
            let t = timespec(long);
            assert_eq!((t.tv_sec, t.tv_nsec), (2_147_483_647, 0));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn rustix_timespecs_follow_the_same_rule() {
        let t = rustix_timespec(Duration::MAX);
        assert_eq!((t.tv_sec, t.tv_nsec), (2_147_483_647, 0));
        let t = rustix_timespec(Duration::from_nanos(1));
        assert_eq!((t.tv_sec, t.tv_nsec), (0, 1));
    }
}
