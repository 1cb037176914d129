//! Attaching to processes by PID: Go's FindProcess.
#![cfg(target_os = "linux")]

use prochandle::{ErrorKind, Process};
use prochandle_test_support::{exit_with, expect_handles, Grandchildren};

#[test]
fn a_nonexistent_pid_is_not_found() {
    expect_handles();
    // pid_max is at most 2^22 on Linux, so these never exist.
    for pid in [i32::MAX as u32, 4_194_305, 99_999_999] {
        let err = Process::open(pid).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{pid}: {err}");
        assert!(err.to_string().contains(&pid.to_string()), "{err}");
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    }
}

#[test]
fn pids_that_are_not_process_ids_are_invalid_input() {
    for pid in [0, u32::MAX, i32::MAX as u32 + 1] {
        let err = Process::open(pid).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{pid}: {err}");
    }
}

#[test]
fn a_reaped_child_is_not_found() {
    expect_handles();
    let mut child = exit_with(0).spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    // The PID is free now (and nothing else in this test process forks
    // meanwhile; the kernel hands out PIDs in increasing order).
    match Process::open(pid) {
        Err(err) => assert_eq!(err.kind(), ErrorKind::NotFound),
        Ok(p) => panic!("opened a reaped PID {pid}: {p:?}"),
    }
}

#[test]
fn opening_a_non_child_is_not_a_child() {
    expect_handles();
    let gc = Grandchildren::running("exec sleep 30");
    let p = Process::open(gc.pids[0]).unwrap();
    assert!(!p.is_child());
    assert_eq!(p.pid(), gc.pids[0]);
    assert!(p.try_wait().unwrap().is_none());
    p.kill().unwrap();
}

#[test]
fn pid_1_can_be_opened() {
    expect_handles();
    let init = Process::open(1).unwrap();
    assert_eq!(init.pid(), 1);
    assert!(!init.is_child());
    assert!(init.try_wait().unwrap().is_none());
}
