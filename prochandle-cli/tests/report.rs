//! `run --report`: at the timeout, before any signal, every member of
//! CMD's tree is described (identity, parent, state, wchan, system call,
//! age, CPU, memory, command line) as an indented tree on stderr, or as
//! JSON lines in `--report-file` (a header first). As root (a cgroup)
//! and as `nobody` (the keeper). The freeze: `report_freeze.rs`.
#![cfg(target_os = "linux")]

mod common;

use common::*;
use prochandle_test_support::{require_root, temp_path};

/// A shell waiting for a child `sleep` and a `setsid` daemon.
const HANG: &str = "sleep 30 & setsid sleep 31 </dev/null >/dev/null 2>&1 & wait";

fn text_report(prefix: &[&str]) {
    let out = run_as(
        prefix,
        &["run", "--report", "-v", "500ms", "sh", "-c", HANG],
    );
    assert_eq!(code(&out), 124, "{}", stderr(&out));
    let text = stderr(&out);
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.contains("timed out; the command's tree (3 process(es))"))
        .unwrap_or_else(|| panic!("no header: {text}"));
    let signal = lines
        .iter()
        .position(|l| l.contains("sending signal TERM"))
        .unwrap_or_else(|| panic!("no signal line: {text}"));
    assert!(
        header < signal,
        "the report comes before the signal: {text}"
    );
    let tree = &lines[header + 1..signal];
    assert_eq!(tree.len(), 3, "{text}");
    // The shell first, its two children indented below it.
    assert!(
        tree[0].starts_with("  ") && !tree[0].starts_with("   "),
        "{text}"
    );
    assert!(tree[0].contains(" sleeping wchan="), "{text}");
    assert!(tree[0].ends_with(HANG), "{text}");
    for child in &tree[1..] {
        assert!(child.starts_with("    "), "{text}");
        assert!(child.contains(" sleeping "), "{text}");
        assert!(child.contains("age=") && child.contains("rss="), "{text}");
    }
    assert!(tree.iter().any(|l| l.ends_with("sleep 30")), "{text}");
    assert!(tree.iter().any(|l| l.ends_with("sleep 31")), "{text}");
}

#[test]
fn the_tree_at_the_timeout_comes_before_the_signal() {
    text_report(&[]);
}

#[test]
fn as_nobody_too() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    text_report(&NOBODY);
}

#[test]
fn json_in_a_file() {
    let file = temp_path("report");
    let out = run(&[
        "run",
        "--report-file",
        file.to_str().unwrap(),
        "--json",
        "500ms",
        "sh",
        "-c",
        HANG,
    ]);
    assert_eq!(code(&out), 124, "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "the report went to the file");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let mut lines = text
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("a JSON line"));
    // The header first: how many, and whether the tree was frozen.
    let header = lines.next().expect("a header");
    assert_eq!(header["report"], "timed out", "{text}");
    assert_eq!(header["members"], 3, "{text}");
    assert_eq!(header["frozen"], "whole", "{text}");
    let members: Vec<serde_json::Value> = lines.collect();
    assert_eq!(members.len(), 3, "{text}");
    assert_eq!(members[0]["depth"], 0);
    assert_eq!(members[0]["command"], format!("sh -c {HANG}"));
    for member in &members[1..] {
        assert_eq!(member["depth"], 1, "{text}");
        assert_eq!(member["ppid"], members[0]["pid"], "{text}");
    }
    for member in &members {
        assert_eq!(member["state"], "sleeping", "{text}");
        assert!(member["identity"].as_str().unwrap().contains(':'), "{text}");
        assert!(member["age_seconds"].as_f64().unwrap() > 0.2, "{text}");
        assert!(member["rss_kib"].as_u64().unwrap() > 0, "{text}");
        // As root the kernel shows where each one sleeps.
        if prochandle_test_support::is_root() {
            assert!(member["wchan"].is_string(), "{text}");
            assert!(member["syscall"].as_str().unwrap().contains('#'), "{text}");
        }
    }
}

#[test]
fn nothing_is_reported_without_a_timeout() {
    let out = run(&["run", "--report", "5", "sh", "-c", "exit 3"]);
    assert_eq!(code(&out), 3);
    assert_eq!(stderr(&out), "");
    let out = run(&["run", "--json", "5", "true"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["--report"]);
}
