//! Start time and run state of a process, from `sysctl(KERN_PROC_PID)`.
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

fn micros(tv: libc::timeval) -> u64 {
    (tv.tv_sec.max(0) as u64) * 1_000_000 + tv.tv_usec.max(0) as u64
}

/// `sysctl({CTL_KERN, KERN_PROC, KERN_PROC_PID, pid})` into `buf`; returns
/// the number of bytes the kernel wrote (0 when there is no such process).
fn sysctl_kern_proc_pid(pid: i32, buf: *mut libc::c_void, len: usize) -> io::Result<usize> {
    let mut mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid];
    let mut len = len;
    // SAFETY: `mib` holds 4 valid ints; `buf` is valid for `len` bytes
    // (guaranteed by the callers); no new value is written.
    let ret = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            mib.len() as libc::c_uint,
            buf,
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if ret == 0 {
        Ok(len)
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(target_os = "freebsd")]
mod imp {
    use super::*;

    pub(super) fn proc_info(pid: i32) -> io::Result<Option<ProcInfo>> {
        // SAFETY: kinfo_proc is a plain C struct, valid when zeroed.
        let mut kp: libc::kinfo_proc = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::kinfo_proc>();
        let len = match sysctl_kern_proc_pid(pid, (&mut kp as *mut libc::kinfo_proc).cast(), size) {
            Ok(len) => len,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(None),
            Err(e) => return Err(e),
        };
        // The kernel's structure has had one size (KINFO_PROC_SIZE) for
        // years; accept any answer that reaches the fields we read.
        let needed = std::mem::offset_of!(libc::kinfo_proc, ki_stat) + 1;
        if len < needed || kp.ki_pid != pid {
            return Ok(None);
        }
        Ok(Some(ProcInfo {
            start_time: micros(kp.ki_start),
            zombie: kp.ki_stat == libc::SZOMB,
        }))
    }
}

#[cfg(target_os = "macos")]
mod imp {
    use super::*;

    // libc has no `struct kinfo_proc` for Apple targets. Its first member,
    // `struct extern_proc` (<sys/proc.h>), starts the same on every 64-bit
    // macOS: a 16-byte union whose `timeval` is `p_starttime`, two
    // pointers, `int p_flag`, `char p_stat` at 36 and `pid_t p_pid` at 40.
    // The PID read back confirms the layout before anything is trusted.
    const STARTTIME_OFFSET: usize = 0;
    const STAT_OFFSET: usize = 36;
    const PID_OFFSET: usize = 40;
    /// `sizeof(struct kinfo_proc)` is 648 on 64-bit macOS; leave room.
    const BUF_LEN: usize = 1024;
    const SZOMB: u8 = libc::SZOMB as u8;

    #[repr(C, align(8))]
    struct Buf([u8; BUF_LEN]);

    pub(super) fn proc_info(pid: i32) -> io::Result<Option<ProcInfo>> {
        let mut buf = Buf([0; BUF_LEN]);
        let len = match sysctl_kern_proc_pid(pid, buf.0.as_mut_ptr().cast(), BUF_LEN) {
            Ok(len) => len,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(None),
            Err(e) => return Err(e),
        };
        if len < PID_OFFSET + 4 {
            return Ok(None);
        }
        let bytes = &buf.0;
        let read_i32 = |at: usize| i32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
        let read_i64 = |at: usize| i64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap());
        if read_i32(PID_OFFSET) != pid {
            return Err(io::Error::other(
                "sysctl(KERN_PROC_PID): unexpected kinfo_proc layout",
            ));
        }
        // timeval on 64-bit macOS: i64 seconds, then i32 microseconds.
        let tv = libc::timeval {
            tv_sec: read_i64(STARTTIME_OFFSET) as libc::time_t,
            tv_usec: read_i32(STARTTIME_OFFSET + 8) as libc::suseconds_t,
        };
        Ok(Some(ProcInfo {
            start_time: micros(tv),
            zombie: bytes[STAT_OFFSET] == SZOMB,
        }))
    }
}
