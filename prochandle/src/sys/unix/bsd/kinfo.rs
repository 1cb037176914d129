//! Start time and run state of a process: `sysctl(KERN_PROC_PID)` into
//! libc's `kinfo_proc` on FreeBSD, `proc_pidinfo(PROC_PIDTBSDINFO)` into
//! libc's `proc_bsdinfo` on macOS (and, for another user's process, which
//! that call refuses, the `sysctl` into the head of `extern_proc`).
//!
//! The start time (microseconds since the epoch, as the kernel recorded it
//! at fork) is the identity of the guarded-PID mode: a PID reused by a new
//! process comes with a later start time.

use std::io;

/// What the identity check needs to know about a process.
pub(crate) struct ProcInfo {
    /// Start time in microseconds since the Unix epoch.
    pub start_time: u64,
    /// Whether it has exited and waits to be reaped.
    pub zombie: bool,
}

/// `Ok(None)` when no process has this PID.
pub(crate) fn proc_info(pid: i32) -> io::Result<Option<ProcInfo>> {
    imp::proc_info(pid)
}

#[cfg(target_os = "freebsd")]
mod imp {
    use super::*;

    pub(super) fn proc_info(pid: i32) -> io::Result<Option<ProcInfo>> {
        // SAFETY: kinfo_proc is a plain C struct, valid when zeroed.
        let mut kp: libc::kinfo_proc = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::kinfo_proc>();
        let mut mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid];
        let mut len = size;
        // SAFETY: `mib` holds 4 valid ints; `kp` is valid for `len` bytes;
        // no new value is written.
        let ret = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                mib.len() as libc::c_uint,
                (&mut kp as *mut libc::kinfo_proc).cast(),
                &mut len,
                std::ptr::null(),
                0,
            )
        };
        if ret != 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ESRCH) => Ok(None),
                _ => Err(e),
            };
        }
        // The kernel's structure has had one size (KINFO_PROC_SIZE) for
        // years; accept any answer that reaches the fields we read. No
        // process: the kernel writes nothing.
        let needed = std::mem::offset_of!(libc::kinfo_proc, ki_stat) + 1;
        if len < needed || kp.ki_pid != pid {
            return Ok(None);
        }
        let start = kp.ki_start;
        Ok(Some(ProcInfo {
            start_time: micros(start.tv_sec.max(0) as u64, start.tv_usec.max(0) as u64),
            zombie: kp.ki_stat == libc::SZOMB,
        }))
    }
}

#[cfg(target_os = "macos")]
mod imp {
    use super::*;

    /// `proc_pidinfo(PROC_PIDTBSDINFO)`, into libc's `proc_bsdinfo`. The
    /// argument 1 asks for zombies too: a zombie is still the process we
    /// guard, and its `pbi_status` says it has exited. The kernel answers
    /// this flavour only for the caller's own user's processes, or to
    /// root; for anyone else's it says `EPERM`, and the `sysctl` below,
    /// which has no such check, answers instead.
    pub(super) fn proc_info(pid: i32) -> io::Result<Option<ProcInfo>> {
        // SAFETY: proc_bsdinfo is a plain C struct, valid when zeroed.
        let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
        // SAFETY: `info` is valid for `size` bytes, the size this flavour
        // writes.
        let written = unsafe {
            libc::proc_pidinfo(
                pid,
                libc::PROC_PIDTBSDINFO,
                1,
                (&mut info as *mut libc::proc_bsdinfo).cast(),
                size,
            )
        };
        if written <= 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ESRCH) => Ok(None),
                Some(libc::EPERM) => by_sysctl(pid),
                _ => Err(e),
            };
        }
        if written < size || info.pbi_pid != pid as u32 {
            return Err(io::Error::other(
                "proc_pidinfo(PROC_PIDTBSDINFO): an answer about another process",
            ));
        }
        Ok(Some(ProcInfo {
            start_time: micros(info.pbi_start_tvsec, info.pbi_start_tvusec),
            zombie: info.pbi_status == libc::SZOMB,
        }))
    }

    /// The leading members of `struct extern_proc` (<sys/proc.h>), the
    /// first member of `struct kinfo_proc`: the one kernel structure this
    /// crate declares itself, because libc has no `kinfo_proc` for Apple
    /// targets. It has started this way on every 64-bit macOS: a 16-byte
    /// union whose `timeval` is `p_starttime`, two pointers, `p_flag`,
    /// `p_stat`, `p_pid`. The PID read back confirms the layout before
    /// anything else is trusted.
    #[repr(C)]
    struct ExternProcHead {
        p_starttime: libc::timeval,
        p_vmspace: *mut libc::c_void,
        p_sigacts: *mut libc::c_void,
        p_flag: libc::c_int,
        p_stat: libc::c_char,
        p_pid: libc::pid_t,
    }

    /// Room for the whole `kinfo_proc` (648 bytes on 64-bit macOS), which
    /// the kernel writes in one piece.
    #[repr(C)]
    union KinfoProc {
        head: std::mem::ManuallyDrop<ExternProcHead>,
        _whole: [u64; 128],
    }

    /// `sysctl(KERN_PROC_PID)`, which answers for any user's process.
    fn by_sysctl(pid: i32) -> io::Result<Option<ProcInfo>> {
        let mut buf = KinfoProc { _whole: [0; 128] };
        let mut len = std::mem::size_of::<KinfoProc>();
        let mut mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid];
        // SAFETY: `mib` holds 4 valid ints; `buf` is valid for `len` bytes;
        // no new value is written.
        let ret = unsafe {
            libc::sysctl(
                mib.as_mut_ptr(),
                mib.len() as libc::c_uint,
                (&mut buf as *mut KinfoProc).cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if ret != 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ESRCH) => Ok(None),
                _ => Err(e),
            };
        }
        // No process: the kernel writes nothing.
        if len < std::mem::size_of::<ExternProcHead>() {
            return Ok(None);
        }
        // SAFETY: the buffer was zeroed, then written by the kernel; every
        // bit pattern is a valid ExternProcHead (integers and raw pointers).
        let head = unsafe { &buf.head };
        if head.p_pid != pid {
            return Err(io::Error::other(
                "sysctl(KERN_PROC_PID): unexpected kinfo_proc layout",
            ));
        }
        let start = head.p_starttime;
        Ok(Some(ProcInfo {
            start_time: micros(start.tv_sec.max(0) as u64, start.tv_usec.max(0) as u64),
            zombie: head.p_stat == libc::SZOMB as libc::c_char,
        }))
    }
}

/// A start time as microseconds since the epoch.
fn micros(seconds: u64, micros: u64) -> u64 {
    seconds * 1_000_000 + micros
}
