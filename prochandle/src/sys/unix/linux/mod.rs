//! Linux: pidfds; `/proc/<pid>` directories where pidfds are refused;
//! `/proc` by PID for the guarded-PID fallback; and the
//! operations behind the public `prochandle::linux` extensions.
//!
//! [`Linux`] is this OS's side of the Unix [`Backend`] seam; the other
//! modules serve the extension traits and take the Unix [`Process`].

pub(crate) mod cgroup;
mod cgroup_id;
mod cgroup_names;
pub(crate) mod getfd;
pub(crate) mod guardian;
pub(crate) mod identity;
pub(crate) mod info;
pub(crate) mod inherited;
pub(crate) mod keeper_os;
pub(crate) mod namespaces;
pub(crate) mod orphans;
pub(crate) mod pass_fd;
pub(crate) mod peer;
pub(crate) mod poller;
mod probe;
mod probe_info;
pub(crate) mod procdir;
pub(crate) mod procfs;
#[cfg(test)]
mod proptests;
pub(crate) mod queue;
pub(crate) mod recheck;
pub(crate) mod scope;
pub(crate) mod sigsys_guard;
pub(crate) mod spawn;
pub(crate) mod std_streams;
pub(crate) mod subreaper;
pub(crate) mod syscalls;
pub(crate) mod thread;
pub(crate) mod tree;
pub(crate) mod users;
mod verdict;

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Instant;

use rustix::event::{poll, PollFd, PollFlags};

use super::backend::{self, Backend, Stat, WaitTarget, Waited};
use super::errno::Call;
use crate::capabilities::{Capabilities, Feature};
use crate::error::{Error, ErrorKind, Result};
use crate::state::{Coredump, ExitStatus};
use crate::sys::timeout;

/// The Linux backend.
#[derive(Debug)]
pub(crate) struct Linux;

/// A process on Linux.
pub(crate) type Process = super::process::Process<Linux>;

/// What this system offers, probed once.
pub(crate) fn capabilities() -> &'static Capabilities {
    backend::capabilities::<Linux>()
}

impl Backend for Linux {
    type Handle = OwnedFd;
    type ProcDir = OwnedFd;

    fn probe() -> Capabilities {
        probe::probe()
    }

    fn open_handle(pid: i32) -> io::Result<OwnedFd> {
        pidfd_open(pid)
    }

    fn adopt_handle(fd: OwnedFd) -> Result<(i32, OwnedFd)> {
        // A descriptor that is not open came from a caller's bug. Say so,
        // and forget it rather than close it: by the time we would, the
        // number may name another file of this process (and std aborts on
        // closing a closed `OwnedFd` in debug builds).
        if let Err(e) = rustix::io::fcntl_getfd(&fd) {
            if e == rustix::io::Errno::BADF {
                std::mem::forget(fd);
                return Err(
                    Error::os_kind(ErrorKind::InvalidInput, "fcntl(F_GETFD)", e.into())
                        .with_detail("the descriptor handed to from_handle is not open"),
                );
            }
        }
        let pid = pidfd_pid(fd.as_fd())?;
        Ok((pid, fd))
    }

    fn open_proc_dir(pid: i32) -> Result<OwnedFd> {
        procdir::open(pid)
    }

    fn proc_dir_stat(dir: &OwnedFd) -> io::Result<Option<Stat>> {
        procdir::stat(dir.as_fd())
    }

    fn proc_dir_signal(dir: &OwnedFd, sig: i32) -> io::Result<()> {
        syscalls::pidfd_send_signal(dir.as_fd(), sig, 0)
    }

    fn refuse_thread(pid: i32) -> Result<()> {
        procdir::refuse_thread(pid)
    }

    fn handle_alive(handle: &OwnedFd) -> bool {
        syscalls::pidfd_exists(handle.as_fd(), 0)
    }

    fn send_signal(handle: &OwnedFd, sig: i32) -> io::Result<()> {
        syscalls::pidfd_send_signal(handle.as_fd(), sig, 0)
    }

    fn poll_exit(handle: &OwnedFd, deadline: Option<Instant>) -> io::Result<bool> {
        poll_pidfd(handle.as_fd(), deadline)
    }

    fn kernel_exit_status(handle: &OwnedFd) -> Option<ExitStatus> {
        let info = syscalls::pidfd_get_info(handle.as_fd(), syscalls::PIDFD_INFO_EXIT).ok()?;
        syscalls::exit_status_from_info(&info)
    }

    fn kernel_coredump(handle: &OwnedFd) -> Option<Coredump> {
        syscalls::pidfd_get_info_ext(handle.as_fd(), syscalls::PIDFD_INFO_COREDUMP)
            .ok()?
            .coredump()
    }

    fn stat(pid: i32) -> io::Result<Option<Stat>> {
        match procfs::read_stat(pid) {
            Ok(stat) => Ok(Some(Stat {
                start_time: stat.start_time,
                exited: stat.exited(),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn waitid(target: WaitTarget<'_, OwnedFd>, flags: libc::c_int) -> io::Result<Option<Waited>> {
        let target = match target {
            WaitTarget::Handle(fd) => syscalls::WaitTarget::PidFd(fd.as_fd()),
            WaitTarget::Pid(pid) => syscalls::WaitTarget::Pid(pid),
        };
        syscalls::waitid(target, flags)
    }
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

/// The PID a pidfd handed in by a caller names, checked to be a pidfd of
/// a process that is not yet reaped and that we can see.
fn pidfd_pid(fd: BorrowedFd<'_>) -> Result<i32> {
    const OP: &str = "from_handle";
    const UNSEEN: &str = "the pidfd's process is in a PID namespace this process cannot see";
    const REAPED: &str = "the pidfd's process has already been reaped";
    if !capabilities().handles() {
        return Err(Error::unsupported(
            OP,
            "pidfds are not usable here (old kernel, sandbox, or PROCHANDLE_FORCE_PID=1)",
        ));
    }
    let pid = if capabilities().is_available(Feature::PidfdGetInfo) {
        const IOCTL: &str = "ioctl(PIDFD_GET_INFO)";
        match syscalls::pidfd_get_info(fd, syscalls::PIDFD_INFO_PID) {
            Ok(info) => info.pid as i32,
            Err(e) => return Err(super::errno::os_error(Call::PidfdOf, IOCTL, e)),
        }
    } else {
        match fdinfo_pid(fd).map_err(|e| Error::os("read fdinfo", e))? {
            None => return Err(Error::invalid_input(OP, "the descriptor is not a pidfd")),
            Some(-1) => return Err(Error::new(ErrorKind::Done, OP).with_detail(REAPED)),
            Some(pid) => pid,
        }
    };
    if pid == 0 {
        return Err(Error::unsupported(OP, UNSEEN));
    }
    Ok(pid)
}

/// Sleeps in `poll(2)` until `pidfd` is readable (its process exited) or
/// `deadline` passes. Returns whether it became readable.
pub(crate) fn poll_pidfd(pidfd: BorrowedFd<'_>, deadline: Option<Instant>) -> io::Result<bool> {
    loop {
        let timeout = timeout::remaining(deadline).map(timeout::rustix_timespec);
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
