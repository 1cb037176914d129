//! No descriptor leaks: not from failures, not into children, not from
//! many open/drop cycles. Each test runs alone in its process under
//! nextest; under `cargo test` the file's tests share a mutex so that
//! their fd counts do not see each other.
#![cfg(target_os = "linux")]

use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use prochandle::{ErrorKind, Process};
use prochandle_test_support::procfs::is_pidfd_link;
use prochandle_test_support::{expect_handles, open_fds, Reaped};

static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn ten_failed_spawns_leak_no_descriptor() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    expect_handles();
    let before = open_fds();
    for _ in 0..10 {
        let err =
            Process::spawn(&mut Command::new("/nonexistent/prochandle-test-binary")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        assert!(err.to_string().contains("prochandle-test-binary"), "{err}");
    }
    assert_eq!(open_fds(), before);
}

#[test]
fn ten_thousand_open_drop_cycles_keep_the_fd_count() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    expect_handles();
    let p = Reaped::sleeping(60);
    let before = open_fds();
    for _ in 0..10_000 {
        let q = Process::open(p.pid()).unwrap();
        assert_eq!(q.pid(), p.pid());
        drop(q);
    }
    for _ in 0..1_000 {
        Process::current().unwrap().release();
    }
    assert_eq!(open_fds(), before);
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn no_pidfd_leaks_into_a_spawned_child() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let handles = expect_handles();
    let held: Vec<Reaped<Process>> = (0..4).map(|_| Reaped::sleeping(60)).collect();
    let raw: Vec<i32> = held
        .iter()
        .filter_map(|p| p.handle().map(|h| h.as_raw_fd()))
        .collect();
    assert_eq!(raw.len(), if handles { 4 } else { 0 });
    // What a pidfd looks like in /proc/<pid>/fd, so the child's listing
    // below can be searched for one.
    for fd in &raw {
        let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
        assert!(is_pidfd_link(&target.to_string_lossy()), "{target:?}");
    }
    // The child lists what each of its descriptors refers to.
    let out = Command::new("sh")
        .args([
            "-c",
            "for f in /proc/self/fd/*; do echo \"$f $(readlink $f)\"; done",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("/proc/self/fd/0"), "{listing}");
    assert!(
        !listing.contains("pidfd"),
        "a pidfd leaked into the child:\n{listing}"
    );
    for p in held {
        p.kill().unwrap();
        p.wait().unwrap();
    }
}

#[test]
fn every_descriptor_we_hold_is_close_on_exec() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !expect_handles() {
        return;
    }
    let p = Reaped::sleeping(60);
    let me = Process::current().unwrap();
    for fd in [p.handle().unwrap(), me.handle().unwrap()] {
        // SAFETY: F_GETFD on a descriptor we hold borrowed.
        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
        assert!(flags & libc::FD_CLOEXEC != 0, "fd {fd:?} lacks FD_CLOEXEC");
    }
    p.kill().unwrap();
    p.wait().unwrap();
}
