//! What the futures need from an async runtime, as one sealed trait: the
//! seam between the futures (`exit.rs`, `empty.rs`, `pacer.rs`) and each
//! runtime's adapter (`tokio.rs`, `async_io.rs`).

use std::io;
use std::os::fd::OwnedFd;
use std::task::{Context, Poll};
use std::time::Duration;

/// A runtime an [`ExitFuture`](super::ExitFuture) can wait on: implemented by
/// [`tokio::Tokio`](super::tokio::Tokio) and
/// [`async_io::AsyncIo`](super::async_io::AsyncIo), and sealed.
///
/// What the futures need from a runtime: a pidfd registered with its
/// reactor, a scope's `cgroup.events` descriptor registered for `POLLPRI`
/// where the reactor can, and timers. Every method is called from inside `poll`, so from
/// within the runtime.
pub trait Reactor: sealed::Sealed {
    #[doc(hidden)]
    /// A pidfd registered with the reactor; deregisters on drop.
    type Registration: Send + Unpin;
    #[doc(hidden)]
    /// A timer that can be re-armed.
    type Timer: Send + Unpin;
    #[doc(hidden)]
    /// Names the runtime in errors.
    const NAME: &'static str;

    #[doc(hidden)]
    fn register(fd: Pidfd) -> io::Result<Self::Registration>;
    /// Ready once the reactor has seen the pidfd readable since the last
    /// `Ready`: each readiness is reported once, so that a spurious one
    /// (which the future re-checks and ignores) is not reported again.
    #[doc(hidden)]
    fn poll_readable(
        registration: &Self::Registration,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>>;
    #[doc(hidden)]
    /// A scope's own `cgroup.events` descriptor on the reactor, for
    /// `POLLPRI`; deregisters and closes on drop.
    type Events: Send + Unpin;
    #[doc(hidden)]
    /// Whether the reactor can wait for `POLLPRI`. If not, the emptiness
    /// future re-checks on timers.
    const PRIORITY: bool;
    #[doc(hidden)]
    fn register_events(fd: OwnedFd) -> io::Result<Self::Events>;
    /// Ready once per kernel notification since the last `Ready`.
    #[doc(hidden)]
    fn poll_events(events: &mut Self::Events, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    #[doc(hidden)]
    fn timer(after: Duration) -> Self::Timer;
    #[doc(hidden)]
    fn reset(timer: &mut Self::Timer, after: Duration);
    #[doc(hidden)]
    fn poll_timer(timer: &mut Self::Timer, cx: &mut Context<'_>) -> Poll<()>;
}

pub(super) mod sealed {
    /// Only this crate's runtimes implement [`Reactor`](super::Reactor).
    pub trait Sealed {}
}

// The pidfd handed to the reactor lives in the OS layer: its borrowed form
// is a raw descriptor, and lending it out takes an `unsafe` promise.
pub(crate) use crate::sys::Pidfd;
