//! The guardian: a tiny forked process, outside the scope, that kills the
//! tree when its owner dies without dropping the scope (a crash, SIGKILL).
//!
//! It holds the read end of a pipe whose only write end the owner keeps
//! (close-on-exec): the kernel closes that end when the owner dies, in
//! whatever way, and the guardian's `poll` wakes with `POLLHUP`. It then
//! writes `1` to the scope's `cgroup.kill`, or `SIGKILL`s its process group.
//! For a cgroup it also waits until the cgroup is empty (`populated 0` in
//! `cgroup.events`, woken by `POLLPRI`) and removes its directory, which
//! the dead owner can no longer do; then it exits. It never runs Rust code
//! that allocates or locks: between `fork` and `_exit` it makes only
//! async-signal-safe calls. It leaves the
//! owner's session (`setsid`) and ignores the terminal's signals, so that a
//! Ctrl-C that reaches the owner's group does not take it down first. A
//! scope dropped normally kills and reaps its guardian.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use super::Process;
use crate::error::{Error, Result};

/// What the guardian does when its owner is gone.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Action<'a> {
    /// Write `1` to `kill` (`cgroup.kill`), wait until `events`
    /// (`cgroup.events`) says `populated 0`, then remove the directory
    /// `name` of `parent` (an `O_PATH` descriptor of the cgroup's parent).
    Cgroup {
        kill: BorrowedFd<'a>,
        events: BorrowedFd<'a>,
        parent: BorrowedFd<'a>,
        name: &'a CStr,
    },
    /// `kill(-pgid, SIGKILL)`.
    KillGroup(i32),
}

/// A running guardian; dropping it kills and reaps it.
#[derive(Debug)]
pub(crate) struct Guardian {
    process: Process,
    /// The owner's end of the pipe: its closing is the owner's death.
    _owner_end: OwnedFd,
}

impl Guardian {
    pub(crate) fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Sends it `SIGKILL` without reaping it (the drop reaps it).
    pub(crate) fn retire(&self) {
        let _ = self.process.signal(libc::SIGKILL);
    }

    /// Forks the guardian for `action`.
    pub(crate) fn start(action: Action<'_>) -> Result<Guardian> {
        let (read_end, write_end) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
            .map_err(|e| Error::os("pipe2", e.into()))?;
        let mut fds = Fds {
            read: read_end.as_raw_fd(),
            write: write_end.as_raw_fd(),
            kill: -1,
            events: -1,
            parent: -1,
            name: std::ptr::null(),
            pgid: 0,
        };
        match action {
            Action::Cgroup {
                kill,
                events,
                parent,
                name,
            } => {
                fds.kill = kill.as_raw_fd();
                fds.events = events.as_raw_fd();
                fds.parent = parent.as_raw_fd();
                fds.name = name.as_ptr();
            }
            Action::KillGroup(pgid) => fds.pgid = pgid,
        }
        // SAFETY: fork; the child runs only `guard`, which makes
        // async-signal-safe calls and never returns.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(Error::os("fork", io::Error::last_os_error()));
        }
        if pid == 0 {
            // SAFETY: we are the forked child; `guard` never returns.
            unsafe { guard(fds) }
        }
        drop(read_end);
        // Unreaped, the guardian still owns its PID: killing it is safe.
        // Our own unreaped child: its PID is its own until we reap it.
        let process = Process::from_child_pid(pid).inspect_err(|_| super::spawn::reap(pid))?;
        Ok(Guardian {
            process,
            _owner_end: write_end,
        })
    }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        let _ = self.process.signal(libc::SIGKILL);
        let _ = self.process.wait_until(None);
    }
}

/// What the forked guardian works with; -1 (null) where unused.
#[derive(Clone, Copy)]
struct Fds {
    read: RawFd,
    write: RawFd,
    kill: RawFd,
    events: RawFd,
    parent: RawFd,
    /// The cgroup's directory name (a C string the parent keeps alive,
    /// copied into the guardian by `fork`).
    name: *const libc::c_char,
    pgid: i32,
}

