//! A reader that goes away ends a command quietly, as it ends C tools:
//! killed by SIGPIPE (the shell shows 141) or done before it noticed;
//! never a panic. A full disk is one "write error" line and status 1.
#![cfg(target_os = "linux")]

mod common;

use std::fs::OpenOptions;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use common::*;
use prochandle_test_support::{NamedSleep, Reaped};

/// Runs `prochandle ARGS` with a stdout pipe whose reader is closed at
/// once, `times` times; each must end quietly.
fn closed_reader(args: &[&str], times: usize) {
    for _ in 0..times {
        let mut child = prochandle()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let quiet = out.status.signal() == Some(libc::SIGPIPE) || out.status.code() == Some(0);
        assert!(quiet, "{args:?}: {:?} {}", out.status, stderr(&out));
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn every_printing_command_ends_quietly_when_its_reader_closes() {
    let target = Reaped::sleeping_child(30);
    let program = NamedSleep::new("cls");
    let _named = program.spawn(30);
    let pid = target.pid_arg();
    for args in [
        &["check"][..],
        &["check", "--json"],
        &["info", &pid],
        &["info", "--json", &pid],
        &["list", "-x", &program.name],
        &["kill", "-l"],
        &["kill", "-L"],
        &["kill", "-0", "--json", &pid],
        &["completions", "bash"],
        &["--help"],
        &["kill", "--help"],
    ] {
        closed_reader(args, 20);
    }
}

#[test]
fn wait_ends_quietly_when_its_reader_closes() {
    for _ in 0..5 {
        let mut target = Reaped::sh("sleep 0.2");
        let mut waiter = Reaped::child(
            prochandle()
                .args(["wait", &target.pid_arg()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        drop(waiter.stdout.take());
        target.wait_status();
        let status = waiter.wait().unwrap();
        assert!(
            status.signal() == Some(libc::SIGPIPE) || status.code() == Some(0),
            "{status:?}"
        );
    }
}

#[test]
fn a_full_disk_is_a_write_error() {
    let Ok(full) = OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    let out = prochandle().arg("check").stdout(full).output().unwrap();
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["write error"]);
}
