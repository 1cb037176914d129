//! Signal dispositions of the test process.

/// Whether `SIGCHLD` still has its default disposition (no handler).
pub fn sigchld_is_default() -> bool {
    let mut old = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current one into `old`.
    let ret = unsafe { libc::sigaction(libc::SIGCHLD, std::ptr::null(), old.as_mut_ptr()) };
    assert_eq!(ret, 0);
    // SAFETY: zero-initialised and filled in by the kernel.
    let old = unsafe { old.assume_init() };
    old.sa_sigaction == libc::SIG_DFL
}
