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
use super::super::cvt::{cvt, retry_eintr};
use super::super::wait_status::{status_from_siginfo, usage_from_rusage};
use crate::state::{status_from_wait_word, Coredump, CoredumpOwner, ExitStatus};

/// `PIDFD_INFO_*` request/response mask bits (`linux/pidfd.h`), widened to
/// the type of `pidfd_info::mask`.
pub(crate) const PIDFD_INFO_PID: u64 = libc::PIDFD_INFO_PID as u64;
pub(crate) const PIDFD_INFO_EXIT: u64 = libc::PIDFD_INFO_EXIT as u64;

/// `struct pidfd_info` as the kernel headers define it.
pub(crate) type PidfdInfo = libc::pidfd_info;

// The kernel copies out at most the size encoded in the ioctl number, and
// reports in `mask` which fields it filled: every field this crate reads
// lies within the first version of the struct, and only fields `mask`
// marks are trusted.
const _: () = assert!(std::mem::size_of::<PidfdInfo>() == libc::PIDFD_INFO_SIZE_VER0 as usize);

/// `PIDFD_GET_INFO = _IOWR(PIDFS_IOCTL_MAGIC, 11, struct pidfd_info)`
/// (Linux 6.13), in the encoding of the target architecture. libc's ioctl
/// request type is signed on musl; the kernel reads the command as an
/// `unsigned int`, so the cast keeps the bits.
const PIDFD_GET_INFO: rustix::ioctl::Opcode = libc::PIDFD_GET_INFO as rustix::ioctl::Opcode;

/// `ioctl(pidfd, PIDFD_GET_INFO)` asking for the fields in `mask`.
pub(crate) fn pidfd_get_info(pidfd: BorrowedFd<'_>, mask: u64) -> io::Result<PidfdInfo> {
    // SAFETY: `pidfd_info` is a `repr(C)` struct of plain integers, so the
    // all-zero pattern is a valid value (the struct is non-exhaustive, hence
    // no literal). The opcode encodes `size_of::<PidfdInfo>()` and the
    // `Updater` lends the kernel exactly that many writable bytes of it.
    let info = unsafe {
        let mut info: PidfdInfo = std::mem::zeroed();
        info.mask = mask;
        let ioctl = rustix::ioctl::Updater::<PIDFD_GET_INFO, PidfdInfo>::new(&mut info);
        rustix::ioctl::ioctl(pidfd, ioctl)?;
        info
    };
    Ok(info)
}

/// `PIDFD_INFO_*` bits newer than libc knows, as `include/uapi/linux/pidfd.h`
/// defines them: `PIDFD_INFO_COREDUMP (1UL << 4)` (Linux 6.16) and
/// `PIDFD_INFO_SUPPORTED_MASK (1UL << 5)` (newer).
pub(crate) const PIDFD_INFO_COREDUMP: u64 = 1 << 4;
pub(crate) const PIDFD_INFO_SUPPORTED_MASK: u64 = 1 << 5;
/// The fields of the first published `pidfd_info` (`PIDFD_INFO_SIZE_VER0`).
const VER0_FIELDS: u64 = PIDFD_INFO_PID
    | libc::PIDFD_INFO_CREDS as u64
    | libc::PIDFD_INFO_CGROUPID as u64
    | PIDFD_INFO_EXIT;

/// The values of `coredump_mask` (`include/uapi/linux/pidfd.h`):
/// `PIDFD_COREDUMPED (1U << 0)`, `PIDFD_COREDUMP_SKIP (1U << 1)`,
/// `PIDFD_COREDUMP_USER (1U << 2)`, `PIDFD_COREDUMP_ROOT (1U << 3)`.
pub(crate) const PIDFD_COREDUMPED: u32 = 1 << 0;
pub(crate) const PIDFD_COREDUMP_SKIP: u32 = 1 << 1;
pub(crate) const PIDFD_COREDUMP_USER: u32 = 1 << 2;
pub(crate) const PIDFD_COREDUMP_ROOT: u32 = 1 << 3;

