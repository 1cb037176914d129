//! Awaiting a process's exit, for tokio and for async-io (smol).
//!
//! [`tokio::wait`] (feature `tokio`) and [`async_io::wait`] (feature
//! `async-io`) await any [`Process`], our child or not, and resolve to what
//! [`Process::wait`] would return. Unlike `tokio::process` and
//! `async-process`, they work for processes we did not spawn and never
//! install a `SIGCHLD` handler.
//!
//! # Named futures
//!
//! Both return a named future, [`tokio::Exit`] and [`async_io::Exit`]
//! (aliases of the one generic [`ExitFuture`]): `Send`, `Unpin`, and
//! storable in a struct of your own. `wait(&process)`
//! borrows the process (`Exit<'_>`); `wait_shared(Arc<Process>)` borrows
//! nothing (`Exit<'static>`), for a future to spawn or keep without a
//! lifetime. Both are one implementation over a small reactor abstraction
//! (the pidfd on the reactor, and timers); each runtime only adapts its
//! types to it.
//!
//! ```
//! # #[cfg(feature = "tokio")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> prochandle::Result<()> {
//! use std::process::Command;
//! use std::sync::Arc;
//! use prochandle::{asyncio, Process};
//!
//! struct Supervised {
//!     exit: asyncio::tokio::Exit<'static>,
//! }
//!
//! let child = Arc::new(Process::spawn(Command::new("sh").args(["-c", "exit 4"]))?);
//! let mut job = Supervised { exit: asyncio::tokio::wait_shared(child) };
//! tokio::select! {
//!     state = &mut job.exit => assert_eq!(state?.exit_code(), Some(4)),
//!     _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => panic!("too slow"),
//! }
//! # Ok(()) }
//! # #[cfg(not(feature = "tokio"))]
//! # fn main() {}
//! ```
//!
//! # A scope's emptiness
//!
//! [`tokio::wait_empty`] and [`async_io::wait_empty`] (and their
//! `wait_empty_shared` forms) await a [`Scope`](crate::Scope)'s last
//! member's exit: named futures ([`tokio::Empty`], [`async_io::Empty`],
//! aliases of [`EmptyFuture`]), `Send`, `Unpin`, cancellation-safe. The
//! tokio one sleeps on `POLLPRI` of a `cgroup.events` descriptor of its
//! own in the Linux cgroup modes; the async-io one, whose `Async` has no
//! priority interest, and both in the other modes, re-check on timers
//! (1 ms doubling to 50 ms).
//!
//! # How they wait
//!
//! | process | mechanism |
//! | --- | --- |
//! | with a pidfd (Linux 5.4+) | the pidfd is registered with the runtime's reactor (`AsyncFd` / `Async`), and the future sleeps until it polls readable |
//! | without a handle (guarded-PID mode, other Unixes) | a timer re-checks [`Process::try_wait`] after 1 ms, doubling up to 50 ms (the crate's one backoff policy): the exit is seen up to 50 ms late, at the cost of a few microseconds per check |
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
//! dropping a pending future loses nothing (its reactor registration, any
//! duplicate descriptor and its timer go with it), and the process can be
//! awaited again (or waited on synchronously). A future polled again after
//! it resolved starts a new wait, which for a reaped child answers at
//! once. A child is reaped in exactly one
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

mod empty;
mod exit;
mod pacer;
mod reactor;

pub use empty::EmptyFuture;
pub use exit::ExitFuture;
pub use reactor::Reactor;

#[cfg(doc)]
use crate::process::Process;
