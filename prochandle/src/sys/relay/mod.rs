//! The OS side of [`crate::relay`]: receiving a set of signals, and a
//! process's exit, in one wait.
//!
//! Each platform receives them its own way: Linux a signalfd
//! (`signalfd.rs`), macOS and FreeBSD a kqueue (`kqueue.rs`), Windows a
//! console control handler and an event (`console.rs`). All offer the same
//! [`Receiver`]: `open` blocks (or catches) the set, `restore` is the
//! signal state the process had before (a [`Restore`], which a std
//! `Command` or the scope's own spawn gives back to the child), and `wait` sleeps until a signal of the set arrives, the
//! process exits or the timeout passes. `wait` may return early with
//! nothing (an interrupted wait, a filter just armed): the caller re-checks
//! the exit and the deadline and waits again.

#[cfg(windows)]
#[path = "console.rs"]
mod platform;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
#[path = "kqueue.rs"]
mod platform;
#[cfg(target_os = "linux")]
#[path = "signalfd.rs"]
mod platform;

pub(crate) use platform::{Receiver, Restore};

/// The pointer `ppoll` and `kevent` take for an optional timeout: null
/// waits without limit.
#[cfg(unix)]
fn timespec_ptr(spec: &Option<libc::timespec>) -> *const libc::timespec {
    spec.as_ref()
        .map_or(std::ptr::null(), |s| s as *const libc::timespec)
}

/// Whether `raw` can be blocked, caught or read at all: `SIGKILL` and
/// `SIGSTOP` cannot, and are left out of every set.
#[cfg(unix)]
fn can_receive(raw: i32) -> bool {
    raw != libc::SIGKILL && raw != libc::SIGSTOP
}
