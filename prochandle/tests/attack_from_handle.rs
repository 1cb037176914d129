//! `from_handle` with descriptors that are not what they should be: each
//! gives a clear error, never a panic or a `Process` for the wrong thing.
#![cfg(target_os = "linux")]

mod attack_support;

use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::process::Command;
use std::time::Duration;

use attack_support::*;
use prochandle::{capabilities, ErrorKind, Process};

fn devnull() -> OwnedFd {
    std::fs::File::open("/dev/null").unwrap().into()
}

fn expect_refused(fd: OwnedFd, want: ErrorKind, words: &str) {
    let err = Process::from_handle(fd).expect_err("from_handle accepted it");
    if capabilities().handles() {
        assert_eq!(err.kind(), want, "{err} ({err:?})");
        assert!(err.to_string().contains(words), "unclear: {err}");
    } else {
        // Without pidfds every descriptor is refused, saying why.
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err} ({err:?})");
        assert!(err.to_string().contains("pidfd"), "unclear: {err}");
    }
}

#[test]
fn not_a_pidfd() {
    expect_refused(devnull(), ErrorKind::InvalidInput, "not a pidfd");
    let (r, w) = std::io::pipe().unwrap();
    expect_refused(r.into(), ErrorKind::InvalidInput, "not a pidfd");
    drop(w);
    let dir: OwnedFd = std::fs::File::open("/proc/self").unwrap().into();
    expect_refused(dir, ErrorKind::InvalidInput, "not a pidfd");
}

#[test]
fn pidfd_of_a_reaped_process() {
    let p = Process::spawn(&mut Command::new("true")).unwrap();
    p.wait().unwrap();
    match p.into_handle() {
        Ok(fd) => expect_refused(fd, ErrorKind::Done, "reaped"),
        Err(p) => {
            assert!(!capabilities().handles());
            assert!(p.with_handle(|_| ()).unwrap_err().is_no_handle());
        }
    }
}

#[test]
fn pidfd_of_a_live_process_round_trips() {
    let p = Process::spawn(Command::new("sleep").arg("30")).unwrap();
    let pid = p.pid();
    match p.into_handle() {
        Ok(fd) => {
            let q = Process::from_handle(fd).unwrap();
            assert_eq!(q.pid(), pid);
            assert!(q.is_child());
            q.kill().unwrap();
            assert_eq!(q.wait().unwrap().signal(), Some(prochandle::Signal::KILL));
        }
        Err(p) => {
            assert!(!capabilities().handles());
            p.kill().unwrap();
            p.wait().unwrap();
        }
    }
}

/// A descriptor number that is not open. Handing one over as an `OwnedFd`
/// breaks I/O safety on the caller's side, so this runs in a child; what we
/// check is that the crate refuses it clearly and does not close the number
/// (which, by then, could name someone else's file).
#[test]
fn closed_descriptor() {
    const TEST: &str = "closed_descriptor";
    if scenario().is_some() {
        let raw = devnull().into_raw_fd();
        // SAFETY: closing a descriptor we own, once.
        unsafe { libc::close(raw) };
        // SAFETY: deliberately wrong (the number is closed): the point of
        // the test. Nothing else runs in this process that could reuse it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let err = Process::from_handle(fd).expect_err("from_handle accepted a closed fd");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err} ({err:?})");
        assert!(err.to_string().contains("not open"), "unclear: {err}");
        println!(
            "\nREPORT closed_fd_error={}",
            err.to_string().replace(' ', "_")
        );
        return;
    }
    let out = run_with_watchdog(&mut reexec(TEST, "closed"), Duration::from_secs(30)).unwrap();
    out.assert_success("from_handle of a closed descriptor");
}
