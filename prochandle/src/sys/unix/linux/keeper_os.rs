//! What the keeper (`linux::Keeper`, in the public layer) needs of the
//! OS: a fork that only a single-threaded process may make, leaving the
//! owner's process group, ending at once, and writing to a peer that may
//! be gone without a `SIGPIPE`. The keeper's logic above uses `Scope` and
//! `Process` like any caller; every promise to the kernel is made here.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::procfs;
use super::Process;
use crate::error::{Error, Result};
use crate::sys::unix::cvt::{cvt, retry_eintr};

/// Which side of a fork this is.
pub(crate) enum Forked {
    /// The parent, holding the new child.
    Parent(Process),
    /// The child: a full copy of a process that had one thread.
    Child,
}

/// Forks this process, which must have exactly one thread: only then may
/// the child run any code (allocate, lock, spawn), since no other thread
/// can have held a lock at the fork. `Unsupported` otherwise.
pub(crate) fn fork_single_threaded(what: &'static str) -> Result<Forked> {
    let threads = procfs::read_stat(std::process::id() as i32)
        .map_err(|e| Error::os("read /proc/self/stat", e))?
        .num_threads;
    if threads != 1 {
        return Err(Error::unsupported(
            what,
            "it runs Rust code after fork: the caller must have one thread",
        ));
    }
    // SAFETY: this process has one thread (checked just above, and only
    // this thread could start another meanwhile), so the child is a
    // consistent copy in which any code may run.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(Error::os("fork", io::Error::last_os_error())),
        0 => Ok(Forked::Child),
        pid => Process::from_child_pid(pid)
            .inspect_err(|_| super::spawn::reap(pid))
            .map(Forked::Parent),
    }
}

/// Makes this process the leader of a process group of its own, out of
/// its parent's: a signal to that group (a terminal's Ctrl-C, a
/// `kill -9 -PGID`) then does not reach it.
pub(crate) fn leave_process_group() {
    // SAFETY: setpgid on ourselves; integers only.
    unsafe { libc::setpgid(0, 0) };
}

/// Ends this process at once, without exit handlers or flushing buffers
/// (in a forked child they are copies of the parent's, the parent's to
/// flush).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends this process; nothing of ours runs after it.
    unsafe { libc::_exit(code) }
}

/// Writes all of `buf` to the socket `fd` with `MSG_NOSIGNAL`: a peer
/// that is gone is `EPIPE`, never a `SIGPIPE` (which kills a process
/// that, like a C tool, leaves it at its default).
pub(crate) fn send_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = retry_eintr(|| {
            // SAFETY: send(2) reads at most `buf.len()` bytes of `buf`,
            // which lives for the call, from a socket the caller lends.
            cvt(unsafe {
                libc::send(
                    fd.as_raw_fd(),
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_NOSIGNAL,
                )
            })
        })?;
        buf = &buf[n as usize..];
    }
    Ok(())
}
