//! Linux: pidfds, with `/proc` for the guarded-PID fallback.

pub(crate) mod getfd;
pub(crate) mod identity;
pub(crate) mod info;
pub(crate) mod namespaces;
pub(crate) mod peer;
pub(crate) mod probe;
pub(crate) mod procfs;
#[cfg(test)]
mod proptests;
pub(crate) mod recheck;
pub(crate) mod sigsys_guard;
pub(crate) mod syscalls;
pub(crate) mod thread;
pub(crate) mod tree;

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::time::Instant;

use rustix::event::{poll, PollFd, PollFlags, Timespec};

pub(crate) use probe::probe;

/// Start time of `pid` in clock ticks since boot; `None` if it is gone.
pub(crate) fn start_time(pid: i32) -> Option<u64> {
    procfs::start_time(pid)
}

/// Opens a pidfd for `pid` (close-on-exec: pidfd_open always sets it).
pub(crate) fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    let pid = rustix::process::Pid::from_raw(pid)
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(rustix::process::pidfd_open(
        pid,
        rustix::process::PidfdFlags::empty(),
    )?)
}

/// Sleeps in `poll(2)` until `pidfd` is readable (its process exited) or
/// `deadline` passes. Returns whether it became readable.
pub(crate) fn poll_pidfd(pidfd: BorrowedFd<'_>, deadline: Option<Instant>) -> io::Result<bool> {
    loop {
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                Some(Timespec::try_from(left).unwrap_or(Timespec {
                    tv_sec: i64::MAX,
                    tv_nsec: 0,
                }))
            }
        };
        let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads the `Pid:` line of `/proc/self/fdinfo/<fd>`, which only pidfds
/// have: `Some(pid)`, `Some(-1)` once the process is reaped, `Some(0)` if it
/// lives in a PID namespace we cannot see; `None` if `fd` is no pidfd.
pub(crate) fn fdinfo_pid(fd: BorrowedFd<'_>) -> io::Result<Option<i32>> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))?;
    Ok(parse_fdinfo_pid(&text))
}

/// The value of the `Pid:` line of an fdinfo text, if there is one and it
/// is a number.
pub(crate) fn parse_fdinfo_pid(text: &str) -> Option<i32> {
    text.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse().ok())
}

pub(crate) use syscalls::waitid;

/// Without a pidfd there is nothing to sleep on: poll the identity check.
pub(crate) fn block_until_exit_guarded(
    _pid: i32,
    _start_time: Option<u64>,
    deadline: Option<Instant>,
    exited_now: impl Fn() -> crate::Result<bool>,
) -> crate::Result<bool> {
    super::poll_with_backoff(deadline, exited_now)
}
