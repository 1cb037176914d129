//! Handle access: Go's WithHandle and its Rust forms.
#![cfg(target_os = "linux")]

use std::cell::Cell;
use std::os::fd::AsRawFd;
use std::process::Command;

use prochandle::{ErrorKind, Process};
use prochandle_test_support::{exit_with, expect_handles, forced_pid_mode, sleeper, Reaped};

#[test]
fn starting_a_process_gives_a_handle() {
    let handles = expect_handles();
    let p = Reaped::sleeping(30);
    assert_eq!(p.has_handle(), handles);
    assert_eq!(p.handle().is_some(), handles);
    assert!(p.is_child());
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn attaching_to_a_live_child_by_pid_gives_a_handle() {
    let handles = expect_handles();
    let mut child = sleeper(30).spawn().unwrap();
    let p = Reaped::new(Process::open(child.id()).unwrap());
    assert_eq!(p.pid(), child.id());
    assert_eq!(p.has_handle(), handles);
    // Opened by PID, yet still recognised as our child.
    assert!(p.is_child());
    p.kill().unwrap();
    let state = p.wait().unwrap();
    assert_eq!(state.signal(), Some(prochandle::Signal::KILL));
    // std's Child finds it already reaped: the Process did it.
    assert!(child.try_wait().is_err() || child.try_wait().unwrap().is_some());
}

#[test]
fn with_handle_calls_once_and_returns_the_result() {
    let handles = expect_handles();
    let p = Reaped::sleeping(30);
    let calls = Cell::new(0);
    let result = p.with_handle(|fd| {
        calls.set(calls.get() + 1);
        fd.as_raw_fd()
    });
    if handles {
        let raw = result.unwrap();
        assert_eq!(calls.get(), 1);
        assert_eq!(raw, p.handle().unwrap().as_raw_fd());
        // The descriptor really is a pidfd of this child.
        let fdinfo = std::fs::read_to_string(format!("/proc/self/fdinfo/{raw}")).unwrap();
        assert!(fdinfo.contains(&format!("Pid:\t{}", p.pid())), "{fdinfo}");
    } else {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NoHandle);
        assert_eq!(calls.get(), 0, "the callback must not run without a handle");
    }
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn without_a_handle_with_handle_never_calls_the_callback() {
    // This test is about the forced mode; in the normal run it checks the
    // opposite, so that each run proves one side.
    let p = Reaped::sleeping(30);
    let called = Cell::new(false);
    let result = p.with_handle(|_| called.set(true));
    if forced_pid_mode() {
        assert!(result.unwrap_err().is_no_handle());
        assert!(!called.get());
        let io: std::io::Error = p.with_handle(|_| ()).unwrap_err().into();
        assert_eq!(io.kind(), std::io::ErrorKind::Unsupported);
    } else if expect_handles() {
        assert!(result.is_ok() && called.get());
    }
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn sigint_through_with_handle_kills_the_child_by_that_signal() {
    let handles = expect_handles();
    let p = Reaped::sleeping(30);
    let sent = p.with_handle(|fd| {
        // SAFETY: pidfd_send_signal takes an fd, a signal and a NULL info.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd.as_raw_fd(),
                libc::SIGINT,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        assert_eq!(ret, 0, "{}", std::io::Error::last_os_error());
    });
    if !handles {
        assert!(sent.unwrap_err().is_no_handle());
        p.signal(prochandle::Signal::INT).unwrap();
    }
    let state = p.wait().unwrap();
    assert_eq!(state.signal(), Some(prochandle::Signal::INT), "{state}");
}

#[test]
fn with_handle_after_wait_still_lends_the_handle() {
    let handles = expect_handles();
    let p = Reaped::spawn(exit_with(4));
    assert_eq!(p.wait().unwrap().exit_code(), Some(4));
    let lent = p.with_handle(|fd| fd.as_raw_fd());
    assert_eq!(lent.is_ok(), handles);
    if handles {
        // The pidfd of the reaped child reports the pid as -1 now.
        let fdinfo =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{}", lent.unwrap())).unwrap();
        assert!(fdinfo.contains("Pid:\t-1"), "{fdinfo}");
    }
}

#[test]
fn into_handle_hands_over_the_descriptor() {
    let handles = expect_handles();
    let p = Reaped::sleeping(30);
    let pid = p.pid();
    match p.into_inner().into_handle() {
        Ok(fd) => {
            assert!(handles);
            // It came back as a Process again and still works.
            let p = Reaped::new(Process::from_handle(fd).unwrap());
            assert_eq!(p.pid(), pid);
            assert!(p.is_child());
            p.kill().unwrap();
            p.wait().unwrap();
        }
        Err(p) => {
            let p = Reaped::new(p);
            assert!(!handles);
            p.kill().unwrap();
            p.wait().unwrap();
        }
    }
}

#[test]
fn from_handle_refuses_what_is_not_a_pidfd() {
    if !expect_handles() {
        let fd = std::fs::File::open("/dev/null").unwrap();
        let err = Process::from_handle(fd.into()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        return;
    }
    let fd = std::fs::File::open("/dev/null").unwrap();
    let err = Process::from_handle(fd.into()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("not a pidfd"), "{err}");
}

#[test]
fn from_handle_of_a_reaped_process_is_done() {
    if !expect_handles() {
        return;
    }
    let p = Reaped::spawn(exit_with(0));
    p.wait().unwrap();
    let fd = p.into_inner().into_handle().unwrap();
    let err = Process::from_handle(fd).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Done, "{err}");
}

#[test]
fn the_current_process_has_a_handle_and_cannot_wait_for_itself() {
    let handles = expect_handles();
    let me = Process::current().unwrap();
    assert_eq!(me.pid(), std::process::id());
    assert_eq!(me.has_handle(), handles);
    assert!(!me.is_child());
    assert!(me.try_wait().unwrap().is_none());
    assert_eq!(me.wait().unwrap_err().kind(), ErrorKind::InvalidInput);
    // Signal 0 through our own handle: "are we alive".
    me.signal(prochandle::Signal::from_raw(0)).unwrap();
    let _ = Command::new("true");
}
