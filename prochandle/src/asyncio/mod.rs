//! Awaiting a process's exit, for tokio and for async-io (smol).
//!
//! [`tokio::wait`] (feature `tokio`) and [`async_io::wait`] (feature
//! `async-io`) await any [`Process`], our child or not, and resolve to what
//! [`Process::wait`] would return. Unlike `tokio::process` and
//! `async-process`, they work for processes we did not spawn and never
//! install a `SIGCHLD` handler.
//!
//! # How they wait
//!
//! | process | mechanism |
//! | --- | --- |
//! | with a pidfd (Linux 5.4+) | the pidfd is registered with the runtime's reactor (`AsyncFd` / `Async`), and the future sleeps until it polls readable |
//! | without a handle (guarded-PID mode, other Unixes) | a timer re-checks [`Process::try_wait`] after 1 ms, doubling up to 50 ms: the exit is seen up to 50 ms late, at the cost of a few microseconds per check |
//!
//! A future registers the `Process`'s own pidfd, so it costs no descriptor.
//! A reactor refuses to register one descriptor twice: a second future on
//! the same `Process` in the same runtime registers a duplicate instead
//! (one more descriptor while it is pending), so any number of futures can
//! await one `Process` at once.
//!
//! Readiness is confirmed with [`Process::try_wait`] before the future
//! resolves: under ptrace it can be spurious (tokio#7144). A spurious
//! readiness is followed by a short timer, never a busy loop.
//!
//! # Cancellation
//!
//! Both futures are cancellation-safe. All state lives in the `Process`:
//! dropping a pending future loses nothing, and the process can be awaited
//! again (or waited on synchronously). A child is reaped in exactly one
//! place, [`Process::try_wait`], which stores the state it reaped.
//!
//! # Exit status of other processes
//!
//! For a process that is not our child, the status is known only on Linux
//! 6.15+ (`PIDFD_INFO_EXIT`) and only once its parent has reaped it; after
//! the exit, the future re-checks for up to 250 ms (on timers, without
//! blocking the runtime) for that to happen, like [`Process::wait`].
//!
//! # Runtime requirements
//!
//! The tokio future needs a runtime with IO and time enabled
//! (`Runtime::new()`, `#[tokio::main]` and `#[tokio::test]` have both) and
//! must be polled inside it; the async-io future runs anywhere.

#[cfg(feature = "async-io")]
pub mod async_io;
#[cfg(feature = "tokio")]
pub mod tokio;

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::process::Process;
use crate::state::{ExitStatus, ProcessState, UnknownReason};

/// Backoff of the timer-driven re-checks.
const RECHECK_MIN: Duration = Duration::from_millis(1);
const RECHECK_MAX: Duration = Duration::from_millis(50);

/// How long a non-child's status is awaited after its exit.
const REAP_GRACE: Duration = Duration::from_millis(250);

/// The error of duplicating a pidfd (`fcntl(F_DUPFD_CLOEXEC)`).
fn dup_error(e: std::io::Error) -> crate::Error {
    if crate::fd_limit::is_out_of_descriptors(&e) {
        crate::fd_limit::out_of_descriptors("fcntl(F_DUPFD_CLOEXEC)", e)
    } else {
        crate::Error::os("fcntl(F_DUPFD_CLOEXEC)", e)
    }
}

/// Doubles a backoff pause, up to [`RECHECK_MAX`].
fn next_pause(pause: Duration) -> Duration {
    (pause * 2).min(RECHECK_MAX)
}

/// The wait of last resort, for a process without a handle: re-checks on
/// the runtime's timer with backoff.
async fn poll_until_exit<S, F>(process: &Process, sleep: S) -> Result<ProcessState>
where
    S: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    let mut pause = RECHECK_MIN;
    loop {
        if let Some(state) = process.try_wait()? {
            return settle(process, state, &sleep).await;
        }
        sleep(pause).await;
        pause = next_pause(pause);
    }
}

/// Gives the parent of a non-child a moment to reap it, so that the kernel
/// can report its status; returns the best state known by then.
async fn settle<S, F>(process: &Process, state: ProcessState, sleep: &S) -> Result<ProcessState>
where
    S: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    let give_up = Instant::now() + REAP_GRACE;
    let mut state = state;
    let mut pause = RECHECK_MIN;
    while state.status() == ExitStatus::Unknown(UnknownReason::NotReapedYet)
        && Instant::now() < give_up
    {
        sleep(pause).await;
        pause = next_pause(pause);
        if let Some(newer) = process.try_wait()? {
            state = newer;
        }
    }
    Ok(state)
}
