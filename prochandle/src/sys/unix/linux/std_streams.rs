//! Standard descriptors for a program that starts without std's runtime.
//!
//! std opens `/dev/null` on each of descriptors 0, 1 and 2 that a program
//! was started without, before `main`. A program whose entry point is C's
//! `main` (`#![no_main]`) must do the same first: otherwise the first
//! descriptor it opens (a pidfd, a pipe) takes number 1 and its output is
//! written there, or number 0 and a child reads it as its input.

use std::io;

/// Opens `/dev/null` on each of descriptors 0-2 that is closed, lowest
/// first (`open` returns the lowest free number, so each lands in place).
pub(crate) fn open_closed() -> io::Result<()> {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is an array of three initialised pollfd that lives
    // for the whole call; a zero timeout only reports, it never waits.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    for pollfd in &fds {
        let closed = if polled >= 0 {
            // POLLNVAL: the number names no open descriptor.
            pollfd.revents & libc::POLLNVAL != 0
        } else {
            // poll itself failed (out of memory): ask descriptor by one.
            // SAFETY: F_GETFD only reads the descriptor's flags.
            let flags = unsafe { libc::fcntl(pollfd.fd, libc::F_GETFD) };
            flags == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
        };
        if !closed {
            continue;
        }
        // Not close-on-exec, on purpose: it is the process's standard
        // stream from now on, inherited as such.
        // SAFETY: a NUL-terminated path and plain flags.
        if unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
