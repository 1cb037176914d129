//! A signal sent with a value (`sigqueue(3)`'s `si_value`), through the
//! process's pidfd or `/proc` directory: `pidfd_send_signal(2)` with a
//! siginfo whose `si_code` is `SI_QUEUE`, as the kernel lets a process
//! send to another. Without either, the PID is checked to still name the
//! process and `rt_sigqueueinfo(2)` sends by PID, as `sigqueue` does.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::super::errno::{self, Call};
use super::recheck::still_owns_pid;
use super::Process;
use crate::error::Result;
use crate::sys::unix::cvt::cvt;

/// `SI_QUEUE`: the siginfo came from `sigqueue`.
const SI_QUEUE: i32 = -1;

/// The kernel's `siginfo_t` (128 bytes) as `sigqueue` fills it: number,
/// errno, code, then the `_rt` member of the union (sender's PID and UID,
/// the value). The union is aligned as a pointer, hence the padding on
/// 64-bit targets.
#[repr(C)]
struct QueuedInfo {
    signo: i32,
    errno: i32,
    code: i32,
    #[cfg(target_pointer_width = "64")]
    pad: i32,
    pid: i32,
    uid: u32,
    /// `union sigval`: the `int` member, where the union's first bytes are.
    value: usize,
    rest: [u8; REST],
}

#[cfg(target_pointer_width = "64")]
const REST: usize = 128 - 32;
#[cfg(target_pointer_width = "32")]
const REST: usize = 128 - 24;

impl QueuedInfo {
    fn new(sig: i32, value: i32) -> QueuedInfo {
        let bits = value as u32 as usize;
        // On a big-endian 64-bit target the int member is the high half.
        #[cfg(all(target_endian = "big", target_pointer_width = "64"))]
        let bits = bits << 32;
        QueuedInfo {
            signo: sig,
            errno: 0,
            code: SI_QUEUE,
            #[cfg(target_pointer_width = "64")]
            pad: 0,
            pid: rustix::process::getpid().as_raw_nonzero().get(),
            uid: rustix::process::getuid().as_raw(),
            value: bits,
            rest: [0; REST],
        }
    }
}

/// Sends `sig` with `value` to `process`.
pub(crate) fn signal_with_value(process: &Process, sig: i32, value: i32) -> Result<()> {
    const OP: &str = "pidfd_send_signal(SI_QUEUE)";
    let info = QueuedInfo::new(sig, value);
    if let Some(fd) = process.handle().or_else(|| process.proc_dir()) {
        return send(fd, sig, &info).map_err(|e| errno::os_error(Call::Signal, OP, e));
    }
    const BY_PID: &str = "rt_sigqueueinfo";
    still_owns_pid(process, BY_PID)?;
    // SAFETY: the call reads a 128-byte siginfo from `info`, which is that
    // size and outlives the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_rt_sigqueueinfo,
            process.pid() as libc::pid_t,
            sig,
            &info as *const QueuedInfo,
        )
    };
    if ret == -1 {
        return Err(errno::os_error(
            Call::Signal,
            BY_PID,
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

fn send(fd: BorrowedFd<'_>, sig: i32, info: &QueuedInfo) -> io::Result<()> {
    // SAFETY: the syscall takes a pidfd (or /proc directory), a signal
    // number, a siginfo it reads 128 bytes of (ours is that size and
    // outlives the call) and flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            sig,
            info as *const QueuedInfo,
            0u32,
        )
    };
    cvt(ret).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_siginfo_is_the_kernels_size() {
        assert_eq!(std::mem::size_of::<QueuedInfo>(), 128);
        assert_eq!(
            std::mem::size_of::<QueuedInfo>(),
            std::mem::size_of::<libc::siginfo_t>()
        );
    }
}
