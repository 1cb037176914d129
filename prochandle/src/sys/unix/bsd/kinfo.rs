//! Start time and run state of a process: `sysctl(KERN_PROC_PID)` into
//! libc's `kinfo_proc` on FreeBSD, `proc_pidinfo(PROC_PIDTBSDINFO)` into
//! libc's `proc_bsdinfo` on macOS.
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

    /// `proc_pidinfo(PROC_PIDTBSDINFO)`, into libc's `proc_bsdinfo` (libc
    /// has no `kinfo_proc` for Apple targets). The argument 1 asks for
    /// zombies too: a zombie is still the process we guard, and its
    /// `pbi_status` says it has exited. The kernel answers this flavour
    /// only for a process of the caller's own user, or to root.
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
}

/// A start time as microseconds since the epoch.
fn micros(seconds: u64, micros: u64) -> u64 {
    seconds * 1_000_000 + micros
}
