//! The exit future for async-io, the reactor of smol (feature `async-io`).

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::async_io::{Async, Timer};

use super::empty::{EmptyFuture, NoEvents, Scoped};
use super::exit::{ExitFuture, Waited};
use super::reactor::{Pidfd, Reactor};
use crate::process::Process;
use crate::scope::Scope;

/// Waits for `process` to exit on async-io's reactor: resolves to what
/// [`Process::wait`] would return. Any process, child or not; no `SIGCHLD`
/// handler; cancellation-safe (see the [module docs](super)). Works with
/// smol and with any executor; does nothing until polled.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use prochandle::{asyncio, Process};
///
/// let child = Process::spawn(Command::new("sh").args(["-c", "exit 7"]))?;
/// let state = async_io::block_on(asyncio::async_io::wait(&child))?;
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
/// # fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use std::sync::Arc;
/// use prochandle::{asyncio, Process};
///
/// let child = Arc::new(Process::spawn(Command::new("sh").args(["-c", "exit 3"]))?);
/// let exit = asyncio::async_io::wait_shared(Arc::clone(&child));
/// let waiter = std::thread::spawn(move || async_io::block_on(exit));
/// assert_eq!(waiter.join().unwrap()?.exit_code(), Some(3));
/// # Ok(()) }
/// ```
pub fn wait_shared(process: Arc<Process>) -> Exit<'static> {
    ExitFuture::new(Waited::Shared(process))
}

/// The future of [`wait`] and [`wait_shared`]: a named type, `Send` and
/// `Unpin`, that can be stored in a struct and polled by hand.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use prochandle::{asyncio, Process};
///
/// struct Job<'p> {
///     exit: asyncio::async_io::Exit<'p>,
/// }
///
/// let child = Process::spawn(&mut Command::new("true"))?;
/// let mut job = Job { exit: asyncio::async_io::wait(&child) };
/// let state = async_io::block_on(&mut job.exit)?;
/// assert!(state.success());
/// assert_eq!(job.exit.process().pid(), child.pid());
/// # Ok(()) }
/// ```
pub type Exit<'a> = ExitFuture<'a, AsyncIo>;

/// Waits until `scope` is empty: its *last* member has exited, not only
/// its first child. async-io's `Async` waits for readable and writable
/// only, and a `cgroup.events` file is always readable (the kernel marks
/// its changes with `POLLPRI`), so this future re-checks
/// [`Scope::is_empty`] on timers in every mode: after 1 ms, doubling up to
/// every 50 ms (the crate's one backoff policy), so the emptiness is seen
/// up to 50 ms late. (The tokio future sleeps on `POLLPRI` in the cgroup
/// modes.) Cancellation-safe; for a timeout, race it with a `Timer`.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use prochandle::{asyncio, Scope};
///
/// let scope = Scope::new()?;
/// scope.spawn(Command::new("sh").args(["-c", "sleep 0.1 & exit 0"]))?;
/// async_io::block_on(asyncio::async_io::wait_empty(&scope))?;
/// assert!(scope.is_empty()?);
/// # Ok(()) }
/// ```
pub fn wait_empty(scope: &Scope) -> Empty<'_> {
    EmptyFuture::new(Scoped::Borrowed(scope))
}

/// Like [`wait_empty`], for a scope shared through an [`Arc`]: an
/// `Empty<'static>`, to spawn or keep without a lifetime.
pub fn wait_empty_shared(scope: Arc<Scope>) -> Empty<'static> {
    EmptyFuture::new(Scoped::Shared(scope))
}

/// The future of [`wait_empty`] and [`wait_empty_shared`]: a named type,
/// `Send` and `Unpin`.
pub type Empty<'a> = EmptyFuture<'a, AsyncIo>;

/// async-io's reactor (`Async` for the pidfd, `Timer` for the pauses), as
/// the type parameter of [`ExitFuture`]: it has no values.
#[derive(Debug)]
pub enum AsyncIo {}

impl super::reactor::sealed::Sealed for AsyncIo {}

impl Reactor for AsyncIo {
    type Registration = Async<Pidfd>;
    type Timer = Timer;
    const NAME: &'static str = "async-io";
    type Events = NoEvents;
    // `Async` has no priority interest (the `polling` crate below it has,
    // but async-io does not pass it through).
    const PRIORITY: bool = false;

    fn register_events(_fd: OwnedFd) -> io::Result<NoEvents> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    fn poll_events(events: &mut NoEvents, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match *events {}
    }

    fn register(fd: Pidfd) -> io::Result<Async<Pidfd>> {
        // `new_nonblocking`: a pidfd is never read, so it need not be made
        // non-blocking (which would change the `Process`'s own pidfd, whose
        // flags a duplicate shares).
        Async::new_nonblocking(fd)
    }

    fn poll_readable(fd: &Async<Pidfd>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // async-io reports each event it delivers once.
        fd.poll_readable(cx)
    }

    fn timer(after: Duration) -> Timer {
        Timer::after(after)
    }

    fn reset(timer: &mut Timer, after: Duration) {
        timer.set_after(after);
    }

    fn poll_timer(timer: &mut Timer, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(timer).poll(cx).map(|_| ())
    }
}