/// The guardian's whole life.
///
/// # Safety
///
/// Only in the child of `fork`, where only async-signal-safe calls are
/// allowed.
unsafe fn guard(fds: Fds) -> ! {
    // SAFETY: each call is async-signal-safe and gets valid arguments.
    unsafe {
        libc::setsid();
        for sig in [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGQUIT,
            libc::SIGPIPE,
        ] {
            libc::signal(sig, libc::SIG_IGN);
        }
        // The owner's standard streams too: a pipe the owner's caller
        // reads to its end (`$(run ...)`) must not wait for the guardian.
        // It opens nothing, so nothing ever takes their numbers.
        libc::close(fds.write);
        close_from(0, &mut [fds.read, fds.kill, fds.events, fds.parent]);
        let mut pfd = libc::pollfd {
            fd: fds.read,
            events: libc::POLLIN,
            revents: 0,
        };
        // Nothing is ever written: any wake-up but EINTR is the owner's end
        // closing (POLLHUP).
        while libc::poll(&mut pfd, 1, -1) < 0 {}
        if fds.kill >= 0 {
            libc::write(fds.kill, b"1".as_ptr().cast(), 1);
            if wait_empty(fds.events) {
                libc::unlinkat(fds.parent, fds.name, libc::AT_REMOVEDIR);
            }
        } else if fds.pgid > 0 {
            libc::kill(-fds.pgid, libc::SIGKILL);
        }
        libc::_exit(0)
    }
}

/// How long the guardian waits for a killed cgroup to empty: `SIGKILL`
/// ends every member within milliseconds unless one is stuck in the kernel
/// (uninterruptible sleep); then the directory is left rather than the
/// guardian lingering for good.
const EMPTY_PATIENCE_MS: i32 = 60_000;
const EMPTY_POLL_MS: i32 = 100;

/// Sleeps until `events` (`cgroup.events`) says `populated 0`; false if
/// that does not come within [`EMPTY_PATIENCE_MS`].
///
/// # Safety
///
/// Only in the forked guardian: async-signal-safe calls only, no
/// allocation (the buffer is on the stack).
unsafe fn wait_empty(events: RawFd) -> bool {
    let mut buf = [0u8; 256];
    let mut waited = 0;
    while waited <= EMPTY_PATIENCE_MS {
        // SAFETY: pread into a buffer of ours; a read from offset 0 also
        // re-arms POLLPRI for this open file.
        let n = unsafe { libc::pread(events, buf.as_mut_ptr().cast(), buf.len(), 0) };
        let text = buf.get(..usize::try_from(n).unwrap_or(0)).unwrap_or(&[]);
        if text.windows(11).any(|w| w == b"populated 0") {
            return true;
        }
        let mut pfd = libc::pollfd {
            fd: events,
            events: libc::POLLPRI,
            revents: 0,
        };
        // SAFETY: poll on one valid pollfd. A timeout as well as POLLPRI:
        // the kernel rate-limits the notifications, the re-read decides.
        unsafe { libc::poll(&mut pfd, 1, EMPTY_POLL_MS) };
        waited += EMPTY_POLL_MS;
    }
    false
}

/// Closes every descriptor from 3 up except those in `keep` (negative
/// entries ignored): the standard streams stay.
///
/// # Safety
///
/// Closes descriptors others may own: only for a forked child.
pub(crate) unsafe fn close_all_but(keep: &mut [RawFd]) {
    // SAFETY: as the caller's.
    unsafe { close_from(3, keep) }
}

/// Closes every descriptor from `lowest` up except those in `keep`
/// (negative entries ignored), with `close_range` over the gaps.
///
/// # Safety
///
/// Closes descriptors others may own: only for a forked child.
unsafe fn close_from(lowest: RawFd, keep: &mut [RawFd]) {
    keep.sort_unstable();
    let mut from = lowest.max(0) as u32;
    for &fd in keep.iter().filter(|&&fd| fd >= lowest) {
        let fd = fd as u32;
        if fd > from {
            // SAFETY: close_range takes two bounds and flags; async-signal-safe.
            unsafe { libc::syscall(libc::SYS_close_range, from, fd - 1, 0u32) };
        }
        from = fd + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0u32) };
}
