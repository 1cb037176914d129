//! The one exit future, written once over a small reactor abstraction;
//! `tokio.rs` and `async_io.rs` only adapt their runtime to [`Reactor`].

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use super::pacer::Pacer;
use crate::backoff::REAP_GRACE;
use crate::error::{Error, Result};
use crate::process::Process;
use crate::state::{ExitStatus, ProcessState, UnknownReason};
use crate::sys::unix::errno::{self, Call};

/// A runtime an [`ExitFuture`] can wait on: implemented by
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

/// The pidfd handed to the reactor: the `Process`'s own, or a duplicate
/// when the reactor already has that one.
// `pub` only because the sealed `Reactor` names it; not reachable from
// outside the crate.
pub enum Pidfd {
    /// The process's own pidfd, by number. It stays open as long as the
    /// future that registered it: the future keeps the `Process` (borrowed
    /// or shared) and drops its registration first, and a `Process` never
    /// closes its pidfd while it is borrowed.
    Borrowed(RawFd),
    /// A duplicate, closed when the registration is dropped.
    Owned(OwnedFd),
}

impl AsRawFd for Pidfd {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Pidfd::Borrowed(fd) => *fd,
            Pidfd::Owned(fd) => fd.as_raw_fd(),
        }
    }
}

impl AsFd for Pidfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            // SAFETY: the descriptor is open for as long as this `Pidfd`
            // exists (see `Pidfd::Borrowed`), which covers the borrow.
            Pidfd::Borrowed(fd) => unsafe { BorrowedFd::borrow_raw(*fd) },
            Pidfd::Owned(fd) => fd.as_fd(),
        }
    }
}

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
