//! Signal dispositions a program inherits and a supervisor must not
//! keep or lose by accident.
//!
//! Whether `SIGPIPE` was ignored when this program started, before the
//! Rust runtime set it to ignored for its own use (which leaves no trace
//! of what the caller wanted). A function in `.init_array` runs before
//! `main`, and so before the runtime, and reads the disposition once.
//!
//! A caller that ignores `SIGPIPE` (`trap '' PIPE` in a shell) expects
//! the commands it runs through a wrapper to ignore it too: std resets it
//! to the default in every child, so a wrapper that wants to pass the
//! caller's choice on needs to know it.

use std::sync::atomic::{AtomicBool, Ordering};

static IGNORED_AT_START: AtomicBool = AtomicBool::new(false);

extern "C" fn capture() {
    // SAFETY: a null new action only reads the current one into `old`, a
    // zeroed sigaction (a valid value) that outlives the call.
    let ignored = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    };
    IGNORED_AT_START.store(ignored, Ordering::Relaxed);
}

/// Run by the dynamic loader (or the static start code) before `main`.
#[used]
#[link_section = ".init_array"]
static CAPTURE: extern "C" fn() = capture;

/// Whether `SIGPIPE` was ignored when the program started.
pub(crate) fn ignored_at_start() -> bool {
    // Naming the constructor keeps its object, and so its `.init_array`
    // entry, in the link.
    std::hint::black_box(&CAPTURE);
    IGNORED_AT_START.load(Ordering::Relaxed)
}

/// Makes the child of `command` ignore `SIGPIPE`, after std has reset it
/// to the default (std runs `pre_exec` closures after its reset).
pub(crate) fn keep_ignored(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe calls are allowed: `signal` is one, and the
    // closure allocates nothing.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            Ok(())
        });
    }
}

/// Arms `PR_SET_PDEATHSIG` with `signal` in the child of `command` (0:
/// nothing); the child fails the spawn with `ESRCH` if this process is
/// already gone when it arms it.
pub(crate) fn die_with_parent(command: &mut std::process::Command, signal: libc::c_int) {
    use std::os::unix::process::CommandExt as _;
    if signal == 0 {
        return;
    }
    // Read here: in the child, `getpid` would name the child itself.
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe calls are allowed: `prctl` and `getppid` are,
    // and an `io::Error` from an OS code allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Re-parented before the signal was armed: it will never come.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// Puts `SIGCHLD` back to its default when this process was started with
/// it ignored (or with `SA_NOCLDWAIT`): then the kernel reaps children at
/// once and their PIDs are free for reuse before they can be waited for.
/// The default installs no handler. Whether it was ignored.
pub(crate) fn reset_ignored_sigchld() -> std::io::Result<bool> {
    // SAFETY: a null new action only reads the current one into `old`; a
    // zeroed sigaction is a valid value (SIG_DFL, no flags, empty mask),
    // and setting it installs no handler.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut old) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let ignored = old.sa_sigaction == libc::SIG_IGN || old.sa_flags & libc::SA_NOCLDWAIT != 0;
        if !ignored {
            return Ok(false);
        }
        let default: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGCHLD, &default, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(true)
    }
}
