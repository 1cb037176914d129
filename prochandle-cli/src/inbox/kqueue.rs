//! macOS and FreeBSD: one kqueue with an `EVFILT_SIGNAL` filter per
//! forwarded signal and an `EVFILT_PROC`/`NOTE_EXIT` filter on CMD.
//!
//! `EVFILT_SIGNAL` records each delivery of a signal to this process, but
//! does not stop the delivery: the signal's action still runs. So each
//! forwarded signal gets a handler that does nothing (a default action
//! would end prochandle; an ignored signal would stay ignored in CMD after
//! `exec`, while a caught one is reset to the default there). The handler
//! runs nothing, so nothing async-signal-unsafe can happen in it; `SIGCHLD`
//! is left alone, CMD's exit comes from its `NOTE_EXIT` filter.
//!
//! CMD is our unreaped child, so its PID cannot be reused before `run`
//! reaps it: a filter on the PID watches exactly CMD.
//!
//! This file is compiled and linted in CI (cross clippy), never run there.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::time::Duration;

use prochandle::{Process, Signal};

/// Events fetched per `kevent` call; more are fetched by the next.
const BATCH: usize = 16;

/// Signals to forward and CMD's exit, as one wait.
pub struct Inbox {
    kq: OwnedFd,
    /// The PID whose `NOTE_EXIT` filter is armed, once `wait` armed it.
    watched: std::cell::Cell<Option<u32>>,
}

impl Inbox {
    /// Starts receiving `signals`: from here on they are recorded in the
    /// kqueue and do nothing else to prochandle.
    pub fn open(signals: &[Signal]) -> io::Result<Inbox> {
        // SAFETY: no arguments; the result is checked.
        let fd = unsafe { libc::kqueue() };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor that nobody else owns.
        let kq = unsafe { OwnedFd::from_raw_fd(fd) };
        // Not inherited across fork anyway; close-on-exec all the same.
        // SAFETY: fcntl on a descriptor we own.
        if unsafe { libc::fcntl(kq.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let inbox = Inbox {
            kq,
            watched: std::cell::Cell::new(None),
        };
        for signal in signals {
            let raw = signal.as_raw();
            if raw == libc::SIGKILL || raw == libc::SIGSTOP {
                continue;
            }
            // The filter first, the handler second: a signal in between
            // is recorded and then does nothing, never the default action.
            inbox.change(raw as libc::uintptr_t, libc::EVFILT_SIGNAL, 0)?;
            catch(raw)?;
        }
        Ok(inbox)
    }

    /// Nothing to do: a caught signal is reset to its default action by
    /// `exec`, and the signal mask is left as prochandle got it.
    pub fn prepare_child(&self, _command: &mut Command) {}

    /// Waits until CMD exits, a signal comes or `timeout` passes; the
    /// signals received (none after an exit or a timeout).
    pub fn wait(&self, process: &Process, timeout: Option<Duration>) -> io::Result<Vec<Signal>> {
        if self.watched.get() != Some(process.pid()) {
            match self.change(
                process.pid() as libc::uintptr_t,
                libc::EVFILT_PROC,
                libc::NOTE_EXIT,
            ) {
                Ok(()) => {}
                // Already exited and a zombie: the caller's next check sees it.
                Err(err) if err.raw_os_error() == Some(libc::ESRCH) => return Ok(Vec::new()),
                Err(err) => return Err(err),
            }
            self.watched.set(Some(process.pid()));
        }
        let spec = timeout.map(super::timespec);
        let spec_ptr = spec
            .as_ref()
            .map_or(std::ptr::null(), |s| s as *const libc::timespec);
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
                spec_ptr,
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
                // `data` counts deliveries since the last report: forward
                // each once, as a signalfd would read them (within a
                // kind, repeats of a standard signal merge there too).
                received.push(Signal::from_raw(event.ident as i32));
            } else if event.filter == libc::EVFILT_PROC {
                // NOTE_EXIT fires once; the kernel drops the filter.
                self.watched.set(None);
            }
        }
        Ok(received)
    }

    /// Adds a filter, reporting it with `EV_CLEAR` semantics: each
    /// `kevent` return resets it.
    fn change(&self, ident: libc::uintptr_t, filter: i16, fflags: u32) -> io::Result<()> {
        // SAFETY: kevent is plain data; all zeroes is a valid value.
        let mut change: libc::kevent = unsafe { std::mem::zeroed() };
        change.ident = ident;
        change.filter = filter as _;
        change.flags = (libc::EV_ADD | libc::EV_CLEAR) as _;
        change.fflags = fflags as _;
        // SAFETY: one change from `change`, no event list, no timeout.
        let ret = unsafe {
            libc::kevent(
                self.kq.as_raw_fd(),
                &change,
                1,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The handler of every forwarded signal: the kqueue has recorded it.
extern "C" fn recorded(_signal: libc::c_int) {}

/// Installs [`recorded`] for `signal`, restarting interrupted calls.
fn catch(signal: i32) -> io::Result<()> {
    // SAFETY: sigaction is plain data; all zeroes is a valid value (an
    // empty mask, no flags), then filled in below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = recorded as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: the handler does nothing, so it is async-signal-safe; the
    // old action is not asked for.
    if unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
