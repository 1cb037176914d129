//! The one exit future, written once over the small reactor abstraction
//! of `reactor.rs`; `tokio.rs` and `async_io.rs` only adapt their runtime
//! to it.

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use super::pacer::Pacer;
use super::reactor::{Pidfd, Reactor};
use crate::backoff::REAP_GRACE;
use crate::error::{Error, Result};
use crate::process::Process;
use crate::state::{ExitStatus, ProcessState, UnknownReason};
use crate::sys::unix::errno::{self, Call};

/// The process a future waits for: borrowed, or shared through an `Arc`
/// (for a future with no lifetime to carry).
#[derive(Debug)]
pub(super) enum Waited<'a> {
    Borrowed(&'a Process),
    Shared(Arc<Process>),
}

impl std::ops::Deref for Waited<'_> {
    type Target = Process;

    fn deref(&self) -> &Process {
        match self {
            Waited::Borrowed(process) => process,
            Waited::Shared(process) => process,
        }
    }
}

/// Where the future is in its wait.
enum Stage<R: Reactor> {
    /// Not polled yet: nothing registered.
    Start,
    /// The pidfd is on the reactor: wait until it is readable.
    Listening(R::Registration),
    /// No handle: re-check on the backoff schedule.
    Polling,
    /// Exited as `best` says. A non-child whose parent has not reaped it
    /// yet (`NotReapedYet`) is re-checked for its status until `give_up`;
    /// any other state is the answer.
    Settling {
        best: ProcessState,
        give_up: Instant,
    },
}

/// Awaits a process's exit on the runtime `R`: the future of
/// [`tokio::wait`](super::tokio::wait) and
/// [`async_io::wait`](super::async_io::wait), named by each runtime's alias
/// ([`tokio::Exit`](super::tokio::Exit), [`async_io::Exit`](super::async_io::Exit)).
///
/// `Send` and `Unpin`: it can be stored in a struct and polled by hand.
/// All the wait's state lives in the `Process`, so dropping this at any
/// point loses nothing: its registration and timer go with it.
#[must_use = "futures do nothing unless polled"]
pub struct ExitFuture<'a, R: Reactor> {
    // Declared before `process`, so dropped before it: the registration
    // may name the process's own pidfd, which must be open when the
    // reactor lets go of it.
    stage: Stage<R>,
    pacer: Pacer<R>,
    process: Waited<'a>,
}

impl<'a, R: Reactor> ExitFuture<'a, R> {
    pub(super) fn new(process: Waited<'a>) -> Self {
        ExitFuture {
            stage: Stage::Start,
            pacer: Pacer::new(),
            process,
        }
    }

    /// The process this future waits for.
    pub fn process(&self) -> &Process {
        &self.process
    }

    /// First poll: the process may be gone already; else listen on the
    /// reactor if it has a handle, or poll if not.
    fn start(&mut self) -> Result<Option<Stage<R>>> {
        if let Some(state) = self.process.try_wait()? {
            return Ok(Some(self.settling(state)));
        }
        let Some(handle) = self.process.handle() else {
            // Just checked: the first re-check comes after a pause.
            self.pacer.pause(None);
            return Ok(Some(Stage::Polling));
        };
        // Register the process's own pidfd; only if the reactor already
        // has it (another future on the same `Process`) register a
        // duplicate, which costs a descriptor while this future lives.
        match R::register(Pidfd::Borrowed(handle.as_raw_fd())) {
            Ok(registration) => Ok(Some(Stage::Listening(registration))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let dup = handle.try_clone_to_owned().map_err(dup_error)?;
                let registration = R::register(Pidfd::Owned(dup)).map_err(register_error::<R>)?;
                Ok(Some(Stage::Listening(registration)))
            }
            Err(e) => Err(register_error::<R>(e)),
        }
    }

    /// The stage after seeing the exit as `state`.
    fn settling(&mut self, state: ProcessState) -> Stage<R> {
        self.pacer.restart();
        Stage::Settling {
            best: state,
            give_up: Instant::now() + REAP_GRACE,
        }
    }

    /// One step of the wait: `Ready(Ok(Some(state)))` when done,
    /// `Ready(Ok(None))` to take the next step, `Pending` with a wake-up
    /// arranged (reactor or timer).
    fn step(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<ProcessState>>> {
        if ready!(self.pacer.poll_pause(cx)) {
            if let Stage::Settling { best, .. } = &mut self.stage {
                // Has the parent reaped it meanwhile?
                if let Some(newer) = self.process.try_wait()? {
                    *best = newer;
                }
            }
        }
        let stage = match &mut self.stage {
            Stage::Start => self.start()?,
            Stage::Listening(registration) => {
                let readable = ready!(R::poll_readable(registration, cx));
                readable.map_err(|e| Error::os("epoll_wait", e))?;
                // Readiness can be spurious (under ptrace): confirm it, and
                // if the process still runs, pause before listening again,
                // so that a handle that keeps signalling cannot make this
                // spin.
                self.check_or_pause()?
            }
            Stage::Polling => self.check_or_pause()?,
            Stage::Settling { best, give_up } => {
                let now = Instant::now();
                if !not_reaped_yet(best) || now >= *give_up {
                    return Poll::Ready(Ok(Some(*best)));
                }
                let left = *give_up - now;
                self.pacer.pause(Some(left));
                None
            }
        };
        if let Some(stage) = stage {
            self.stage = stage;
        }
        Poll::Ready(Ok(None))
    }

    /// Checks the process: the next stage if it has exited, else a pause
    /// (and `None`: the stage stays).
    fn check_or_pause(&mut self) -> Result<Option<Stage<R>>> {
        match self.process.try_wait()? {
            Some(state) => Ok(Some(self.settling(state))),
            None => {
                self.pacer.pause(None);
                Ok(None)
            }
        }
    }
}

impl<R: Reactor> Future for ExitFuture<'_, R> {
    type Output = Result<ProcessState>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let done = match ready!(this.step(cx)) {
                Ok(None) => continue,
                Ok(Some(state)) => Ok(state),
                Err(e) => Err(e),
            };
            // Polled again, the future starts a new wait (which, for a
            // reaped child, answers at once).
            this.stage = Stage::Start;
            this.pacer.restart();
            return Poll::Ready(done);
        }
    }
}

impl<R: Reactor> fmt::Debug for ExitFuture<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExitFuture")
            .field("runtime", &R::NAME)
            .field("pid", &self.process().pid())
            .finish_non_exhaustive()
    }
}

fn not_reaped_yet(state: &ProcessState) -> bool {
    state.status() == ExitStatus::Unknown(UnknownReason::NotReapedYet)
}

/// The error of duplicating a pidfd (`fcntl(F_DUPFD_CLOEXEC)`).
fn dup_error(e: io::Error) -> Error {
    errno::os_error(Call::NewDescriptor, "fcntl(F_DUPFD_CLOEXEC)", e)
}

fn register_error<R: Reactor>(e: io::Error) -> Error {
    Error::os("epoll_ctl", e).with_detail(format!("registering the pidfd with {}", R::NAME))
}
