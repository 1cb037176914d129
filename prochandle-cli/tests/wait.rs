//! `prochandle wait`: exits of processes started by another parent (this
//! test), all or the first, timeouts, status pass-through, JSON, errors.
#![cfg(target_os = "linux")]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use prochandle::linux::ProcessExt;
use prochandle::{capabilities, Feature, Process};

/// Whether the CLI can learn a non-child's exit status (Linux 6.15+ with
/// pidfds).
fn status_of_others_known() -> bool {
    handles() && capabilities().is_available(Feature::PidfdInfoExit)
}

#[test]
fn waits_for_a_process_started_by_another_parent_with_its_status() {
    // The test is the parent; prochandle is not, and only waits.
    let mut target = Proc::sh("sleep 0.5; exit 3");
    let mut waiter = prochandle()
        .args(["wait", &target.pid_arg()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Its real parent reaps it, as a parent would: the kernel then records
    // the status for others.
    assert_eq!(target.reap().code(), Some(3));
    let status = waiter.wait().unwrap();
    let out = read_all(&mut waiter);
    assert_eq!(status.code(), Some(0), "{out}");
    let line = out.trim();
    assert!(line.starts_with(&format!("{}: ", target.pid())), "{line}");
    if status_of_others_known() {
        assert_eq!(line, format!("{}: exited 3", target.pid()));
    } else {
        assert!(line.contains("status unknown: not our child"), "{line}");
    }
}

#[test]
fn waits_for_all_targets_and_reports_each_once_in_exit_order() {
    let mut slow = Proc::sh("sleep 0.9; exit 2");
    let mut fast = Proc::sh("sleep 0.4; exit 1");
    let mut waiter = prochandle()
        .args(["wait", &slow.pid_arg(), &fast.pid_arg()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    fast.reap();
    slow.reap();
    assert!(waiter.wait().unwrap().success());
    let out = read_all(&mut waiter);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with(&format!("{}: ", fast.pid())), "{out}");
    assert!(lines[1].starts_with(&format!("{}: ", slow.pid())), "{out}");
    if status_of_others_known() {
        assert!(
            lines[0].ends_with("exited 1") && lines[1].ends_with("exited 2"),
            "{out}"
        );
    }
}

#[test]
fn any_returns_at_the_first_exit() {
    let mut quick = Proc::sh("sleep 0.5");
    let mut long = Proc::sleep("30");
    let mut waiter = prochandle()
        .args(["wait", "--any", &long.pid_arg(), &quick.pid_arg()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    quick.reap();
    assert!(waiter.wait().unwrap().success());
    let out = read_all(&mut waiter);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with(&format!("{}: ", quick.pid())), "{out}");
    assert!(long.alive());
}

#[test]
fn timeout_gives_124_and_names_who_is_still_running() {
    let long = Proc::sleep("30");
    let started = Instant::now();
    let out = run(&["wait", "--timeout", "200ms", &long.pid_arg()]);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(code(&out), 124);
    one_error_line(&out, &["timed out after 200ms", &long.pid_arg()]);
    assert_eq!(stdout(&out), "");
}

#[test]
fn json_lines_have_the_documented_fields() {
    let done = Proc::sh("exit 0");
    let running = Proc::sleep("30");
    // Let `done` exit and be reaped by us before prochandle looks at it:
    // then it no longer exists, which is an error for that target.
    let mut done = done;
    done.reap();
    let mut quick = Proc::sh("sleep 0.5; kill -TERM $$");
    let mut waiter = prochandle()
        .args(["wait", "--json", "--timeout", "2s"])
        .args([quick.pid_arg(), running.pid_arg(), done.pid_arg()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    quick.reap();
    let status = waiter.wait().unwrap();
    assert_eq!(status.code(), Some(124));
    let out = read_all(&mut waiter);
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 3, "{out}");
    let by_target = |t: &str| {
        objects
            .iter()
            .find(|o| o["target"] == t)
            .unwrap_or_else(|| panic!("no object for {t}: {out}"))
    };
    let error = by_target(&done.pid_arg());
    assert_eq!(error["status"], "error");
    assert!(error["error"].as_str().unwrap().contains("no such process"));
    let exited = by_target(&quick.pid_arg());
    assert_eq!(exited["pid"], quick.pid());
    if status_of_others_known() {
        assert_eq!(exited["status"], "killed");
        assert_eq!(exited["signal"], 15);
        assert_eq!(exited["signal_name"], "SIGTERM");
        assert_eq!(exited["text"], "killed by SIGTERM");
    } else {
        assert_eq!(exited["status"], "unknown");
        assert!(exited["reason"].is_string());
    }
    assert_eq!(by_target(&running.pid_arg())["status"], "running");
}

#[test]
fn exit_status_passes_the_code_through() {
    let mut target = Proc::sh("sleep 0.5; exit 7");
    let mut waiter = prochandle()
        .args(["wait", "--exit-status", &target.pid_arg()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    target.reap();
    let code = waiter.wait().unwrap().code();
    if status_of_others_known() {
        assert_eq!(code, Some(7));
    } else {
        assert_eq!(code, Some(255));
    }
    let out = run(&["wait", "--exit-status", "1", "2"]);
    assert_eq!(common::code(&out), 2);
    one_error_line(&out, &["exactly one TARGET"]);
}

#[test]
fn identity_targets_are_waited_for_and_gone_ones_refused() {
    let mut target = Proc::sh("sleep 0.5");
    let id = Process::open(target.pid()).unwrap().identity().unwrap();
    let mut waiter = prochandle()
        .args(["wait", &id.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    target.reap();
    assert!(waiter.wait().unwrap().success());
    assert!(read_all(&mut waiter).starts_with(&format!("{id}: ")));
    // Reaped now: the identity names nothing.
    let out = run(&["wait", &id.to_string()]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["wait", &id.to_string(), "gone"]);
}

#[test]
fn errors_are_one_line_naming_the_target() {
    let out = run(&["wait", NO_SUCH_PID]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["wait", NO_SUCH_PID, "no such process"]);
    let out = run(&["wait", "--timeout", "soon", "1"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["bad duration", "soon"]);
    let out = run(&["wait", "12ab"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["bad target", "12ab"]);
}
