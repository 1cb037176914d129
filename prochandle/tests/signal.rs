//! Signals reach the process they were meant for, or nobody.
#![cfg(target_os = "linux")]

mod support;

use std::time::Duration;

use prochandle::{ErrorKind, Process, Signal};
use support::*;

#[test]
fn signal_after_wait_is_done() {
    expect_handles();
    let p = spawn_sleeper(30);
    p.signal(Signal::TERM).unwrap();
    let state = p.wait().unwrap();
    assert_eq!(state.signal(), Some(libc::SIGTERM));
    for sig in [Signal::TERM, Signal::KILL, Signal::from_raw(0)] {
        let err = p.signal(sig).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Done, "{err}");
    }
    assert!(p.kill().unwrap_err().is_done());
}

#[test]
fn a_process_that_already_exited_is_done_before_any_wait() {
    expect_handles();
    let p = Process::spawn(&mut exiter(0)).unwrap();
    // Let it exit; it stays a zombie because nobody has reaped it.
    assert!(eventually(Duration::from_secs(10), || {
        std::fs::read_to_string(format!("/proc/{}/stat", p.pid()))
            .map(|s| s.contains(") Z "))
            .unwrap_or(false)
    }));
    assert!(p.kill().unwrap_err().is_done());
    // Signalling did not reap it: wait still gets the real status.
    assert_eq!(p.wait().unwrap().exit_code(), Some(0));
}

#[test]
fn a_non_child_that_exited_and_was_reaped_is_done() {
    expect_handles();
    let gc = Grandchild::start("sleep 0.2; exit 5");
    let p = Process::open(gc.pid).unwrap();
    assert!(!p.is_child());
    p.wait().unwrap();
    assert!(p.kill().unwrap_err().is_done());
    gc.finish();
}

#[test]
fn signals_are_delivered_and_named() {
    expect_handles();
    for (sig, raw) in [(Signal::HUP, libc::SIGHUP), (Signal::USR1, libc::SIGUSR1)] {
        let p = spawn_sleeper(30);
        p.signal(sig).unwrap();
        let state = p.wait().unwrap();
        assert_eq!(state.signal(), Some(raw));
        assert_eq!(
            state.to_string(),
            format!("killed by {}", sig.name().unwrap())
        );
    }
}

#[test]
fn an_invalid_signal_number_is_invalid_input() {
    expect_handles();
    let p = spawn_sleeper(30);
    let err = p.signal(Signal::from_raw(1000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn signalling_a_process_of_another_user_is_permission_denied() {
    expect_handles();
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        // As root we may signal anyone: check the error path with a process
        // that drops to `nobody` is not needed; instead confirm PID 1 would
        // accept signal 0 (we must not send anything else to init).
        let init = Process::open(1).unwrap();
        init.signal(Signal::from_raw(0)).unwrap();
        return;
    }
    let init = Process::open(1).unwrap();
    let err = init.signal(Signal::TERM).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
}
