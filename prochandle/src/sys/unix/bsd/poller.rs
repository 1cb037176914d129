//! The watcher's poller on macOS and FreeBSD (see `sys/poll.rs`): one kqueue, one
//! `EVFILT_PROC`/`NOTE_EXIT` filter per watched PID, and an `EVFILT_USER`
//! event to wake a sleeping `next`. Both systems have both filters.
//!
//! A `Process` here is a guarded PID (no handle), and a kqueue filter
//! watches a PID, not an identity. So the watcher re-checks every process
//! with `Process::try_wait` right after arming it (`CHECK_AFTER_ARM`): an
//! exit before the registration, or a reap and PID reuse that put a
//! stranger under the filter, is caught by that check; any exit after it
//! fires the filter. `ESRCH` at registration means the PID is gone: nothing
//! is armed, and the watcher's next check reports the exit.
//!
//! kqueue keys a filter by (PID, filter), so one PID added twice (two
//! `Process::open` of one process) shares one filter. The PID is therefore
//! the key here, not `udata`: the poller keeps the tokens armed per PID,
//! and the filter's firing readies them all. Filters are one-shot
//! (`EV_ONESHOT`): `NOTE_EXIT` fires once anyway, and the kernel then
//! drops the filter, matching our map, which drops the PID when it fires.
//!
//! This file is compiled and linted in CI (cross clippy), never run there.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::kqueue;
use crate::error::{Error, Result};
use crate::sys::poll::Target;

/// Ident of the wake-up event (`EVFILT_USER` idents are ours to choose and
/// live apart from `EVFILT_PROC`'s PIDs).
const WAKER: libc::uintptr_t = 0;

/// Longest single sleep, as on Linux; callers simply loop.
const MAX_SLEEP: Duration = Duration::from_secs(24 * 3600);

/// Events fetched per `kevent`; more wait for the next call.
const BATCH: usize = 256;

/// No scope has a notifier here (a process group has none): scopes are
/// re-checked, and none is ever registered.
pub(crate) enum EmptyNotifier {}

/// A registered scope; none can be (see [`EmptyNotifier`]).
pub(crate) enum ScopeWatch {}

pub(crate) struct Poller {
    kq: OwnedFd,
    /// Tokens armed per PID; a PID is here exactly while its filter is.
    armed: Mutex<HashMap<libc::pid_t, Vec<u64>>>,
}

impl Poller {
    /// A filter watches a PID, not a process: check after arming (module
    /// docs).
    pub(crate) const CHECK_AFTER_ARM: bool = true;

    pub(crate) fn new() -> Result<Poller> {
        let kq = kqueue::new_queue().map_err(|e| Error::os("kqueue", e))?;
        let poller = Poller {
            kq,
            armed: Mutex::new(HashMap::new()),
        };
        // EV_CLEAR: the trigger resets once a `kevent` call returns it.
        poller
            .change(WAKER, libc::EVFILT_USER, libc::EV_ADD | libc::EV_CLEAR, 0)
            .map_err(|e| Error::os("kevent", e))?;
        Ok(poller)
    }

    /// Arms `NOTE_EXIT` for `target`'s PID under `token`. `false`: not
    /// armed, because the PID is gone (`ESRCH`) or we may not watch it
    /// (`EPERM`); the watcher then re-checks it on its backoff schedule.
    pub(crate) fn register(&self, target: Target<'_>, token: u64) -> Result<bool> {
        let pid = target.pid as libc::pid_t;
        let mut armed = self.lock();
        if let Some(tokens) = armed.get_mut(&pid) {
            // Its filter is armed (or fired and not yet collected, which
            // readies this token too: the watcher's check sorts it out).
            tokens.push(token);
            return Ok(true);
        }
        let flags = libc::EV_ADD | libc::EV_ONESHOT;
        match self.change(
            pid as libc::uintptr_t,
            libc::EVFILT_PROC,
            flags,
            libc::NOTE_EXIT,
        ) {
            Ok(()) => {
                armed.insert(pid, vec![token]);
                Ok(true)
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::ESRCH | libc::EPERM)) => Ok(false),
            Err(e) => Err(Error::os("kevent", e)),
        }
    }

    /// Scopes are re-checked on the backoff schedule here (a process
    /// group has no notification this poller can take): never called.
    pub(crate) fn register_scope(
        &self,
        notifier: EmptyNotifier,
        _token: u64,
    ) -> Result<Option<ScopeWatch>> {
        match notifier {}
    }

    /// Arms the filter again after a report the watcher found not to be an
    /// exit.
    pub(crate) fn rearm(&self, target: Target<'_>, token: u64) -> Result<bool> {
        self.register(target, token)
    }

    /// Forgets `token`; the filter goes with the PID's last token.
    pub(crate) fn deregister(&self, target: Target<'_>, token: u64) {
        let pid = target.pid as libc::pid_t;
        let mut armed = self.lock();
        let Some(tokens) = armed.get_mut(&pid) else {
            return; // fired already
        };
        tokens.retain(|&t| t != token);
        if tokens.is_empty() {
            armed.remove(&pid);
            // ENOENT if it fired meanwhile: then it is gone, as we want.
            let _ = self.change(
                pid as libc::uintptr_t,
                libc::EVFILT_PROC,
                libc::EV_DELETE,
                0,
            );
        }
    }

    /// Sleeps until a filter fires, `timeout` passes (`None`: no limit) or
    /// `wake` is called; appends the ready tokens to `ready`.
    pub(crate) fn wait(&self, timeout: Option<Duration>, ready: &mut Vec<u64>) -> Result<()> {
        let timeout = timeout.unwrap_or(MAX_SLEEP).min(MAX_SLEEP);
        let timeout = crate::sys::timeout::timespec(timeout);
        let mut events: Vec<libc::kevent> = Vec::with_capacity(BATCH);
        // SAFETY: no changes; room for BATCH events in `events`' spare
        // capacity; a valid timeout.
        let n = unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                std::ptr::null(),
                0,
                events.as_mut_ptr(),
                BATCH as libc::c_int,
                &timeout,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(Error::os("kevent", e));
        }
        // SAFETY: the kernel wrote `n` (at most BATCH) events.
        unsafe { events.set_len(n as usize) };
        let mut armed = self.lock();
        for event in &events {
            // The waker needs nothing more: EV_CLEAR has reset it.
            if event.filter == libc::EVFILT_PROC {
                if let Some(tokens) = armed.remove(&(event.ident as libc::pid_t)) {
                    ready.extend(tokens);
                }
            }
        }
        Ok(())
    }

    /// Makes a sleeping (or the next) `wait` return.
    pub(crate) fn wake(&self) {
        // Fails only if the kqueue is gone, which it is not while we live.
        let _ = self.change(WAKER, libc::EVFILT_USER, 0, libc::NOTE_TRIGGER);
    }

    /// Applies one change to the kqueue.
    fn change(
        &self,
        ident: libc::uintptr_t,
        filter: i16,
        flags: u16,
        fflags: u32,
    ) -> io::Result<()> {
        kqueue::apply(self.kq.as_fd(), ident, filter, flags, fflags)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<libc::pid_t, Vec<u64>>> {
        self.armed.lock().unwrap_or_else(|e| e.into_inner())
    }
}
