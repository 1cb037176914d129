//! Probing syscalls that a seccomp filter may answer with `SIGSYS`.
//!
//! A filter whose action is `SECCOMP_RET_TRAP` (Android before 12, some
//! hand-made sandboxes) does not fail the syscall: it sends `SIGSYS`, whose
//! default action kills the whole process. Go's first pidfd probe did
//! exactly that to Android apps (golang/go#69065).
//!
//! So while the probe runs, and only if a seccomp filter is in force and
//! nobody else handles `SIGSYS` (and for the one call that asks the
//! kernel whether a filter is in force), a handler is installed that
//! marks the probing thread's call as trapped and makes it return
//! `-ENOSYS`. It is removed again as soon as the probe ends; a `SIGSYS` that reaches another
//! thread in that window is re-raised with the default action, as if the
//! handler had never been there. This is no process-wide signal policy: it
//! exists for the span of one probe, which runs once per process.

use std::cell::Cell;
use std::io;
use std::mem::MaybeUninit;
use std::sync::Mutex;

thread_local! {
    static PROBING: Cell<bool> = const { Cell::new(false) };
    static TRAPPED: Cell<bool> = const { Cell::new(false) };
}

/// How the guarded section may run.
pub(crate) enum Guard {
    /// No seccomp filter: syscalls cannot trap.
    Unfiltered,
    /// A filter is in force and our handler is installed.
    Installed(libc::sigaction),
    /// A filter is in force and the application handles `SIGSYS` itself:
    /// we will not replace its handler, so we must not probe.
    ForeignHandler,
}

/// Serialises installs, so two probes never swap handlers under each other.
static INSTALL: Mutex<()> = Mutex::new(());

/// Whether a seccomp filter is active on the calling thread (`Seccomp: 2`).
///
/// Seccomp filters belong to threads: one installed without
/// `SECCOMP_FILTER_FLAG_TSYNC` covers only the thread that installed it
/// (and threads it starts later). `/proc/self/status` describes the main
/// thread, so ask `/proc/thread-self/status` (Linux 3.17) about the thread
/// that is about to probe, and fall back to the former only where the latter
/// is missing. Strict mode (1) would not let us run at all; no `/proc`, or a
/// status we cannot read, means we cannot tell, so assume a filter.
fn seccomp_filter_active() -> bool {
    let status = std::fs::read_to_string("/proc/thread-self/status")
        .or_else(|_| std::fs::read_to_string("/proc/self/status"));
    match status {
        Ok(status) => filter_active_in_status(&status),
        Err(_) => true,
    }
}

/// Reads the `Seccomp:` line of a `/proc/<pid>/status` text: `0` means no
/// filter, anything else (2 filter, 1 strict, or something unreadable) is
/// taken as a filter. No such line at all means a kernel without
/// `CONFIG_SECCOMP`, where no filter can exist.
pub(crate) fn filter_active_in_status(status: &str) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .map(|v| v.trim() != "0")
        .unwrap_or(false)
}

extern "C" fn on_sigsys(_sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    if !PROBING.with(Cell::get) {
        // Not our probe's call: behave as if we were not here. Restoring the
        // default and re-raising kills the process just as the kernel would
        // have. Both calls are async-signal-safe.
        // SAFETY: resetting a disposition and raising are async-signal-safe.
        unsafe {
            libc::signal(libc::SIGSYS, libc::SIG_DFL);
            libc::raise(libc::SIGSYS);
        }
        return;
    }
    TRAPPED.with(|t| t.set(true));
    set_syscall_return(ctx, -(libc::ENOSYS as i64));
}

/// After `SECCOMP_RET_TRAP` the kernel rolls the syscall back, leaving the
/// syscall *number* in the return register, which a caller would take for a
/// result. Put `-ENOSYS` there instead so the interrupted call fails cleanly.
#[allow(unused_variables)]
fn set_syscall_return(ctx: *mut libc::c_void, value: i64) {
    #[cfg(all(target_arch = "x86_64", target_env = "gnu"))]
    // SAFETY: the kernel passes a valid ucontext_t to an SA_SIGINFO handler;
    // REG_RAX is the syscall return register on x86_64.
    unsafe {
        let uc = ctx.cast::<libc::ucontext_t>();
        (*uc).uc_mcontext.gregs[libc::REG_RAX as usize] = value;
    }
    #[cfg(all(target_arch = "aarch64", target_env = "gnu"))]
    // SAFETY: as above; x0 carries the syscall return value on aarch64.
    unsafe {
        let uc = ctx.cast::<libc::ucontext_t>();
        (*uc).uc_mcontext.regs[0] = value as u64;
    }
}

