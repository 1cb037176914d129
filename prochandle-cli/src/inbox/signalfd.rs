//! Linux: the signals `run` forwards, read from a signalfd instead of
//! caught by handlers. They are blocked in this (single-threaded) process
//! before CMD is started, so one that arrives at any moment stays pending
//! and is read in order, and no async-signal-unsafe code can ever run in a
//! handler. A child inherits the mask (`posix_spawn`, as std uses it,
//! keeps it), so [`Inbox::prepare_child`] gives CMD back the mask
//! prochandle was started with before it `exec`s.
//!
//! CMD's exit wakes the wait through its pidfd; where there is none,
//! `SIGCHLD` is blocked and read the same way, only to wake the loop: no
//! handler is installed for it, so nothing else in the process sees a
//! change.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use std::time::Duration;

use prochandle::{Process, Signal};

/// Signals to forward and CMD's exit, as one wait.
pub struct Inbox {
    fd: SignalFd,
}

impl Inbox {
    /// Starts receiving `signals` (and `SIGCHLD`, to wake on CMD's exit
    /// where it has no pidfd); from here on they are read, not delivered.
    pub fn open(signals: &[Signal]) -> io::Result<Inbox> {
        let mut wanted = signals.to_vec();
        wanted.push(Signal::CHLD);
        SignalFd::block(&wanted).map(|fd| Inbox { fd })
    }

    /// Makes CMD start with the signal mask prochandle was started with.
    pub fn prepare_child(&self, command: &mut Command) {
        self.fd.unblock_in_child(command);
    }

    /// Waits until CMD exits, a signal comes or `timeout` passes; the
    /// signals received, oldest first (none after an exit or a timeout).
    pub fn wait(&self, process: &Process, timeout: Option<Duration>) -> io::Result<Vec<Signal>> {
        let mut fds = vec![self.fd.as_fd()];
        // Readable once CMD exits; without one, SIGCHLD wakes us.
        fds.extend(process.handle());
        poll_readable(&fds, timeout)?;
        let mut received = self.fd.drain()?;
        received.retain(|&signal| signal != Signal::CHLD);
        Ok(received)
    }
}

/// A signalfd for a set of signals that this thread keeps blocked.
struct SignalFd {
    fd: OwnedFd,
    /// The mask before [`SignalFd::block`].
    original: libc::sigset_t,
}

impl SignalFd {
    /// Blocks `signals` and opens a non-blocking, close-on-exec signalfd
    /// for them. `SIGKILL` and `SIGSTOP` cannot be blocked or read and are
    /// left out; so are numbers that are no signal.
    fn block(signals: &[Signal]) -> io::Result<SignalFd> {
        let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given.
        unsafe { libc::sigemptyset(set.as_mut_ptr()) };
        // SAFETY: initialised just above.
        let mut set = unsafe { set.assume_init() };
        for signal in signals {
            let raw = signal.as_raw();
            if raw == libc::SIGKILL || raw == libc::SIGSTOP {
                continue;
            }
            // SAFETY: `set` is an initialised sigset_t; an invalid number
            // is refused with EINVAL and leaves it unchanged.
            unsafe { libc::sigaddset(&mut set, raw) };
        }
        let mut original = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: reads `set`, writes the old mask into `original`.
        let ret = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, original.as_mut_ptr()) };
        if ret != 0 {
            return Err(io::Error::from_raw_os_error(ret));
        }
        let flags = libc::SFD_CLOEXEC | libc::SFD_NONBLOCK;
        // SAFETY: -1 asks for a new descriptor; `set` is initialised.
        let fd = unsafe { libc::signalfd(-1, &set, flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: pthread_sigmask succeeded, so it wrote the old mask.
        let original = unsafe { original.assume_init() };
        Ok(SignalFd { fd, original })
    }

    /// Makes `command`'s child restore, before it `exec`s, the signal mask
    /// this process had before [`SignalFd::block`].
    fn unblock_in_child(&self, command: &mut Command) {
        let original = self.original;
        // SAFETY: the closure runs in the child between fork and exec,
        // where only async-signal-safe calls are allowed: pthread_sigmask
        // (sigprocmask) is one, and the closure allocates nothing.
        unsafe {
            command.pre_exec(move || {
                match libc::pthread_sigmask(libc::SIG_SETMASK, &original, std::ptr::null_mut()) {
                    0 => Ok(()),
                    err => Err(io::Error::from_raw_os_error(err)),
                }
            });
        }
    }

    /// Every signal pending now, oldest first; empty if none is.
    fn drain(&self) -> io::Result<Vec<Signal>> {
        let mut out = Vec::new();
        loop {
            let mut info = std::mem::MaybeUninit::<libc::signalfd_siginfo>::uninit();
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reads at most `size` bytes into `info`, which holds
            // that many.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), info.as_mut_ptr().cast(), size) };
            if n < 0 {
                let err = io::Error::last_os_error();
                return match err.kind() {
                    io::ErrorKind::WouldBlock => Ok(out),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(err),
                };
            }
            if n as usize != size {
                return Ok(out);
            }
            // SAFETY: the kernel filled in the whole structure.
            let info = unsafe { info.assume_init() };
            out.push(Signal::from_raw(info.ssi_signo as i32));
        }
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Waits until one of `fds` is readable or `timeout` passes (`None`:
/// no limit). Interrupted waits return early, as a wake-up would.
fn poll_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> io::Result<()> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let spec = timeout.map(super::timespec);
    let spec_ptr = spec
        .as_ref()
        .map_or(std::ptr::null(), |s| s as *const libc::timespec);
    // SAFETY: `pollfds` holds `len` entries and outlives the call; the
    // timeout is null or points at `spec`; no signal mask is changed.
    let ret = unsafe {
        libc::ppoll(
            pollfds.as_mut_ptr(),
            pollfds.len() as libc::nfds_t,
            spec_ptr,
            std::ptr::null(),
        )
    };
    if ret < 0 {
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_signal_is_read_not_delivered() {
        let fd = SignalFd::block(&[Signal::USR2]).unwrap();
        assert!(fd.drain().unwrap().is_empty());
        // SAFETY: raise takes a signal number; USR2 is blocked, so it only
        // becomes pending (default action would end the test process).
        // Sent to this thread: a process-wide signal could go to another
        // test thread that does not block it.
        unsafe { libc::raise(libc::SIGUSR2) };
        poll_readable(&[fd.as_fd()], Some(Duration::from_secs(5))).unwrap();
        assert_eq!(fd.drain().unwrap(), vec![Signal::USR2]);
    }
}
