//! Sleeping until a process exits with kqueue's `EVFILT_PROC`/`NOTE_EXIT`,
//! which works for any process we may see, child or not.
//!
//! The order matters: register first, then re-check that the process we
//! mean is still running. If it exited, or its PID was reaped and reused,
//! before the registration, the re-check says so (the filter may then
//! watch a stranger, whose exit we never wait for). After the re-check, any
//! exit of our process fires the event.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Instant;

use crate::sys::timeout;

/// What a registration found.
pub(crate) enum Registered {
    /// Watching; [`Watch::sleep`] returns on exit.
    Watching(Watch),
    /// `ESRCH`: no process has this PID any more.
    Gone,
}

/// A kqueue with one `NOTE_EXIT` filter on one PID.
pub(crate) struct Watch {
    kq: OwnedFd,
}

/// Creates a kqueue and registers `NOTE_EXIT` for `pid`.
pub(crate) fn register(pid: i32) -> io::Result<Registered> {
    let kq = new_queue()?;
    let flags = libc::EV_ADD | libc::EV_ONESHOT;
    match apply(
        kq.as_fd(),
        pid as libc::uintptr_t,
        libc::EVFILT_PROC,
        flags,
        libc::NOTE_EXIT,
    ) {
        Ok(()) => Ok(Registered::Watching(Watch { kq })),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(Registered::Gone),
        Err(e) => Err(e),
    }
}

/// A new kqueue, close-on-exec.
pub(crate) fn new_queue() -> io::Result<OwnedFd> {
    // SAFETY: no arguments; the result is checked.
    let fd = unsafe { libc::kqueue() };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nobody else owns.
    let kq = unsafe { OwnedFd::from_raw_fd(fd) };
    // A kqueue is never inherited by fork (kqueue(2) on both systems), so
    // it cannot leak into a child; mark it close-on-exec all the same.
    // SAFETY: fcntl on a descriptor we own.
    if unsafe { libc::fcntl(kq.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(kq)
}

/// Applies one change to `kq`; a failure comes back as the call's errno.
pub(crate) fn apply(
    kq: BorrowedFd<'_>,
    ident: libc::uintptr_t,
    filter: i16,
    flags: u16,
    fflags: u32,
) -> io::Result<()> {
    // SAFETY: kevent is a plain C struct, valid when zeroed.
    let mut change: libc::kevent = unsafe { std::mem::zeroed() };
    change.ident = ident;
    change.filter = filter;
    change.flags = flags;
    change.fflags = fflags;
    // SAFETY: one valid change, no event list (errors come back as
    // -1/errno), no timeout.
    let ret = unsafe {
        libc::kevent(
            kq.as_raw_fd(),
            &change,
            1,
            std::ptr::null_mut(),
            0,
            std::ptr::null(),
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Watch {
    /// Sleeps until the event fires (`true`) or `deadline` passes
    /// (`false`).
    pub(crate) fn sleep(&self, deadline: Option<Instant>) -> io::Result<bool> {
        loop {
            let timeout = timeout::remaining(deadline).map(timeout::timespec);
            let timeout_ptr = timeout
                .as_ref()
                .map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: kevent is a plain C struct, valid when zeroed.
            let mut event: libc::kevent = unsafe { std::mem::zeroed() };
            // SAFETY: no changes, room for one event, a valid or null
            // timeout.
            let n = unsafe {
                libc::kevent(
                    self.kq.as_raw_fd(),
                    std::ptr::null(),
                    0,
                    &mut event,
                    1,
                    timeout_ptr,
                )
            };
            match n {
                0 => return Ok(false),
                n if n > 0 => {
                    if event.flags & libc::EV_ERROR != 0 && event.data as i32 != libc::ESRCH {
                        return Err(io::Error::from_raw_os_error(event.data as i32));
                    }
                    return Ok(true);
                }
                _ => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
        }
    }
}
