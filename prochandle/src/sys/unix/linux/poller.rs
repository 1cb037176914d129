//! The watcher's poller on Linux (see `sys/poll.rs`): one epoll instance
//! over the pidfds and the scopes' `cgroup.events` descriptors, plus an
//! eventfd to wake a blocked `wait` when the work changes under it.
//!
//! Why rustix's epoll and not `mio` or `polling`: rustix is already our one
//! Linux dependency, a pidfd needs nothing but `EPOLLIN`, and we want
//! `EPOLLONESHOT` semantics those crates hide or emulate. Each registration
//! is one-shot: the kernel reports it once and then disarms it, so two
//! threads in `next` never handle one exit twice, and a spurious readiness
//! (under ptrace) cannot make a level-triggered loop spin.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use rustix::event::epoll::{self, CreateFlags, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags};

use crate::error::{Error, Result};
use crate::sys::poll::Target;
use crate::sys::unix::errno::{self, Call};

/// The token of the eventfd; the registry never hands it out.
const WAKER: u64 = u64::MAX;

/// Longest single sleep in `epoll_wait`. Kernels before 5.11 refuse
/// timeouts past `i32::MAX` milliseconds; callers simply loop.
const MAX_SLEEP: Duration = Duration::from_secs(24 * 3600);

/// Events fetched per `epoll_wait`; more simply wait for the next call.
const BATCH: usize = 256;

/// What tells of a scope's emptiness: a `cgroup.events` descriptor opened
/// for the watcher alone.
pub(crate) type EmptyNotifier = OwnedFd;

/// A registered scope: the same descriptor, in the epoll while it is open.
pub(crate) type ScopeWatch = OwnedFd;

pub(crate) struct Poller {
    epoll: OwnedFd,
    waker: OwnedFd,
}

impl Poller {
    /// A pidfd's readiness is level-triggered: arming one whose process has
    /// already exited reports it at once, so no check is needed after.
    pub(crate) const CHECK_AFTER_ARM: bool = false;

    pub(crate) fn new() -> Result<Poller> {
        let epoll =
            epoll::create(CreateFlags::CLOEXEC).map_err(|e| fd_error("epoll_create1", e))?;
        let waker = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| fd_error("eventfd", e))?;
        epoll::add(&epoll, &waker, EventData::new_u64(WAKER), EventFlags::IN)
            .map_err(|e| Error::os("epoll_ctl", e.into()))?;
        Ok(Poller { epoll, waker })
    }

    /// Arms one readiness report for `target`'s pidfd under `token`.
    /// `false`: it has no pidfd (guarded-PID mode), so nothing is armed.
    pub(crate) fn register(&self, target: Target<'_>, token: u64) -> Result<bool> {
        let Some(handle) = target.handle else {
            return Ok(false);
        };
        epoll::add(&self.epoll, handle, EventData::new_u64(token), interest())
            .map_err(|e| ctl_error(e.into()))?;
        Ok(true)
    }

    /// Registers a scope's emptiness under `token`: its `cgroup.events`
    /// descriptor (opened for the watcher alone), for `EPOLLPRI`,
    /// edge-triggered. That file
    /// polls `EPOLLPRI` while its reader has not read the latest
    /// notification; this one is never read, so each notification the
    /// kernel sends (a `populated` change, at most one per 10 ms, the last
    /// one delayed rather than dropped) wakes the epoll once, and the
    /// registration itself reports once at once. Closing the descriptor
    /// (dropping the watch) unregisters it. Never `None` here.
    pub(crate) fn register_scope(
        &self,
        events: EmptyNotifier,
        token: u64,
    ) -> Result<Option<ScopeWatch>> {
        let flags = EventFlags::PRI | EventFlags::ET;
        epoll::add(&self.epoll, &events, EventData::new_u64(token), flags)
            .map_err(|e| ctl_error(e.into()))?;
        Ok(Some(events))
    }

    /// Arms the next report for a registered process.
    pub(crate) fn rearm(&self, target: Target<'_>, token: u64) -> Result<bool> {
        let Some(handle) = target.handle else {
            return Ok(false);
        };
        epoll::modify(&self.epoll, handle, EventData::new_u64(token), interest())
            .map_err(|e| ctl_error(e.into()))?;
        Ok(true)
    }

    /// Forgets `target`'s pidfd. Needed even though closing a descriptor
    /// removes it from epoll: the caller may have duplicated it, and a
    /// duplicate keeps the registration alive.
    pub(crate) fn deregister(&self, target: Target<'_>, _token: u64) {
        if let Some(handle) = target.handle {
            // Fails only if it was not registered, which is what we want.
            let _ = epoll::delete(&self.epoll, handle);
        }
    }

    /// Sleeps until something is ready, `timeout` passes (`None`: no limit)
    /// or `wake` is called; appends the ready tokens to `ready`.
    pub(crate) fn wait(&self, timeout: Option<Duration>, ready: &mut Vec<u64>) -> Result<()> {
        let timeout = timeout.unwrap_or(MAX_SLEEP).min(MAX_SLEEP);
        let timeout = crate::sys::timeout::rustix_timespec(timeout);
        let mut events = Vec::with_capacity(BATCH);
        match epoll::wait(
            &self.epoll,
            rustix::buffer::spare_capacity(&mut events),
            Some(&timeout),
        ) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(()),
            Err(e) => return Err(Error::os("epoll_wait", e.into())),
        }
        for event in &events {
            match event.data.u64() {
                WAKER => self.drain_waker(),
                token => ready.push(token),
            }
        }
        Ok(())
    }

    /// Makes a sleeping (or the next) `wait` return.
    pub(crate) fn wake(&self) {
        // Can fail only when the counter would overflow, and then it is
        // readable anyway.
        let _ = rustix::io::write(&self.waker, &1u64.to_ne_bytes());
    }

    fn drain_waker(&self) {
        let mut buf = [0u8; 8];
        let _ = rustix::io::read(self.waker.as_fd(), &mut buf);
    }
}

fn interest() -> EventFlags {
    EventFlags::IN | EventFlags::ONESHOT
}

fn fd_error(op: &'static str, e: rustix::io::Errno) -> Error {
    errno::os_error(Call::NewDescriptor, op, e.into())
}

fn ctl_error(e: io::Error) -> Error {
    errno::os_error(Call::EpollAdd, "epoll_ctl", e)
}