/// `struct pidfd_info` past its first version, laid out as
/// `include/uapi/linux/pidfd.h` has it: `coredump_mask` at 64
/// (`PIDFD_INFO_SIZE_VER1` = 72), `supported_mask` at 72
/// (`PIDFD_INFO_SIZE_VER2` = 80), then room for what later kernels add.
/// The layout is versioned by size: the kernel copies what it has up to
/// the size we pass (zeroing the rest) and marks in `mask` what it filled.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct PidfdInfoExt {
    pub base: PidfdInfo,
    pub coredump_mask: u32,
    pub coredump_signal: u32,
    pub supported_mask: u64,
    reserved: [u64; 6],
}

const _: () = assert!(std::mem::offset_of!(PidfdInfoExt, coredump_mask) == 64);
const _: () = assert!(std::mem::offset_of!(PidfdInfoExt, supported_mask) == 72);

impl PidfdInfoExt {
    /// The answer of a kernel that took only the first version: the bits
    /// of fields that version cannot hold are cleared, so that no unfilled
    /// field is ever trusted.
    pub(crate) fn from_ver0(mut base: PidfdInfo) -> PidfdInfoExt {
        base.mask &= VER0_FIELDS;
        PidfdInfoExt {
            base,
            coredump_mask: 0,
            coredump_signal: 0,
            supported_mask: 0,
            reserved: [0; 6],
        }
    }

    /// The kernel's list of the `PIDFD_INFO_*` fields it has, where it
    /// gives one.
    pub(crate) fn supported(&self) -> Option<u64> {
        (self.base.mask & PIDFD_INFO_SUPPORTED_MASK != 0).then_some(self.supported_mask)
    }

    /// The core dump record, where the kernel filled one in.
    pub(crate) fn coredump(&self) -> Option<Coredump> {
        if self.base.mask & PIDFD_INFO_COREDUMP == 0 || self.coredump_mask == 0 {
            return None;
        }
        let m = self.coredump_mask;
        let owner = if m & PIDFD_COREDUMP_ROOT != 0 {
            Some(CoredumpOwner::Root)
        } else if m & PIDFD_COREDUMP_USER != 0 {
            Some(CoredumpOwner::User)
        } else {
            None
        };
        Some(Coredump::new(
            m & PIDFD_COREDUMPED != 0,
            m & PIDFD_COREDUMP_SKIP != 0,
            owner,
        ))
    }
}

/// `PIDFD_GET_INFO` sized for [`PidfdInfoExt`]: the same request number
/// (`PIDFS_IOCTL_MAGIC` 0xFF, 11), another size.
const PIDFD_GET_INFO_EXT: rustix::ioctl::Opcode =
    rustix::ioctl::opcode::read_write::<PidfdInfoExt>(0xFF, 11);

/// `ioctl(pidfd, PIDFD_GET_INFO)` with the larger struct; a kernel that
/// takes only the first version's size (6.13 to 6.15) answers `ENOTTY` or
/// `EINVAL`, and is then asked with that size.
pub(crate) fn pidfd_get_info_ext(pidfd: BorrowedFd<'_>, mask: u64) -> io::Result<PidfdInfoExt> {
    // SAFETY: `PidfdInfoExt` is `repr(C)` of plain integers, valid when
    // zeroed; the opcode encodes its size and the `Updater` lends the
    // kernel exactly that many writable bytes.
    let result = unsafe {
        let mut info: PidfdInfoExt = std::mem::zeroed();
        info.base.mask = mask;
        let ioctl = rustix::ioctl::Updater::<PIDFD_GET_INFO_EXT, PidfdInfoExt>::new(&mut info);
        rustix::ioctl::ioctl(pidfd, ioctl).map(|()| info)
    };
    match result {
        Ok(info) => Ok(info),
        Err(rustix::io::Errno::NOTTY | rustix::io::Errno::INVAL) => {
            pidfd_get_info(pidfd, mask).map(PidfdInfoExt::from_ver0)
        }
        Err(e) => Err(e.into()),
    }
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
    cvt(ret).map(drop)
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
        WaitTarget::PidFd(fd) => (libc::P_PIDFD, fd.as_raw_fd() as libc::id_t),
        WaitTarget::Pid(pid) => (libc::P_PID, pid as libc::id_t),
    };
    let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
    let mut usage = MaybeUninit::<libc::rusage>::zeroed();
    retry_eintr(|| {
        // SAFETY: both out-pointers point to zeroed, properly sized and
        // aligned buffers that live across the call; the raw syscall is used
        // because glibc's waitid() has no rusage parameter.
        cvt(unsafe {
            libc::syscall(
                libc::SYS_waitid,
                idtype,
                id,
                info.as_mut_ptr(),
                libc::WEXITED | extra,
                usage.as_mut_ptr(),
            )
        })
    })?;
    // SAFETY: zero-initialised and possibly filled by the kernel: both are
    // plain C structs valid for any bit pattern.
    let (info, usage) = unsafe { (info.assume_init(), usage.assume_init()) };
    Ok(status_from_siginfo(&info).map(|status| Waited {
        status,
        usage: usage_from_rusage(&usage),
    }))
}

