//! `run --leaks=MODE`: members of CMD's tree left when CMD exits are
//! killed silently (`kill`), named then killed (`report`), also turn a
//! success into exit 122 (`fail`), or are waited for under the timeout
//! (`wait`). The leak here is a daemon that closed its stdout and stderr,
//! which a test runner watching pipes cannot see. As root (a cgroup) and
//! as `nobody` (the keeper).
#![cfg(target_os = "linux")]

mod common;

use std::process::Output;
use std::time::{Duration, Instant};

use common::*;
use prochandle::linux::ProcessId;
use prochandle_test_support::require_root;

/// A daemon (new session, stdio closed) left behind by a CMD exiting `code`.
fn leaving_a_daemon(code: u8) -> String {
    format!("setsid sleep 30 </dev/null >/dev/null 2>&1 & sleep 0.1; exit {code}")
}

/// The identities named by `leaked:` lines; each must be gone by now.
fn reported_and_gone(out: &Output) -> usize {
    let text = stderr(out);
    let ids: Vec<ProcessId> = text
        .lines()
        .filter_map(|line| line.strip_prefix("prochandle: run: leaked: "))
        .map(|rest| {
            assert!(rest.ends_with(": sleep 30"), "{rest}");
            assert!(rest.contains(", running "), "{rest}");
            rest.split(',')
                .next()
                .unwrap()
                .parse()
                .expect("an identity")
        })
        .collect();
    // Gone, or a zombie waiting for whichever reaper it was given to.
    for id in &ids {
        let alive = id.open().is_ok_and(|p| !p.has_exited().unwrap_or(true));
        assert!(!alive, "{id} outlived run");
    }
    ids.len()
}

fn report_and_fail(prefix: &[&str]) {
    let out = run_as(
        prefix,
        &[
            "run",
            "--leaks=report",
            "--",
            "sh",
            "-c",
            &leaving_a_daemon(0),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(reported_and_gone(&out), 1, "{}", stderr(&out));
    let out = run_as(
        prefix,
        &[
            "run",
            "--leaks=fail",
            "--",
            "sh",
            "-c",
            &leaving_a_daemon(0),
        ],
    );
    assert_eq!(code(&out), 122, "{}", stderr(&out));
    assert_eq!(reported_and_gone(&out), 1);
    // CMD's own failure is kept; no leak, no failure.
    let out = run_as(
        prefix,
        &[
            "run",
            "--leaks=fail",
            "--",
            "sh",
            "-c",
            &leaving_a_daemon(3),
        ],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert_eq!(reported_and_gone(&out), 1);
    let out = run_as(prefix, &["run", "--leaks=fail", "--", "true"]);
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), "");
}

#[test]
fn report_and_fail_name_the_daemon_and_kill_it() {
    report_and_fail(&[]);
}

#[test]
fn as_nobody_too() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    report_and_fail(&NOBODY);
}

#[test]
fn kill_is_the_default_and_silent() {
    let out = run(&["run", "--", "sh", "-c", &leaving_a_daemon(0)]);
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), "");
    let out = run(&[
        "run",
        "--leaks=kill",
        "--",
        "sh",
        "-c",
        &leaving_a_daemon(0),
    ]);
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), "");
}

#[test]
fn wait_waits_for_the_whole_tree() {
    let started = Instant::now();
    let script = "setsid sh -c 'sleep 0.7' </dev/null >/dev/null 2>&1 & exit 0";
    let out = run(&["run", "--leaks=wait", "10", "sh", "-c", script]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(started.elapsed() >= Duration::from_millis(700));
}

#[test]
fn under_wait_the_timeout_covers_the_whole_tree() {
    let started = Instant::now();
    let out = run(&[
        "run",
        "--leaks=wait",
        "-v",
        "300ms",
        "sh",
        "-c",
        &leaving_a_daemon(0),
    ]);
    assert_eq!(code(&out), 124, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sending signal TERM"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}
