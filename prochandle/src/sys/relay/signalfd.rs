//! Linux: the relayed signals, read from a signalfd instead of caught by
//! handlers. They are blocked in the opening thread, so one that arrives at
//! any moment stays pending and is read in order, and no handler (so no
//! async-signal-unsafe code) ever runs. A child inherits the mask (std's
//! `posix_spawn` and `fork` both keep it), so [`Receiver::restore_in_child`]
//! gives it back the mask the thread had before, just before `exec`.
//!
//! The process's exit wakes the wait through its pidfd. Where there is
//! none, `SIGCHLD` is blocked and read the same way, only to wake the
//! wait: no handler is installed for it, so nothing else in the process
//! sees a change. A process not held by a pidfd is also re-checked on the
//! crate's longest backoff pause.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use crate::backoff::MAX_PAUSE;
use crate::signal::Signal;
use crate::sys::Process;

/// A signalfd for a set of signals the opening thread keeps blocked.
pub(crate) struct Receiver {
    fd: OwnedFd,
    /// The thread's mask before `open`.
    original: libc::sigset_t,
    /// Whether `SIGCHLD` was asked for (else it only wakes the wait).
    report_chld: bool,
}

impl Receiver {
    /// Blocks `signals` (and `SIGCHLD`) in this thread and opens a
    /// non-blocking, close-on-exec signalfd for them.
    pub(crate) fn open(signals: &[Signal]) -> io::Result<Receiver> {
        let mut set = empty_set();
        let mut report_chld = false;
        for signal in signals {
            report_chld |= *signal == Signal::CHLD;
            add(&mut set, signal.as_raw());
        }
        add(&mut set, libc::SIGCHLD);
        let mut original = empty_set();
        // SAFETY: reads `set`, writes the old mask into `original`; both
        // are initialised sets that outlive the call.
        let ret = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut original) };
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
        Ok(Receiver {
            fd,
            original,
            report_chld,
        })
    }

    /// What a child needs put back: the mask this thread had before
    /// `open`. Dispositions were never changed.
    pub(crate) fn restore(&self) -> Restore {
        Restore(self.original)
    }

    /// Sleeps until a signal of the set arrives, `process` exits or
    /// `timeout` passes; the signals received, oldest first.
    pub(crate) fn wait(
        &self,
        process: &Process,
        timeout: Option<Duration>,
    ) -> io::Result<Vec<Signal>> {
        let mut fds = vec![self.fd.as_fd()];
        // Readable once the process exits; without one, a child's exit
        // comes as SIGCHLD, and any other process is re-checked.
        fds.extend(process.handle());
        // Without a pidfd, also re-check on the crate's longest pause: a
        // non-child sends us nothing, and a child's SIGCHLD goes to any
        // thread that does not block it, which may not be this one.
        let timeout = if process.handle().is_none() {
            Some(timeout.map_or(MAX_PAUSE, |t| t.min(MAX_PAUSE)))
        } else {
            timeout
        };
        poll_readable(&fds, timeout)?;
        let mut received = self.drain()?;
        if !self.report_chld {
            received.retain(|&signal| signal != Signal::CHLD);
        }
        Ok(received)
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

/// An empty signal set.
/// The signal state a child of a relaying process gets back before it
/// `exec`s: the mask from before the relay.
#[derive(Clone, Copy)]
pub(crate) struct Restore(libc::sigset_t);

impl std::fmt::Debug for Restore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Restore { .. }")
    }
}

impl Restore {
    /// The mask, for a spawn that sets it itself (the scope's `clone3`).
    pub(crate) fn mask(&self) -> &libc::sigset_t {
        &self.0
    }

    /// Makes `command`'s child put the mask back just before `exec`.
    pub(crate) fn apply(&self, command: &mut Command) {
        let original = self.0;
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
}

fn empty_set() -> libc::sigset_t {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set it is given.
    unsafe { libc::sigemptyset(set.as_mut_ptr()) };
    // SAFETY: initialised just above.
    unsafe { set.assume_init() }
}

/// Adds `raw` to `set`, leaving out what cannot be blocked.
fn add(set: &mut libc::sigset_t, raw: i32) {
    if super::can_receive(raw) {
        // SAFETY: `set` is an initialised sigset_t; a number that is no
        // signal is refused with EINVAL and leaves it unchanged.
        unsafe { libc::sigaddset(set, raw) };
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
    let spec = timeout.map(crate::sys::timeout::timespec);
    // SAFETY: `pollfds` holds `len` entries and outlives the call; the
    // timeout is null or points at `spec`; no signal mask is changed.
    let ret = unsafe {
        libc::ppoll(
            pollfds.as_mut_ptr(),
            pollfds.len() as libc::nfds_t,
            super::timespec_ptr(&spec),
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
        // Its own thread: the mask it blocks dies with it.
        std::thread::spawn(|| {
            let receiver = Receiver::open(&[Signal::USR2]).unwrap();
            assert!(receiver.drain().unwrap().is_empty());
            // SAFETY: raise sends to this thread only, which blocks USR2,
            // so it stays pending (the default action would end the test
            // process); a process-wide signal could reach another thread.
            unsafe { libc::raise(libc::SIGUSR2) };
            poll_readable(&[receiver.fd.as_fd()], Some(Duration::from_secs(5))).unwrap();
            assert_eq!(receiver.drain().unwrap(), vec![Signal::USR2]);
        })
        .join()
        .unwrap();
    }
}
