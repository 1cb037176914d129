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
    // (mode, CMD's exit code, run's): `fail` turns CMD's success into 122
    // and keeps CMD's own failure.
    for (mode, cmd_code, expected) in [("report", 0, 0), ("fail", 0, 122), ("fail", 3, 3)] {
        let leaks = format!("--leaks={mode}");
        let script = leaving_a_daemon(cmd_code);
        let out = run_as(prefix, &["run", &leaks, "--", "sh", "-c", &script]);
        let context = format!("{leaks}, CMD exits {cmd_code}: {}", stderr(&out));
        assert_eq!(code(&out), expected, "{context}");
        assert_eq!(reported_and_gone(&out), 1, "{context}");
    }
    // No leak, no failure.
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
    let script = leaving_a_daemon(0);
    for leaks in [None, Some("--leaks=kill")] {
        let mut args = vec!["run"];
        args.extend(leaks);
        args.extend(["--", "sh", "-c", &script]);
        let out = run(&args);
        assert_eq!(code(&out), 0, "{leaks:?}");
        assert_eq!(stderr(&out), "", "{leaks:?}");
    }
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
