//! Reaping children nobody holds: what an init (PID 1 of a namespace, or
//! a child subreaper) must do for the orphans the kernel re-parents to it.
//! `waitid(P_ALL, ..., WNOWAIT)` looks at the first exited child without
//! reaping it, so a child some handle still owns is left for its owner.

use std::io;

/// The PID of an exited, unreaped child of this process, if any; it stays
/// unreaped.
pub(crate) fn exited_child() -> io::Result<Option<u32>> {
    // SAFETY: an all-zero siginfo_t is a valid value for this plain C
    // struct; waitid only writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: `info` is a valid, writable siginfo_t that outlives the call.
    let ret = unsafe { libc::waitid(libc::P_ALL, 0, &mut info, flags) };
    if ret == -1 {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::ECHILD) => Ok(None),
            _ => Err(err),
        };
    }
    // SAFETY: waitid filled `info` for a child event, or left it zeroed
    // under WNOHANG when none had exited; si_pid is valid in both cases.
    let pid = unsafe { info.si_pid() };
    Ok(u32::try_from(pid).ok().filter(|&pid| pid > 0))
}

/// Reaps child `pid`, known to have exited (from [`exited_child`]).
pub(crate) fn reap(pid: u32) -> io::Result<()> {
    // SAFETY: as in `exited_child`.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let id = libc::id_t::from(pid);
    // SAFETY: `info` is a valid, writable siginfo_t that outlives the call.
    let ret = unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOHANG) };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
