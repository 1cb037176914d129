//! Signals reach the process they were meant for, or nobody.
#![cfg(target_os = "linux")]

use std::time::Duration;

use prochandle::{ErrorKind, Process, Signal};
use prochandle_test_support::{
    eventually, exit_with, expect_handles, in_ci, is_root, proc_state, Grandchildren, Reaped,
};

#[test]
fn signal_after_wait_is_done() {
    expect_handles();
    let p = Reaped::sleeping(30);
    p.signal(Signal::TERM).unwrap();
    let state = p.wait().unwrap();
    assert_eq!(state.signal(), Some(prochandle::Signal::TERM));
    for sig in [Signal::TERM, Signal::KILL, Signal::from_raw(0)] {
        let err = p.signal(sig).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Done, "{err}");
    }
    assert!(p.kill().unwrap_err().is_done());
}

#[test]
fn a_process_that_already_exited_is_done_before_any_wait() {
    expect_handles();
    let p = Reaped::spawn(exit_with(0));
    // Let it exit; it stays a zombie because nobody has reaped it.
    eventually("a zombie", || {
        (proc_state(p.pid()) == Some('Z')).then_some(())
    });
    assert!(p.kill().unwrap_err().is_done());
    // Signalling did not reap it: wait still gets the real status.
    assert_eq!(p.wait().unwrap().exit_code(), Some(0));
}

#[test]
fn a_non_child_that_exited_and_was_reaped_is_done() {
    expect_handles();
    let gc = Grandchildren::running("sleep 0.2; exit 5");
    let p = Process::open(gc.pids[0]).unwrap();
    assert!(!p.is_child());
    p.wait().unwrap();
    assert!(p.kill().unwrap_err().is_done());
}

#[test]
fn signals_are_delivered_and_named() {
    expect_handles();
    for (sig, raw) in [(Signal::HUP, libc::SIGHUP), (Signal::USR1, libc::SIGUSR1)] {
        let p = Reaped::sleeping(30);
        p.signal(sig).unwrap();
        let state = p.wait().unwrap();
        assert_eq!(state.signal().map(Signal::as_raw), Some(raw));
        assert_eq!(
            state.to_string(),
            format!("killed by {}", sig.name().unwrap())
        );
    }
}

#[test]
fn an_invalid_signal_number_is_invalid_input() {
    expect_handles();
    let p = Reaped::sleeping(30);
    let err = p.signal(Signal::from_raw(1000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn a_process_of_another_user_is_alive_and_refuses_our_signals() {
    expect_handles();
    let root = is_root();
    if !root && in_ci() {
        panic!("CI runs as root: this test needs it to drop to another user");
    }
    let check = || {
        // PID 1 belongs to root; we are not root in this thread.
        let init = Process::open(1).unwrap();
        // Existing-but-forbidden must not read as exited.
        assert!(init.try_wait().unwrap().is_none());
        assert!(init
            .wait_timeout(Duration::from_millis(20))
            .unwrap()
            .is_none());
        // Signal 0 only asks; nothing is delivered even if it were allowed.
        let err = init.signal(Signal::from_raw(0)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    };
    if !root {
        check();
        return;
    }
    // Drop to `nobody` in one thread only: the raw syscall changes just the
    // calling thread's credentials (glibc's wrapper would change them all).
    std::thread::spawn(move || {
        // SAFETY: setresuid with plain integers; affects this thread only.
        let ret = unsafe { libc::syscall(libc::SYS_setresuid, 65534, 65534, 65534) };
        assert_eq!(ret, 0, "{}", std::io::Error::last_os_error());
        assert!(!is_root());
        check();
    })
    .join()
    .expect("unprivileged thread");
}
