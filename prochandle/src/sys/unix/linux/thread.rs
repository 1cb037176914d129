//! Threads and scoped signals: `PIDFD_THREAD` and the `PIDFD_SIGNAL_*`
//! flags of `pidfd_send_signal` (Linux 6.9).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Instant;

use rustix::process::{pidfd_open, Pid, PidfdFlags};

use super::super::errno::{self, Call};
use super::capabilities;
use super::recheck::{owns_pid, still_owns_pid};
use super::syscalls;
use super::Process;
use crate::capabilities::Feature;
use crate::error::{Error, ErrorKind, Result};

/// A pidfd for one thread, checked to belong to its process.
#[derive(Debug)]
pub(crate) struct ThreadFd {
    pub fd: OwnedFd,
    pub tid: u32,
    pub pid: u32,
}

fn thread_unsupported(op: &'static str) -> Error {
    Error::unsupported(
        op,
        "thread pidfds (PIDFD_THREAD) need pidfds and Linux 6.9+; unavailable here",
    )
}

pub(crate) fn open_thread(process: &Process, tid: u32) -> Result<ThreadFd> {
    const OP: &str = "pidfd_open(PIDFD_THREAD)";
    if process.handle().is_none() {
        return Err(thread_unsupported(OP));
    }
    let raw_tid = i32::try_from(tid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| Error::invalid_input(OP, format!("{tid} is not a thread ID")))?;
    let fd =
        pidfd_open(raw_tid, PidfdFlags::from_bits_retain(libc::PIDFD_THREAD)).map_err(|errno| {
            let e = io::Error::from(errno);
            match errno {
                rustix::io::Errno::INVAL => thread_unsupported(OP),
                rustix::io::Errno::SRCH => Error::os_kind(ErrorKind::NotFound, OP, e)
                    .with_detail(format!("no thread with ID {tid}")),
                _ => Error::os(OP, e),
            }
        })?;
    let pid = process.pid();
    if thread_group_of(fd.as_fd(), tid, pid) != Some(pid) || !owns_pid(process) {
        return Err(Error::new(ErrorKind::NotFound, OP)
            .with_detail(format!("thread {tid} is not a thread of process {pid}")));
    }
    Ok(ThreadFd { fd, tid, pid })
}

/// The thread group (process) of the thread behind `fd`.
fn thread_group_of(fd: BorrowedFd<'_>, tid: u32, pid: u32) -> Option<u32> {
    if capabilities().is_available(Feature::PidfdGetInfo) {
        return syscalls::pidfd_get_info(fd, syscalls::PIDFD_INFO_PID)
            .ok()
            .map(|info| info.tgid);
    }
    // /proc lists the thread under its process; the thread pidfd pins the
    // thread, so if it is still alive after the check the answer was
    // about it.
    let listed = std::path::Path::new(&format!("/proc/{pid}/task/{tid}")).exists();
    let alive = syscalls::pidfd_exists(fd, libc::PIDFD_SIGNAL_THREAD);
    (listed && alive).then_some(pid)
}

pub(crate) fn signal_thread_fd(thread: &ThreadFd, sig: i32) -> Result<()> {
    const OP: &str = "pidfd_send_signal(PIDFD_SIGNAL_THREAD)";
    syscalls::pidfd_send_signal(thread.fd.as_fd(), sig, libc::PIDFD_SIGNAL_THREAD)
        .map_err(|e| signal_error(OP, e, format!("thread {} has exited", thread.tid)))
}

pub(crate) fn thread_exited(thread: &ThreadFd) -> bool {
    super::poll_pidfd(thread.fd.as_fd(), Some(Instant::now())).unwrap_or(false)
}

/// Signals thread `tid` of `process`: through a thread pidfd where the
/// kernel has them, else `tgkill(pid, tid)` after the PID guard (the kernel
/// checks that `tid` belongs to `pid`).
pub(crate) fn signal_thread(process: &Process, tid: u32, sig: i32) -> Result<()> {
    if process.handle().is_some() {
        match open_thread(process, tid) {
            Ok(thread) => return signal_thread_fd(&thread, sig),
            Err(e) if e.kind() == ErrorKind::Unsupported => {}
            Err(e) => return Err(e),
        }
    }
    const OP: &str = "tgkill";
    still_owns_pid(process, OP)?;
    let tid = i32::try_from(tid)
        .map_err(|_| Error::invalid_input(OP, format!("{tid} is not a thread ID")))?;
    // SAFETY: tgkill takes three integers and touches no memory.
    let ret = unsafe { libc::syscall(libc::SYS_tgkill, process.pid() as i32, tid, sig) };
    if ret == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        // The process still there means the thread is not (in it).
        let call = Call::Thread {
            tid,
            pid: process.pid(),
            owner_here: owns_pid(process),
        };
        Err(errno::os_error(call, OP, e))
    }
}

/// Signals the process group led by `process` (whose ID is its PID).
pub(crate) fn signal_process_group(process: &Process, sig: i32) -> Result<()> {
    let pid = process.pid() as i32;
    let not_leader = |op| {
        Error::new(ErrorKind::InvalidInput, op).with_detail(format!(
            "process {pid} does not lead a process group (its group ID is not its PID)"
        ))
    };
    if let Some(fd) = process.handle() {
        const OP: &str = "pidfd_send_signal(PIDFD_SIGNAL_PROCESS_GROUP)";
        match syscalls::pidfd_send_signal(fd, sig, libc::PIDFD_SIGNAL_PROCESS_GROUP) {
            Ok(()) => return Ok(()),
            // Before 6.9 the flag is unknown: fall back to kill(-pgid).
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && !valid_signal(sig) => {
                return Err(signal_error(OP, e, String::new()))
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            // The group is empty: either the process is gone or it leads no
            // group.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) && owns_pid(process) => {
                return Err(not_leader(OP))
            }
            Err(e) => return Err(signal_error(OP, e, format!("process {pid} is gone"))),
        }
    }
    const OP: &str = "kill(-pgid)";
    still_owns_pid(process, OP)?;
    let group = Pid::from_raw(pid).and_then(|p| rustix::process::getpgid(Some(p)).ok());
    if group.map(Pid::as_raw_pid) != Some(pid) {
        return Err(not_leader(OP));
    }
    // rustix's kill_process_group takes only named signals; real-time ones
    // (which pidfd_send_signal accepts above) need the plain call.
    // SAFETY: kill takes two integers and touches no memory.
    if unsafe { libc::kill(-pid, sig) } == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        Err(signal_error(OP, e, format!("process group {pid} is empty")))
    }
}

fn valid_signal(sig: i32) -> bool {
    (0..=libc::SIGRTMAX()).contains(&sig)
}

fn signal_error(op: &'static str, e: io::Error, gone: String) -> Error {
    let err = errno::os_error(Call::Signal, op, e);
    match err.kind() {
        ErrorKind::Done => err.with_detail(gone),
        _ => err,
    }
}