/// Decodes the `exit_code` of `PIDFD_INFO_EXIT`, a classic wait status word.
pub(crate) fn exit_status_from_info(info: &PidfdInfo) -> Option<ExitStatus> {
    (info.mask & PIDFD_INFO_EXIT != 0).then(|| status_from_wait_word(info.exit_code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(mask: u64, coredump_mask: u32) -> PidfdInfoExt {
        // SAFETY: plain integers, valid when zeroed.
        let mut base: PidfdInfo = unsafe { std::mem::zeroed() };
        base.mask = mask;
        let mut info = PidfdInfoExt::from_ver0(base);
        info.base.mask = mask;
        info.coredump_mask = coredump_mask;
        info
    }

    #[test]
    fn coredump_only_where_marked_filled() {
        let dumped = PIDFD_COREDUMPED | PIDFD_COREDUMP_USER;
        assert_eq!(ext(0, dumped).coredump(), None, "not marked");
        assert_eq!(ext(PIDFD_INFO_COREDUMP, 0).coredump(), None, "nothing kept");
        let d = ext(PIDFD_INFO_COREDUMP, dumped).coredump().unwrap();
        assert!(d.dumped && !d.skipped);
        assert_eq!(d.owner, Some(CoredumpOwner::User));
        let s = ext(PIDFD_INFO_COREDUMP, PIDFD_COREDUMP_SKIP)
            .coredump()
            .unwrap();
        assert!(!s.dumped && s.skipped && s.owner.is_none());
        let r = ext(PIDFD_INFO_COREDUMP, PIDFD_COREDUMPED | PIDFD_COREDUMP_ROOT);
        assert_eq!(r.coredump().unwrap().owner, Some(CoredumpOwner::Root));
    }

    /// A real crash, asked of this kernel through a pidfd opened before it:
    /// the kernel marks the field as answered, and records a dump only for
    /// a helper (`|program` or `@socket` `core_pattern`).
    #[test]
    fn a_crash_is_described_as_the_kernel_recorded_it() {
        use std::io::Write;
        use std::os::fd::AsFd;
        use std::os::unix::process::CommandExt;
        let caps = super::super::capabilities();
        if !caps.is_available(crate::capabilities::Feature::PidfdInfoCoredump) {
            return;
        }
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", "read x; kill -SEGV $$"])
            .stdin(std::process::Stdio::piped());
        // SAFETY: setrlimit is async-signal-safe; no core file is written.
        unsafe {
            cmd.pre_exec(|| {
                let none = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                if libc::setrlimit(libc::RLIMIT_CORE, &none) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        let pidfd = super::super::pidfd_open(child.id() as i32).unwrap();
        writeln!(child.stdin.take().unwrap(), "go").unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGSEGV)
        );
        let info =
            pidfd_get_info_ext(pidfd.as_fd(), PIDFD_INFO_EXIT | PIDFD_INFO_COREDUMP).unwrap();
        assert_ne!(info.base.mask & PIDFD_INFO_COREDUMP, 0, "field answered");
        let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
        let helper = pattern.starts_with('|') || pattern.starts_with('@');
        assert_eq!(
            info.coredump().is_some(),
            helper,
            "core_pattern {pattern:?}"
        );
    }

    #[test]
    fn a_first_version_answer_never_claims_newer_fields() {
        // SAFETY: plain integers, valid when zeroed.
        let mut base: PidfdInfo = unsafe { std::mem::zeroed() };
        base.mask = PIDFD_INFO_PID | PIDFD_INFO_COREDUMP | PIDFD_INFO_SUPPORTED_MASK;
        let info = PidfdInfoExt::from_ver0(base);
        assert_eq!(info.base.mask, PIDFD_INFO_PID);
        assert_eq!(info.supported(), None);
        assert_eq!(info.coredump(), None);
    }
}
