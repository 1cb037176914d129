//! The exit future for tokio (feature `tokio`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::unix::AsyncFd;
use ::tokio::io::Interest;
use ::tokio::time::{Instant, Sleep};

use super::exit::{ExitFuture, Pidfd, Reactor, Waited};
use crate::process::Process;

/// Waits for `process` to exit, without blocking the runtime: resolves to
/// what [`Process::wait`] would return. Any process, child or not; no
/// `SIGCHLD` handler; cancellation-safe (see the [module docs](super)).
///
/// Must be polled inside a tokio runtime with IO and time enabled; it does
/// nothing until polled.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use prochandle::{asyncio, Process};
///
/// let child = Process::spawn(Command::new("sh").args(["-c", "exit 7"]))?;
/// let state = asyncio::tokio::wait(&child).await?;
/// assert_eq!(state.exit_code(), Some(7));
/// # Ok(()) }
/// ```
pub fn wait(process: &Process) -> Exit<'_> {
    ExitFuture::new(Waited::Borrowed(process))
}

/// Like [`wait`], for a process shared through an [`Arc`]: the future
/// borrows nothing, so it is `'static` and can be spawned or kept in a
/// struct without a lifetime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use std::sync::Arc;
/// use prochandle::{asyncio, Process};
///
/// let child = Arc::new(Process::spawn(Command::new("sh").args(["-c", "exit 3"]))?);
/// let task = tokio::spawn(asyncio::tokio::wait_shared(Arc::clone(&child)));
/// assert_eq!(task.await.unwrap()?.exit_code(), Some(3));
/// # Ok(()) }
/// ```
pub fn wait_shared(process: Arc<Process>) -> Exit<'static> {
    ExitFuture::new(Waited::Shared(process))
}

/// The future of [`wait`] and [`wait_shared`]: a named type, `Send` and
/// `Unpin`, that can be stored in a struct and polled by hand.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use std::sync::Arc;
/// use prochandle::{asyncio, Process};
///
/// struct Job {
///     name: &'static str,
///     exit: asyncio::tokio::Exit<'static>,
/// }
///
/// let child = Arc::new(Process::spawn(&mut Command::new("true"))?);
/// let mut job = Job { name: "true", exit: asyncio::tokio::wait_shared(child) };
/// let state = (&mut job.exit).await?;
/// assert!(state.success(), "{} failed", job.name);
/// # Ok(()) }
/// ```
pub type Exit<'a> = ExitFuture<'a, Tokio>;

/// tokio's reactor (`AsyncFd` for the pidfd, `Sleep` for the pauses), as the
/// type parameter of [`ExitFuture`]: it has no values.
#[derive(Debug)]
pub enum Tokio {}

impl super::exit::sealed::Sealed for Tokio {}

impl Reactor for Tokio {
    type Registration = AsyncFd<Pidfd>;
    // Boxed: a `Sleep` is not `Unpin`. One per future, re-armed by `reset`.
    type Timer = Pin<Box<Sleep>>;
    const NAME: &'static str = "tokio";

    fn register(fd: Pidfd) -> io::Result<AsyncFd<Pidfd>> {
        // `with_interest` is deprecated in tokio 1.54 for types whose raw
        // fd could change; a `Pidfd` cannot, and the replacement does not
        // exist before 1.54, which we do not want to require.
        #[allow(deprecated)]
        AsyncFd::with_interest(fd, Interest::READABLE)
    }

    fn poll_readable(fd: &AsyncFd<Pidfd>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut guard = std::task::ready!(fd.poll_read_ready(cx))?;
        // Report this readiness once: the next poll waits for a new edge.
        guard.clear_ready();
        Poll::Ready(Ok(()))
    }

    fn timer(after: Duration) -> Self::Timer {
        Box::pin(::tokio::time::sleep(after))
    }

    fn reset(timer: &mut Self::Timer, after: Duration) {
        timer.as_mut().reset(Instant::now() + after);
    }

    fn poll_timer(timer: &mut Self::Timer, cx: &mut Context<'_>) -> Poll<()> {
        timer.as_mut().poll(cx)
    }
}
