//! The emptiness future of a [`Scope`], over the same [`Reactor`] as the
//! exit future; `tokio.rs` and `async_io.rs` name it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::pacer::Pacer;
use super::reactor::Reactor;
use crate::error::{Error, Result};
use crate::scope::Scope;

/// The scope a future waits for: borrowed, or shared through an `Arc`.
#[derive(Debug)]
pub(super) enum Scoped<'a> {
    Borrowed(&'a Scope),
    Shared(Arc<Scope>),
}

impl std::ops::Deref for Scoped<'_> {
    type Target = Scope;

    fn deref(&self) -> &Scope {
        match self {
            Scoped::Borrowed(scope) => scope,
            Scoped::Shared(scope) => scope,
        }
    }
}

/// The events registration of a reactor that cannot wait for `POLLPRI`
/// (async-io): it has no values. `pub` only because the sealed `Reactor`
/// names it; unreachable from outside the crate.
// Unused in a Linux build with tokio alone, whose reactor waits for POLLPRI.
#[cfg_attr(all(target_os = "linux", not(feature = "async-io")), allow(dead_code))]
#[derive(Debug)]
pub enum NoEvents {}

/// Where the future is in its wait.
enum Stage<R: Reactor> {
    /// Not polled yet: nothing registered.
    Start,
    /// Its own `cgroup.events` descriptor is on the reactor: check at each
    /// notification.
    Listening(R::Events),
    /// No notification to wait for: re-check on the backoff schedule.
    Polling,
}

/// Awaits a [`Scope`]'s emptiness (the exit of its *last* member) on the
/// runtime `R`: the future of [`tokio::wait_empty`](super::tokio::wait_empty)
/// and [`async_io::wait_empty`](super::async_io::wait_empty), named by each
/// runtime's alias ([`tokio::Empty`](super::tokio::Empty),
/// [`async_io::Empty`](super::async_io::Empty)).
///
/// `Send` and `Unpin`. Cancellation-safe: the emptiness is the scope's
/// state, not the future's, so dropping it at any point loses nothing (its
/// descriptor, registration and timer go with it).
#[must_use = "futures do nothing unless polled"]
pub struct EmptyFuture<'a, R: Reactor> {
    stage: Stage<R>,
    pacer: Pacer<R>,
    scope: Scoped<'a>,
}

impl<'a, R: Reactor> EmptyFuture<'a, R> {
    pub(super) fn new(scope: Scoped<'a>) -> Self {
        EmptyFuture {
            stage: Stage::Start,
            pacer: Pacer::new(),
            scope,
        }
    }

    /// The scope this future waits for.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// First poll, after a check found members: listen on the reactor if
    /// the scope has a `cgroup.events` file and the reactor can wait for
    /// `POLLPRI`, else poll.
    fn start(&mut self) -> Result<Stage<R>> {
        // Only Linux has cgroups, and so the file.
        #[cfg(target_os = "linux")]
        let events = if R::PRIORITY {
            self.scope.empty_notifier()?
        } else {
            None
        };
        #[cfg(not(target_os = "linux"))]
        let events: Option<std::os::fd::OwnedFd> = None;
        let Some(fd) = events else {
            self.pacer.pause(None);
            return Ok(Stage::Polling);
        };
        // A fresh descriptor reports once at registration: the next poll
        // checks again, closing the gap since the check before this.
        let events = R::register_events(fd).map_err(|e| {
            Error::os("epoll_ctl", e)
                .with_detail(format!("registering cgroup.events with {}", R::NAME))
        })?;
        Ok(Stage::Listening(events))
    }

    /// One step: `Ready(Ok(true))` once empty, `Ready(Ok(false))` to take
    /// the next step, `Pending` with a wake-up arranged.
    fn step(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool>> {
        ready!(self.pacer.poll_pause(cx));
        if let Stage::Listening(events) = &mut self.stage {
            ready!(R::poll_events(events, cx)).map_err(|e| Error::os("epoll_wait", e))?;
        }
        if self.scope.is_empty()? {
            return Poll::Ready(Ok(true));
        }
        match self.stage {
            Stage::Start => self.stage = self.start()?,
            Stage::Polling => self.pacer.pause(None),
            // Edge-triggered: the next notification wakes the next check.
            Stage::Listening(_) => {}
        }
        Poll::Ready(Ok(false))
    }
}

impl<R: Reactor> Future for EmptyFuture<'_, R> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let done = match ready!(this.step(cx)) {
                Ok(false) => continue,
                Ok(true) => Ok(()),
                Err(e) => Err(e),
            };
            // Polled again, the future starts a new wait.
            this.stage = Stage::Start;
            this.pacer.restart();
            return Poll::Ready(done);
        }
    }
}

impl<R: Reactor> fmt::Debug for EmptyFuture<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmptyFuture")
            .field("runtime", &R::NAME)
            .field("scope", &*self.scope)
            .finish_non_exhaustive()
    }
}
