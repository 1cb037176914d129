//! `run --stats` and `run`'s limits, and `kill --tree --timeout` as a
//! graceful stop with its report. As root the tree is a cgroup: this
//! machine's cgroup v2 has no memory, pids or cpu controller, so there
//! the limits are refused, and where a system has them they are applied.
#![cfg(target_os = "linux")]

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use prochandle_test_support::{require_root, temp_path};

/// Some 0.1 s of CPU in a grandchild of CMD's.
const BUSY_TREE: &str = "(i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done) & wait";

#[test]
fn run_stats_reports_the_whole_trees_cpu_in_text_and_json() {
    let out = run(&["run", "--stats", "--", "sh", "-c", BUSY_TREE]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stderr(&out);
    let line = text.lines().find(|l| l.starts_with("tree: ")).expect(&text);
    let user: f64 = line
        .split_whitespace()
        .skip_while(|w| *w != "user")
        .nth(1)
        .and_then(|v| v.trim_end_matches('s').parse().ok())
        .expect(line);
    assert!(user > 0.02, "{line}");

    let out = run(&["run", "--stats", "--json", "--", "sh", "-c", BUSY_TREE]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stderr(&out);
    let json: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).expect(&text);
    let tree = &json["tree"];
    let cpu =
        tree["cpu_user_seconds"].as_f64().unwrap() + tree["cpu_system_seconds"].as_f64().unwrap();
    assert!(cpu > 0.02, "{json}");
    // Linux counts no process starts: null, with the reason.
    assert!(tree["processes_started"].is_null(), "{json}");
    assert!(tree["absent"]["processes_started"].is_string(), "{json}");
}

#[test]
fn each_limit_is_applied_or_refused_with_125_before_cmd_starts() {
    if !require_root("a cgroup scope for run") {
        return;
    }
    for (option, value, controller) in [
        ("--memory-max", "64M", "memory"),
        ("--tasks-max", "50", "pids"),
        ("--cpu-max", "50%", "cpu"),
    ] {
        let marker = temp_path("limit");
        let touch = format!("touch {}", marker.display());
        let out = run(&["run", option, value, "--", "sh", "-c", &touch]);
        let started = marker.exists();
        let _ = std::fs::remove_file(&marker);
        match code(&out) {
            0 => assert!(started),
            125 => {
                one_error_line(&out, &["cannot limit", &format!("{controller} controller")]);
                assert!(!started, "{option}: CMD ran although the limit was refused");
            }
            other => panic!("{option}: status {other}: {}", stderr(&out)),
        }
    }
}

#[test]
fn limits_conflict_with_holding_cmd_alone() {
    let out = run(&["run", "--child-only", "--tasks-max", "5", "--", "true"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    one_error_line(&out, &["--child-only", "--tasks-max"]);
}

#[test]
fn kill_tree_timeout_stops_gracefully_and_reports_each_member() {
    if !require_root("a cgroup scope for kill --tree") {
        return;
    }
    // A shell that ignores TERM (so do its two sleeps) and one that does not.
    let mut stubborn = Command::new("sh")
        .args(["-c", "trap '' TERM; sleep 30 & exec sleep 30"])
        .spawn()
        .unwrap();
    let mut polite = Command::new("sh")
        .args(["-c", "sleep 30 & exec sleep 31"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (a, b) = (stubborn.id().to_string(), polite.id().to_string());
    let out = run(&[
        "kill",
        "--tree",
        "--timeout",
        "500ms",
        "--report",
        "--json",
        &a,
        &b,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let objects: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status = |pid: u32| {
        objects
            .iter()
            .find(|o| o["pid"] == pid)
            .map(|o| o["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        status(stubborn.id()).as_deref(),
        Some("killed"),
        "{objects:?}"
    );
    assert_eq!(
        status(polite.id()).as_deref(),
        Some("exited"),
        "{objects:?}"
    );
    assert_eq!(objects.len(), 4, "{objects:?}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(stubborn.wait().unwrap().signal(), Some(9));
    assert_eq!(polite.wait().unwrap().signal(), Some(15));
}
