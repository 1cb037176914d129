//! The CI rule, and the questions tests ask about the machine.
//!
//! A test that needs something this machine may lack (root, a kernel
//! feature, a tool) asks for it with [`require`] or [`skip`]. Locally a
//! missing requirement skips the test, saying why on stderr; under `CI=true`
//! it fails the test, so that CI can never pass by skipping.

use prochandle::capabilities;

/// Whether this run is CI (`CI=true`), where a missing requirement fails.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether the suite runs with handles forced off (`PROCHANDLE_FORCE_PID=1`,
/// the best tier without pidfds, or `PROCHANDLE_FORCE_PID=bare`, the bare
/// guarded PID).
pub fn forced_pid_mode() -> bool {
    std::env::var_os(prochandle::FORCE_PID_ENV)
        .is_some_and(|v| v == "1" || v == prochandle::FORCE_PID_BARE)
}

/// Whether the suite runs with the bare guarded PID forced
/// (`PROCHANDLE_FORCE_PID=bare`).
pub fn forced_bare_pid() -> bool {
    std::env::var_os(prochandle::FORCE_PID_ENV).is_some_and(|v| v == prochandle::FORCE_PID_BARE)
}

/// The tier this run must use, checked against the probe on Linux: a
/// handle normally (on CI's 6.18), a `/proc/<pid>` directory under
/// `PROCHANDLE_FORCE_PID=1`, the bare PID under `PROCHANDLE_FORCE_PID=bare`.
/// Elsewhere it returns what the probe found.
pub fn expect_pin_mode() -> prochandle::PinMode {
    use prochandle::PinMode;
    let mode = capabilities().pin_mode();
    if cfg!(target_os = "linux") {
        let want = if forced_bare_pid() {
            Some(PinMode::GuardedPid)
        } else if forced_pid_mode() {
            Some(PinMode::ProcDir)
        } else {
            in_ci().then_some(PinMode::Handle)
        };
        if let Some(want) = want {
            assert_eq!(mode, want, "unexpected tier: {:?}", capabilities());
        }
    }
    mode
}

/// Whether `Process`es hold handles (pidfds, HANDLEs) in this run.
pub fn handles() -> bool {
    capabilities().handles()
}

/// Whether `Process`es should hold pidfds in this run, checked: on this
/// project's CI kernel (6.18) they must, unless the guarded-PID mode is
/// forced. A CI machine that lost pidfds fails here rather than quietly
/// testing the fallback.
pub fn expect_handles() -> bool {
    let handles = handles();
    if forced_pid_mode() {
        assert!(!handles, "PROCHANDLE_FORCE_PID must turn handles off");
    } else if in_ci() {
        assert!(
            handles,
            "CI runs on Linux 6.18: pidfds must be available: {:?}",
            capabilities()
        );
    }
    handles
}

/// The test cannot run here, for `reason`: fails under `CI=true`, otherwise
/// prints "skipped: `reason`". The caller returns right after.
pub fn skip(reason: &str) {
    if in_ci() {
        panic!("requirement missing under CI=true: {reason}");
    }
    eprintln!("skipped: {reason}");
}

/// `true` if `condition` holds and the test may go on; otherwise
/// [`skip`]s (so fails under `CI=true`) and returns `false`.
pub fn require(condition: bool, what: &str) -> bool {
    if !condition {
        skip(what);
    }
    condition
}

/// Whether the test runs as root (effective user ID 0).
#[cfg(unix)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// [`require`]s root for `test`.
#[cfg(unix)]
pub fn require_root(test: &str) -> bool {
    require(is_root(), &format!("{test} needs root"))
}
