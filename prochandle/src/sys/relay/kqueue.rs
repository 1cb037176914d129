//! macOS and FreeBSD: one kqueue with an `EVFILT_SIGNAL` filter per
//! relayed signal and an `EVFILT_PROC`/`NOTE_EXIT` filter on the awaited
//! process.
//!
//! `EVFILT_SIGNAL` records each delivery of a signal to this process, but
//! does not stop the delivery: the signal's action still runs. So each
//! relayed signal gets a handler that does nothing (a default action would
//! end the process). The handler runs nothing, so nothing
//! async-signal-unsafe can happen in it; `SIGCHLD` is left alone, the
//! exit comes from the `NOTE_EXIT` filter. A caught signal is reset to its
//! default action by `exec`; [`Receiver::restore_in_child`] puts back the
//! action the process had before `open` (an ignored signal stays ignored).
//!
//! The exit filter is armed on the PID, and the caller re-checks the
//! process after it is armed (the first `wait` returns at once): if the
//! process exited, or its PID was reused, before the filter was armed, the
//! re-check says so.
//!
//! This file is compiled and linted in CI (cross clippy), never run there.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::signal::Signal;
use crate::sys::unix::bsd::kqueue::{apply, new_queue};
use crate::sys::Process;

/// Events fetched per `kevent` call; more are fetched by the next.
const BATCH: usize = 16;

/// A kqueue of signal filters, and the exit filter of the awaited process.
pub(crate) struct Receiver {
    kq: OwnedFd,
    /// The PID whose `NOTE_EXIT` filter is armed, once `wait` armed it.
    watched: Mutex<Option<u32>>,
    /// Each relayed signal's action before `open`.
    original: Vec<(i32, libc::sigaction)>,
}

impl Receiver {
    /// Starts receiving `signals`: from here on they are recorded in the
    /// kqueue and do nothing else to this process.
    pub(crate) fn open(signals: &[Signal]) -> io::Result<Receiver> {
        let kq = new_queue()?;
        let mut original = Vec::new();
        for signal in signals {
            let raw = signal.as_raw();
            if !super::can_receive(raw) || original.iter().any(|(r, _)| *r == raw) {
                continue;
            }
            // The filter first, the handler second: a signal in between
            // is recorded and then does nothing, never the default action.
            let flags = libc::EV_ADD | libc::EV_CLEAR;
            apply(
                kq.as_fd(),
                raw as libc::uintptr_t,
                libc::EVFILT_SIGNAL,
                flags,
                0,
            )?;
            original.push((raw, catch(raw)?));
        }
        Ok(Receiver {
            kq,
            watched: Mutex::new(None),
            original,
        })
    }

    /// What a child needs put back: the action each relayed signal had
    /// before `open`.
    pub(crate) fn restore(&self) -> Restore {
        Restore(self.original.clone())
    }

    /// Sleeps until a relayed signal arrives, `process` exits or `timeout`
    /// passes; the signals received. Arming the exit filter returns at
    /// once, so that the caller re-checks the process after it.
    pub(crate) fn wait(
        &self,
        process: &Process,
        timeout: Option<Duration>,
    ) -> io::Result<Vec<Signal>> {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        if *watched != Some(process.pid()) {
            let flags = libc::EV_ADD | libc::EV_ONESHOT;
            let pid = process.pid() as libc::uintptr_t;
            match apply(
                self.kq.as_fd(),
                pid,
                libc::EVFILT_PROC,
                flags,
                libc::NOTE_EXIT,
            ) {
                Ok(()) => *watched = Some(process.pid()),
                // Already gone: the caller's re-check sees it.
                Err(err) if err.raw_os_error() == Some(libc::ESRCH) => {}
                Err(err) => return Err(err),
            }
            return Ok(Vec::new());
        }
        let spec = timeout.map(crate::sys::timeout::timespec);
        // SAFETY: kevent is plain data; all zeroes is a valid value.
        let mut events: [libc::kevent; BATCH] = unsafe { std::mem::zeroed() };
        // SAFETY: no changes are passed; `events` holds BATCH entries and
        // outlives the call; the timeout is null or points at `spec`.
        let n = unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                std::ptr::null(),
                0,
                events.as_mut_ptr(),
                BATCH as _,
                super::timespec_ptr(&spec),
            )
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            // One of our handlers ran: the signal is in the queue too.
            return match err.kind() {
                io::ErrorKind::Interrupted => Ok(Vec::new()),
                _ => Err(err),
            };
        }
        let mut received = Vec::new();
        for event in &events[..n as usize] {
            if event.filter == libc::EVFILT_SIGNAL {
                // `data` counts deliveries since the last report: relay
                // each kind once, as a signalfd reads a standard signal.
                received.push(Signal::from_raw(event.ident as i32));
            } else if event.filter == libc::EVFILT_PROC {
                // NOTE_EXIT fires once; the kernel drops the filter.
                *watched = None;
            }
        }
        Ok(received)
    }
}

/// The handler of every relayed signal: the kqueue has recorded it.
extern "C" fn recorded(_signal: libc::c_int) {}

/// Installs [`recorded`] for `signal`, restarting interrupted calls; the
/// action it replaces.
fn catch(signal: i32) -> io::Result<libc::sigaction> {
    // SAFETY: sigaction is plain data; all zeroes is a valid value (an
    // empty mask, no flags), then filled in below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = recorded as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: as above, a valid value for the old action to be written to.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: the handler does nothing, so it is async-signal-safe; both
    // structures outlive the call.
    if unsafe { libc::sigaction(signal, &action, &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// The signal state a child of a relaying process gets back before it
/// `exec`s: each relayed signal's action from before the relay.
#[derive(Clone)]
pub(crate) struct Restore(Vec<(i32, libc::sigaction)>);

impl std::fmt::Debug for Restore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Restore { .. }")
    }
}

impl Restore {
    /// Makes `command`'s child put the actions back just before `exec`.
    pub(crate) fn apply(&self, command: &mut Command) {
        let original = self.0.clone();
        // SAFETY: the closure runs in the child between fork and exec,
        // where only async-signal-safe calls are allowed: sigaction is
        // one, and the closure only reads the vector it owns (allocated
        // before the fork), allocating nothing.
        unsafe {
            command.pre_exec(move || {
                for (raw, action) in &original {
                    if libc::sigaction(*raw, action, std::ptr::null_mut()) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }
}