/// Prepares for guarded probing; pair with [`end`].
///
/// Where nobody handles `SIGSYS`, the handler goes in first and the
/// thread's seccomp mode is asked of the kernel under it
/// (`prctl(PR_GET_SECCOMP)`: 0 none, 2 a filter; a filter may trap
/// `prctl` itself): four system calls, where reading
/// `/proc/thread-self/status` costs the kernel some 20 µs to generate. No
/// filter: the handler goes again and nothing is guarded. Where the
/// application handles `SIGSYS`, the status file decides.
pub(crate) fn begin() -> Guard {
    let _lock = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(old) = install() else {
        return if seccomp_filter_active() {
            Guard::ForeignHandler
        } else {
            Guard::Unfiltered
        };
    };
    let guard = Guard::Installed(old);
    let mode = call(&guard, || {
        // SAFETY: PR_GET_SECCOMP takes no pointers.
        let mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP) };
        if mode < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(mode)
        }
    });
    if matches!(mode.result, Ok(0)) {
        restore(&old);
        return Guard::Unfiltered;
    }
    guard
}

/// Installs our handler where `SIGSYS` has its default action; returns
/// the disposition to restore, `None` where another handler (or ignoring)
/// is in place or the install failed.
fn install() -> Option<libc::sigaction> {
    let mut old = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only queries the current disposition into
    // the zeroed out-buffer.
    let queried = unsafe { libc::sigaction(libc::SIGSYS, std::ptr::null(), old.as_mut_ptr()) };
    // SAFETY: zeroed, and filled by the kernel on success.
    let old = unsafe { old.assume_init() };
    if queried != 0 || old.sa_sigaction != libc::SIG_DFL {
        return None;
    }
    let mut new = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a zeroed sigaction is a valid starting point (empty mask,
    // no flags); we set the handler and SA_SIGINFO so it gets the context.
    let installed = unsafe {
        let new = new.as_mut_ptr();
        (*new).sa_sigaction = on_sigsys as *const () as usize;
        (*new).sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSYS, new, std::ptr::null_mut())
    };
    (installed == 0).then_some(old)
}

/// Puts back the disposition [`install`] replaced.
fn restore(old: &libc::sigaction) {
    // SAFETY: `old` is the disposition the kernel reported in `install`.
    unsafe {
        libc::sigaction(libc::SIGSYS, old, std::ptr::null_mut());
    }
}

/// Restores what [`begin`] changed.
pub(crate) fn end(guard: Guard) {
    if let Guard::Installed(old) = guard {
        let _lock = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
        restore(&old);
    }
}

/// Runs one syscall wrapper under `guard`.
///
/// Returns `Err` with `ENOSYS` and `trapped = true` if the filter trapped
/// it; otherwise the call's own result. A value that somehow came back from
/// a trapped call is leaked, never used: its "descriptor" would be a
/// syscall number, and closing it could close someone else's file.
pub(crate) fn call<T>(guard: &Guard, f: impl FnOnce() -> io::Result<T>) -> Probed<T> {
    match guard {
        Guard::Unfiltered => Probed {
            result: f(),
            trapped: false,
        },
        Guard::ForeignHandler => Probed {
            result: Err(io::Error::from_raw_os_error(libc::ENOSYS)),
            trapped: false,
        },
        Guard::Installed(_) => {
            TRAPPED.with(|t| t.set(false));
            PROBING.with(|p| p.set(true));
            let result = f();
            PROBING.with(|p| p.set(false));
            if TRAPPED.with(Cell::get) {
                if let Ok(v) = result {
                    std::mem::forget(v);
                }
                Probed {
                    result: Err(io::Error::from_raw_os_error(libc::ENOSYS)),
                    trapped: true,
                }
            } else {
                Probed {
                    result,
                    trapped: false,
                }
            }
        }
    }
}

/// The result of one guarded call.
pub(crate) struct Probed<T> {
    pub result: io::Result<T>,
    /// The seccomp filter answered with `SIGSYS`.
    pub trapped: bool,
}
