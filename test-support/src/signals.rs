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

/// What the last queued signal carried, once [`record_queued`] is in
/// place: `si_code` and the `int` of `si_value`.
#[cfg(target_os = "linux")]
static QUEUED: [std::sync::atomic::AtomicI32; 3] = [
    std::sync::atomic::AtomicI32::new(0),
    std::sync::atomic::AtomicI32::new(0),
    std::sync::atomic::AtomicI32::new(0),
];

#[cfg(target_os = "linux")]
extern "C" fn on_queued(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    use std::sync::atomic::Ordering;
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler;
    // reading its fields and storing atomics is async-signal-safe.
    let (code, value) = unsafe {
        (
            (*info).si_code,
            (*info).si_value().sival_ptr as usize as i32,
        )
    };
    QUEUED[1].store(code, Ordering::SeqCst);
    QUEUED[2].store(value, Ordering::SeqCst);
    QUEUED[0].store(sig, Ordering::SeqCst);
}

/// Handles `signal` in this process by recording its siginfo, for a test
/// helper process that reports what a `kill -q VALUE` sent it.
#[cfg(target_os = "linux")]
pub fn record_queued(signal: i32) {
    // SAFETY: a zeroed sigaction is valid; the handler only stores
    // atomics, which is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_queued as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO;
        assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
    }
}

/// Waits up to `limit` for the signal [`record_queued`] handles: its
/// number, `si_code` and value.
#[cfg(target_os = "linux")]
pub fn queued_within(limit: std::time::Duration) -> Option<(i32, i32, i32)> {
    use std::sync::atomic::Ordering;
    crate::poll::within(limit, || {
        let sig = QUEUED[0].load(Ordering::SeqCst);
        (sig != 0).then(|| {
            (
                sig,
                QUEUED[1].load(Ordering::SeqCst),
                QUEUED[2].load(Ordering::SeqCst),
            )
        })
    })
}
