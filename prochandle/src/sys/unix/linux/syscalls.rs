//! The pidfd syscalls rustix does not wrap in the form we need.
//!
//! rustix covers `pidfd_open`, `pidfd_getfd`, `poll` and `fstat`; it does
//! not let `pidfd_send_signal` send signal 0 or real-time signals, its
//! `waitid` drops the kernel's `rusage` argument, and `PIDFD_GET_INFO` is
//! too new for it. These few calls go straight to the kernel.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::super::backend::Waited;
use crate::signal::Signal;
use crate::state::{status_from_wait_word, ExitStatus, ResourceUsage};

/// `P_PIDFD` idtype of `waitid` (Linux 5.4).
const P_PIDFD: libc::idtype_t = 3;

/// `PIDFD_INFO_*` request/response mask bits (`linux/pidfd.h`).
pub(crate) const PIDFD_INFO_PID: u64 = 1 << 0;
pub(crate) const PIDFD_INFO_EXIT: u64 = 1 << 3;

/// `struct pidfd_info` as of Linux 6.15 (`PIDFD_INFO_SIZE_VER0`, 64 bytes).
/// The kernel copies out at most the size encoded in the ioctl number, and
/// reports in `mask` which fields it filled: trust nothing outside `mask`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PidfdInfo {
    pub mask: u64,
    pub cgroupid: u64,
    pub pid: u32,
    pub tgid: u32,
    pub ppid: u32,
    pub ruid: u32,
    pub rgid: u32,
    pub euid: u32,
    pub egid: u32,
    pub suid: u32,
    pub sgid: u32,
    pub fsuid: u32,
    pub fsgid: u32,
    pub exit_code: i32,
}

const _: () = assert!(std::mem::size_of::<PidfdInfo>() == 64);

/// `PIDFD_GET_INFO = _IOWR(0xFF, 11, struct pidfd_info)` (Linux 6.13).
const PIDFD_GET_INFO: rustix::ioctl::Opcode =
    rustix::ioctl::opcode::read_write::<PidfdInfo>(0xFF, 11);

/// `ioctl(pidfd, PIDFD_GET_INFO)` asking for the fields in `mask`.
pub(crate) fn pidfd_get_info(pidfd: BorrowedFd<'_>, mask: u64) -> io::Result<PidfdInfo> {
    let mut info = PidfdInfo {
        mask,
        ..PidfdInfo::default()
    };
    // SAFETY: the opcode encodes `size_of::<PidfdInfo>()` and the `Updater`
    // lends the kernel exactly that many writable bytes of a `repr(C)` struct
    // of plain integers, which any bit pattern initialises validly.
    unsafe {
        let ioctl = rustix::ioctl::Updater::<PIDFD_GET_INFO, PidfdInfo>::new(&mut info);
        rustix::ioctl::ioctl(pidfd, ioctl)?;
    }
    Ok(info)
}

/// `pidfd_send_signal(pidfd, sig, NULL, flags)`, for any signal number
/// including 0 (the "is it alive and may I signal it" check).
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: i32, flags: u32) -> io::Result<()> {
    // SAFETY: the syscall takes an fd, a signal number, a nullable siginfo
    // pointer (we pass NULL) and flags; it touches no memory of ours.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            flags,
        )
    };
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Whether the process (or, with `PIDFD_SIGNAL_THREAD`, the thread) a pidfd
/// names has not been reaped yet. Signal 0 checks existence first and
/// permission second, so `EPERM` still means "exists": only `ESRCH` means
/// gone.
pub(crate) fn pidfd_exists(pidfd: BorrowedFd<'_>, flags: u32) -> bool {
    match pidfd_send_signal(pidfd, 0, flags) {
        Ok(()) => true,
        Err(e) => e.raw_os_error() != Some(libc::ESRCH),
    }
}

/// Whom a `waitid` call is about.
#[derive(Clone, Copy)]
pub(crate) enum WaitTarget<'a> {
    PidFd(BorrowedFd<'a>),
    Pid(i32),
}

/// `waitid(target, WEXITED | extra)` with the kernel's fifth argument, the
/// child's `rusage`, filled in when the call reaps.
///
/// Returns `Ok(None)` when `WNOHANG` is given and the child has not exited.
pub(crate) fn waitid(target: WaitTarget<'_>, extra: libc::c_int) -> io::Result<Option<Waited>> {
    let (idtype, id) = match target {
        WaitTarget::PidFd(fd) => (P_PIDFD, fd.as_raw_fd() as libc::id_t),
        WaitTarget::Pid(pid) => (libc::P_PID, pid as libc::id_t),
    };
    let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
    let mut usage = MaybeUninit::<libc::rusage>::zeroed();
    loop {
        // SAFETY: both out-pointers point to zeroed, properly sized and
        // aligned buffers that live across the call; the raw syscall is used
        // because glibc's waitid() has no rusage parameter.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_waitid,
                idtype,
                id,
                info.as_mut_ptr(),
                libc::WEXITED | extra,
                usage.as_mut_ptr(),
            )
        };
        if ret == -1 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        break;
    }
    // SAFETY: zero-initialised and possibly filled by the kernel: both are
    // plain C structs valid for any bit pattern.
    let (info, usage) = unsafe { (info.assume_init(), usage.assume_init()) };
    // SAFETY: after a successful waitid the kernel has written the SIGCHLD
    // layout of the union, or left it zeroed (WNOHANG, nothing to report).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    let status = match info.si_code {
        libc::CLD_EXITED => ExitStatus::Exited(status),
        code => ExitStatus::Signaled {
            signal: Signal::from_raw(status),
            core_dumped: code == libc::CLD_DUMPED,
        },
    };
    Ok(Some(Waited {
        status,
        usage: usage_from_rusage(&usage),
    }))
}

fn usage_from_rusage(ru: &libc::rusage) -> ResourceUsage {
    let tv = |t: libc::timeval| {
        std::time::Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000)
    };
    ResourceUsage {
        user_time: tv(ru.ru_utime),
        system_time: tv(ru.ru_stime),
        // Linux reports ru_maxrss in KiB.
        max_rss_bytes: Some((ru.ru_maxrss.max(0) as u64) * 1024),
    }
}

/// Decodes the `exit_code` of `PIDFD_INFO_EXIT`, a classic wait status word.
pub(crate) fn exit_status_from_info(info: &PidfdInfo) -> Option<ExitStatus> {
    (info.mask & PIDFD_INFO_EXIT != 0).then(|| status_from_wait_word(info.exit_code))
}
