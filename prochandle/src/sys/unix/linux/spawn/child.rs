//! The child's side of the fast spawn: what runs between `clone3` and
//! `execve`.
//!
//! The child shares the parent's memory (`CLONE_VM`) while the spawning
//! thread is suspended (`CLONE_VFORK`), and other threads of the parent
//! keep running: so it makes only async-signal-safe calls, allocates
//! nothing, takes no lock, and touches no memory but [`Ctx`] (prepared by
//! the parent, read-only here except `err`) and its own stack. It
//! indexes nothing (no bounds check can panic): every array is walked by
//! pointer up to a length the parent set.

use std::ptr;

use libc::{c_char, c_int};

/// Everything the child needs, prepared by the parent before `clone3`.
#[repr(C)]
pub(super) struct Ctx {
    /// Candidate paths for `execve`, in `PATH` order (one if the program
    /// names a path), `len` of them.
    pub paths: *const *const c_char,
    pub paths_len: usize,
    /// Null-terminated `argv` and `envp`.
    pub argv: *const *const c_char,
    pub envp: *const *const c_char,
    /// Directory to change to, or null.
    pub cwd: *const c_char,
    /// For standard descriptor 0, 1, 2: the descriptor to put there, or -1
    /// to leave the inherited one.
    pub stdio: [c_int; 3],
    /// `PR_SET_PDEATHSIG` signal, 0 for none.
    pub death_signal: c_int,
    /// Non-zero: lead a new process group (`setpgid(0, 0)`).
    pub new_group: c_int,
    /// The parent's PID, to detect that it died before the death signal
    /// was armed.
    pub parent: libc::pid_t,
    /// The signal mask to restore in the child before `execve`.
    pub mask: *const libc::sigset_t,
    /// Non-zero: the kernel already reset every handled signal
    /// (`CLONE_CLEAR_SIGHAND`); only `SIGPIPE` is left to reset.
    pub handlers_cleared: c_int,
    /// Written by the child when it fails: the errno, read by the parent
    /// once the vfork ends.
    pub err: c_int,
}

fn errno() -> c_int {
    // SAFETY: the thread's errno location; the parent thread, whose errno
    // this shares, is suspended until the child execs or exits.
    unsafe { *libc::__errno_location() }
}

/// The child's entry (see `clone3::Entry`).
pub(super) extern "C" fn entry(ctx: *mut libc::c_void) -> ! {
    let ctx = ctx.cast::<Ctx>();
    // SAFETY: the parent passes a valid `Ctx` that outlives the vfork.
    let err = unsafe { run(&*ctx) };
    // SAFETY: as above; the parent reads `err` only after the child exits.
    unsafe {
        ptr::addr_of_mut!((*ctx).err).write_volatile(if err == 0 { libc::EINVAL } else { err });
        libc::_exit(127)
    }
}

/// Sets the child up and execs; returns the errno of what failed.
///
/// # Safety
///
/// Only in the vfork child, with `ctx` prepared by the parent.
unsafe fn run(ctx: &Ctx) -> c_int {
    // SAFETY: each call is async-signal-safe and gets valid arguments
    // from `ctx`, whose pointers the parent keeps alive.
    unsafe {
        reset_signals(ctx.handlers_cleared != 0);
        if ctx.death_signal != 0 {
            if libc::prctl(libc::PR_SET_PDEATHSIG, ctx.death_signal as libc::c_ulong) != 0 {
                return errno();
            }
            if libc::getppid() != ctx.parent {
                return libc::ESRCH;
            }
        }
        if ctx.new_group != 0 && libc::setpgid(0, 0) != 0 {
            return errno();
        }
        for (target, &source) in (0..3).zip(ctx.stdio.iter()) {
            if source < 0 {
                continue;
            }
            let done = if source == target {
                // dup2 onto itself keeps close-on-exec: clear it instead.
                libc::fcntl(source, libc::F_SETFD, 0)
            } else {
                libc::dup2(source, target)
            };
            if done < 0 {
                return errno();
            }
        }
        if !ctx.cwd.is_null() && libc::chdir(ctx.cwd) != 0 {
            return errno();
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, ctx.mask, ptr::null_mut());
        exec(ctx)
    }
}

/// Every handled signal back to its default (a handler of the parent must
/// not run in the child), unless the kernel did that already (`cleared`),
/// and `SIGPIPE` too, as std does for its children (the Rust runtime
/// ignores it in the parent). Ignored signals stay ignored, as across any
/// `execve`.
///
/// # Safety
///
/// Only in the vfork child.
unsafe fn reset_signals(cleared: bool) {
    if cleared {
        // SAFETY: a zeroed sigaction is a valid value (default action,
        // empty mask); sigaction is async-signal-safe.
        unsafe {
            let default: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGPIPE, &default, ptr::null_mut());
        }
        return;
    }
    for sig in 1..=libc::SIGRTMAX() {
        // SAFETY: sigaction with a valid out-pointer; a zeroed sigaction
        // is a valid value (default action, empty mask).
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, ptr::null(), &mut old) != 0 {
                continue;
            }
            let handled = old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN;
            if handled || sig == libc::SIGPIPE {
                let default: libc::sigaction = std::mem::zeroed();
                libc::sigaction(sig, &default, ptr::null_mut());
            }
        }
    }
}

/// Tries each candidate path as `execvp` does: a path that does not exist
/// (or is not a directory on the way) moves on to the next; one that
/// cannot be executed is remembered and the search moves on; any other
/// error ends the search. Returns the errno to report.
///
/// # Safety
///
/// Only in the vfork child; `execve` replaces the process on success.
unsafe fn exec(ctx: &Ctx) -> c_int {
    let mut found_denied = false;
    let mut last = libc::ENOENT;
    for i in 0..ctx.paths_len {
        // SAFETY: `paths` has `paths_len` valid C strings; `argv` and
        // `envp` are null-terminated arrays of C strings.
        let err = unsafe {
            libc::execve(*ctx.paths.add(i), ctx.argv, ctx.envp);
            errno()
        };
        match err {
            libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {
                last = err;
            }
            libc::EACCES => found_denied = true,
            other => return other,
        }
    }
    if found_denied {
        libc::EACCES
    } else {
        last
    }
}
