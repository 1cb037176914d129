//! What `run` waits for while CMD runs: the signals it forwards (on
//! Windows, the console's Ctrl-C, Ctrl-Break and close events, which play
//! their part) and CMD's exit, in one wait with a timeout.
//!
//! Each platform receives them its own way: Linux a signalfd (`signalfd`),
//! macOS and FreeBSD a kqueue (`kqueue`), Windows a console control
//! handler and an event (`console`). All offer the same [`Inbox`]:
//! `open` before CMD starts (so no signal is lost or fatal to us from
//! then on), `prepare_child` to give CMD the signal state prochandle
//! started with, `wait`; and [`has_exited`] asks whether CMD has exited
//! without reaping it.

use prochandle::Signal;

#[cfg(windows)]
#[path = "console.rs"]
mod platform;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
#[path = "kqueue.rs"]
mod platform;
#[cfg(target_os = "linux")]
#[path = "signalfd.rs"]
mod platform;

pub use platform::Inbox;

/// The signals timeout(1) forwards to its command (TERM, INT, HUP, QUIT;
/// ALRM, which it takes as "the timeout ran out"), and USR1 and USR2, which
/// timeout(1) leaves to kill itself but `run` forwards too. On Windows the
/// console's events arrive as INT (Ctrl-C), QUIT (Ctrl-Break), HUP (the
/// console closes) and TERM (log-off, shut-down).
pub const FORWARDED: [Signal; 7] = [
    Signal::TERM,
    Signal::INT,
    Signal::HUP,
    Signal::QUIT,
    Signal::ALRM,
    Signal::USR1,
    Signal::USR2,
];

/// A wait's timeout as the C library takes it (`ppoll`, `kevent`); one
/// beyond `time_t` waits as long as `time_t` reaches.
#[cfg(unix)]
fn timespec(timeout: std::time::Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: timeout.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    }
}

/// Whether CMD has exited, asked without reaping it: until `run` reaps
/// it, its PID (and, for a group leader, its group ID) stay its own.
#[cfg(unix)]
pub fn has_exited(process: &prochandle::Process) -> std::io::Result<bool> {
    // SAFETY: siginfo_t is plain data; all zeroes is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
    // SAFETY: waitid writes only into `info`, which outlives the call.
    // CMD is our child and nobody reaps it before `run` does, so its PID
    // is its own: WNOWAIT only looks.
    let ret = unsafe { libc::waitid(libc::P_PID, process.pid() as libc::id_t, &mut info, flags) };
    if ret != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: filled in by waitid; 0 if no child has changed state.
    Ok(unsafe { info.si_pid() } != 0)
}

/// Whether CMD has exited. Windows reaps nothing: the handle `run` holds
/// keeps the process's PID and exit code until it is closed.
#[cfg(windows)]
pub fn has_exited(process: &prochandle::Process) -> std::io::Result<bool> {
    process
        .try_wait()
        .map(|state| state.is_some())
        .map_err(std::io::Error::other)
}
