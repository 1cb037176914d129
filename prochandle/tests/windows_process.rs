//! Windows-only behaviour of `Process`: exit codes of processes that are
//! not our children, TerminateProcess, unsupported signals, and handles
//! that lack rights. Runs under Wine in CI.
#![cfg(windows)]

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::process::{Command, Stdio};

use prochandle::{capabilities, ErrorKind, Feature, Process, Signal};
use prochandle_test_support::{exit_with, sleeper, Reaped, PATIENCE, WINDOWS_KILL_CODE};
use windows_sys::Win32::Foundation::{DuplicateHandle, HANDLE};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetProcessId, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE,
};

/// A duplicate of `p`'s handle with only `rights`.
fn restricted(p: &Process, rights: u32) -> OwnedHandle {
    let source = p.handle().unwrap().as_raw_handle() as HANDLE;
    let mut out: HANDLE = std::ptr::null_mut();
    // SAFETY: a valid source handle, this process as source and target, a
    // valid out-pointer.
    let ok = unsafe {
        let me = GetCurrentProcess();
        DuplicateHandle(me, source, me, &mut out, rights, 0, 0)
    };
    assert_ne!(
        ok,
        0,
        "DuplicateHandle: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: a fresh handle we own.
    unsafe { OwnedHandle::from_raw_handle(out as _) }
}

/// A process that runs about a second, then exits with `code`.
fn exit_later(code: u8) -> Command {
    let mut cmd = Command::new("cmd");
    cmd.args(["/c", &format!("ping -n 2 127.0.0.1 >NUL & exit {code}")])
        .stdin(Stdio::null());
    cmd
}

#[test]
fn probe_reports_handles_and_linux_only_features() {
    let caps = capabilities();
    assert!(caps.handles());
    assert!(
        caps.platform().starts_with("Windows"),
        "{}",
        caps.platform()
    );
    for (feature, availability) in caps.iter() {
        if feature == Feature::ProcessHandle {
            continue;
        }
        match availability {
            prochandle::Availability::Unavailable { reason, .. } => {
                assert_eq!(reason, "Linux only")
            }
            other => panic!("{feature} should be unavailable, is {other:?}"),
        }
    }
}

#[test]
fn wait_on_a_process_that_is_not_our_child_returns_its_exit_code() {
    let mut child = exit_later(7).spawn().expect("spawn");
    let other = Process::open(child.id()).expect("open");
    assert!(!other.is_child(), "open(pid) is not the creator");
    let state = other.wait_timeout(PATIENCE).unwrap().expect("exit");
    assert_eq!(state.exit_code(), Some(7));
    assert!(
        state.usage().is_some(),
        "GetProcessTimes works for any holder"
    );
    assert_eq!(child.wait().unwrap().code(), Some(7), "std agrees");
}

#[test]
fn kill_terminates_with_exit_code_1_and_reports_cpu_times() {
    let p = Reaped::spawn(sleeper(30));
    p.kill().unwrap();
    let state = p.wait_timeout(PATIENCE).unwrap().expect("exit");
    assert_eq!(state.exit_code(), Some(WINDOWS_KILL_CODE));
    assert_eq!(state.signal(), None, "Windows has no signals");
    assert!(state.user_time().is_some() && state.system_time().is_some());
}

#[test]
fn signals_other_than_kill_are_unsupported_and_zero_checks_liveness() {
    let p = Reaped::spawn(sleeper(30));
    for sig in [Signal::TERM, Signal::INT, Signal::HUP] {
        let err = p.signal(sig).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{sig}: {err}");
    }
    p.signal(Signal::from_raw(0)).expect("alive");
    assert!(p.try_wait().unwrap().is_none(), "nothing was delivered");
}

#[test]
fn kill_without_terminate_right_is_permission_denied() {
    let p = Reaped::spawn(sleeper(30));
    let weak = Process::from_handle(restricted(
        &p,
        PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
    ))
    .unwrap();
    assert_eq!(weak.pid(), p.pid());
    let err = weak.kill().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(p.try_wait().unwrap().is_none(), "still running");
    // Waiting works with what the handle has.
    p.kill().unwrap();
    let state = weak.wait_timeout(PATIENCE).unwrap().expect("exit");
    assert_eq!(state.exit_code(), Some(WINDOWS_KILL_CODE));
}

#[test]
fn wait_without_synchronize_right_is_permission_denied() {
    let p = Reaped::spawn(sleeper(30));
    let weak = Process::from_handle(restricted(&p, PROCESS_QUERY_LIMITED_INFORMATION)).unwrap();
    let err = weak.wait_timeout(PATIENCE).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert_eq!(err.operation(), "WaitForSingleObject");
}

#[test]
fn from_handle_refuses_a_handle_that_is_not_a_process() {
    let file = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
    let err = Process::from_handle(OwnedHandle::from(file)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[test]
fn open_of_pid_zero_is_invalid_input() {
    assert_eq!(
        Process::open(0).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn with_handle_after_wait_still_names_the_process() {
    let p = Reaped::spawn(exit_with(5));
    assert_eq!(p.wait().unwrap().exit_code(), Some(5));
    // SAFETY: the lent handle is valid for the call.
    let pid = p
        .with_handle(|h| unsafe { GetProcessId(h.as_raw_handle() as HANDLE) })
        .unwrap();
    assert_eq!(
        pid,
        p.pid(),
        "the handle keeps the exited process (and its PID)"
    );
}
