//! The exit future for tokio (feature `tokio`).

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::unix::AsyncFd;
use ::tokio::io::Interest;
use ::tokio::time::{Instant, Sleep};

#[cfg(not(target_os = "linux"))]
use super::empty::NoEvents as Events;
use super::empty::{EmptyFuture, Scoped};
use super::exit::{ExitFuture, Waited};
use super::reactor::{Pidfd, Reactor};
use crate::process::Process;
use crate::scope::Scope;
#[cfg(target_os = "linux")]
use events::Events;

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

/// Waits until `scope` is empty: its *last* member has exited, not only
/// its first child. In the Linux cgroup modes the future sleeps on the
/// reactor until the kernel notifies a change of `cgroup.events`
/// (`AsyncFd` with `Interest::PRIORITY`, on a descriptor of its own), and
/// checks [`Scope::is_empty`] then (the kernel sends at most one
/// notification per 10 ms, so the emptiness is seen up to 10 ms late);
/// in the other modes it re-checks on timers, after 1 ms doubling up to
/// every 50 ms. Cancellation-safe; for a timeout, wrap it in
/// `tokio::time::timeout`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use std::time::Duration;
/// use prochandle::{asyncio, Scope};
///
/// let scope = Scope::new()?;
/// scope.spawn(Command::new("sh").args(["-c", "sleep 0.2 & exit 0"]))?;
/// // The shell exits at once; the scope is empty once the sleep is done.
/// tokio::time::timeout(Duration::from_secs(10), asyncio::tokio::wait_empty(&scope))
///     .await
///     .expect("empty within 10 s")?;
/// # Ok(()) }
/// ```
pub fn wait_empty(scope: &Scope) -> Empty<'_> {
    EmptyFuture::new(Scoped::Borrowed(scope))
}

/// Like [`wait_empty`], for a scope shared through an [`Arc`]: an
/// `Empty<'static>`, to spawn or keep without a lifetime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> prochandle::Result<()> {
/// use std::sync::Arc;
/// use prochandle::{asyncio, Scope};
///
/// let scope = Arc::new(Scope::new()?);
/// scope.spawn(&mut std::process::Command::new("true"))?.wait()?;
/// tokio::spawn(asyncio::tokio::wait_empty_shared(scope)).await.unwrap()?;
/// # Ok(()) }
/// ```
pub fn wait_empty_shared(scope: Arc<Scope>) -> Empty<'static> {
    EmptyFuture::new(Scoped::Shared(scope))
}

/// The future of [`wait_empty`] and [`wait_empty_shared`]: a named type,
/// `Send` and `Unpin`.
pub type Empty<'a> = EmptyFuture<'a, Tokio>;

/// tokio's reactor (`AsyncFd` for the pidfd, `Sleep` for the pauses), as the
/// type parameter of [`ExitFuture`]: it has no values.
#[derive(Debug)]
pub enum Tokio {}

impl super::reactor::sealed::Sealed for Tokio {}

impl Reactor for Tokio {
    type Registration = AsyncFd<Pidfd>;
    // Boxed: a `Sleep` is not `Unpin`. One per future, re-armed by `reset`.
    type Timer = Pin<Box<Sleep>>;
    const NAME: &'static str = "tokio";
    type Events = Events;
    // `Interest::PRIORITY` exists on Linux (and Android) only; so do
    // cgroups.
    const PRIORITY: bool = cfg!(target_os = "linux");

    #[cfg(target_os = "linux")]
    fn register_events(fd: OwnedFd) -> io::Result<Events> {
        Events::new(fd)
    }

    #[cfg(not(target_os = "linux"))]
    fn register_events(_fd: OwnedFd) -> io::Result<Events> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    #[cfg(target_os = "linux")]
    fn poll_events(events: &mut Events, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        events.poll(cx)
    }

    #[cfg(not(target_os = "linux"))]
    fn poll_events(events: &mut Events, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match *events {}
    }

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

#[cfg(target_os = "linux")]
mod events {
    //! A `cgroup.events` descriptor on tokio's reactor, for `POLLPRI`.
    //! `pub` only because the sealed `Reactor` names it; unreachable from
    //! outside the crate.

    use std::future::Future;
    use std::io;
    use std::os::fd::OwnedFd;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use ::tokio::io::unix::AsyncFd;
    use ::tokio::io::Interest;

    type Wait = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    pub struct Events {
        fd: Arc<AsyncFd<OwnedFd>>,
        /// The pending `ready(PRIORITY)` (it borrows the `AsyncFd`, hence
        /// the `Arc`); made anew after each notification, which is rare.
        wait: Option<Wait>,
    }

    impl Events {
        pub(super) fn new(fd: OwnedFd) -> io::Result<Events> {
            // PRIORITY only: a `cgroup.events` file always polls readable.
            // (`with_interest`: see `register` above on the deprecation.)
            #[allow(deprecated)]
            let fd = AsyncFd::with_interest(fd, Interest::PRIORITY)?;
            Ok(Events {
                fd: Arc::new(fd),
                wait: None,
            })
        }

        pub(super) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let fd = &self.fd;
            let wait = self.wait.get_or_insert_with(|| {
                let fd = Arc::clone(fd);
                Box::pin(async move {
                    // Each notification is reported once: the next wait
                    // is for a new one.
                    fd.ready(Interest::PRIORITY).await?.clear_ready();
                    Ok(())
                })
            });
            let done = std::task::ready!(wait.as_mut().poll(cx));
            self.wait = None;
            Poll::Ready(done)
        }
    }
}
