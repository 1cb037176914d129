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

/// The state of a process that is not our child, after it was killed with
/// `SIGKILL` and its parent reaped it: the signal where the kernel reports
/// other processes' statuses (a handle and `PIDFD_INFO_EXIT`), else an
/// unknown status, never a made-up one.
pub fn assert_killed_non_child(process: &prochandle::Process, state: &prochandle::ProcessState) {
    use prochandle::{capabilities, ExitStatus, Feature, Signal};
    if process.has_handle() && capabilities().is_available(Feature::PidfdInfoExit) {
        assert_eq!(state.signal(), Some(Signal::KILL), "{state:?}");
    } else {
        assert!(
            matches!(state.status(), ExitStatus::Unknown(_)),
            "{state:?}"
        );
    }
}
