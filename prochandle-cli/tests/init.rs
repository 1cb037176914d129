//! `prochandle init`: PID 1 in a new PID namespace (`unshare --pid --fork
//! --mount-proc`, root), and the subreaper elsewhere (also as `nobody`):
//! orphans reaped to the last zombie, TERM to PID 1 passed on to CMD, a
//! CMD that ignores TERM killed after `-k`, CMD's exit status, and what
//! is left of the tree ended when CMD ends.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use prochandle_test_support::{ends_within, pinned, require, require_root, KILL_PATIENCE};

fn prochandle_path() -> std::path::PathBuf {
    std::path::PathBuf::from(prochandle().get_program())
}

/// `unshare --pid --fork --mount-proc prochandle init ARGS`, to the end.
fn in_namespace(args: &[&str]) -> Option<Output> {
    if !require_root("a new PID namespace") {
        return None;
    }
    let unshare = Command::new("unshare").arg("--help").output();
    if !require(unshare.is_ok(), "unshare (util-linux)") {
        return None;
    }
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(prochandle_path())
        .arg("init")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run unshare");
    Some(out)
}

/// Sums the `reaped N orphan(s)` lines of `-v`.
fn reaped(out: &Output) -> usize {
    stderr(out)
        .lines()
        .filter_map(|line| line.split("reaped ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .sum()
}

#[test]
fn as_pid_1_a_hundred_orphans_leave_no_zombie() {
    // Each `(sleep 0.2 &)` leaves an orphan, re-parented to PID 1; once
    // they have all exited, CMD counts the zombies in the namespace.
    // CMD waits (bounded, about 20 s) until no `sleep` is left in the
    // namespace, zombie or not, rather than for a fixed time.
    let script = "for i in $(seq 100); do (sleep 0.2 &); done; \
                  sleeps() { cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^sleep$'; }; \
                  t=0; while [ $(sleeps) -gt 0 ] && [ $t -lt 400 ]; do sleep 0.05; t=$((t+1)); done; \
                  echo pid=$$; awk '{print $3}' /proc/[0-9]*/stat | grep -c Z; exit 3";
    let Some(out) = in_namespace(&["-v", "--", "sh", "-c", script]) else {
        return;
    };
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, ["pid=2", "0"], "CMD is PID 2; zero zombies");
    assert_eq!(reaped(&out), 100, "{}", stderr(&out));
}

#[test]
fn term_to_pid_1_reaches_cmd() {
    // The kernel drops a signal to a namespace's init that it does not
    // handle; init receives TERM and passes it on.
    let script = "trap 'echo got TERM; exit 7' TERM; kill -TERM 1; \
                  while :; do sleep 0.05; done";
    let Some(out) = in_namespace(&["--", "sh", "-c", script]) else {
        return;
    };
    assert_eq!(code(&out), 7, "{}", stderr(&out));
    assert_eq!(stdout(&out), "got TERM\n");
}

#[test]
fn term_from_outside_the_namespace_reaches_cmd() {
    if !require_root("a new PID namespace") {
        return;
    }
    let mut unshare = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(prochandle_path())
        .args(["init", "--", "sh", "-c"])
        .arg("trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("unshare");
    let mut ready = String::new();
    BufReader::new(unshare.stdout.as_mut().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready, "ready\n");
    // init is unshare's one child: pinned, then signalled.
    let children = format!("/proc/{0}/task/{0}/children", unshare.id());
    let text = std::fs::read_to_string(children).unwrap();
    let init_pid: u32 = text.split_whitespace().next().unwrap().parse().unwrap();
    let init = pinned(init_pid);
    init.signal(prochandle::Signal::TERM).unwrap();
    let status = unshare.wait().unwrap();
    assert_eq!(status.code(), Some(7));
    assert!(ends_within(&init, KILL_PATIENCE));
}

#[test]
fn a_cmd_that_ignores_term_is_killed_after_k() {
    let script = "trap '' TERM; kill -TERM 1; while :; do sleep 0.05; done";
    let started = Instant::now();
    let Some(out) = in_namespace(&["-k", "300ms", "--", "sh", "-c", script]) else {
        return;
    };
    assert_eq!(code(&out), 137, "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn exit_statuses_as_pid_1() {
    for (args, expected) in [
        (&["--", "sh", "-c", "exit 3"][..], 3),
        (&["--", "sh", "-c", "kill -KILL $$"][..], 137),
        (&["-e", "3", "--", "sh", "-c", "exit 3"][..], 0),
        (&["-e", "3", "--", "sh", "-c", "exit 4"][..], 4),
        (&["--", "/nonexistent/command"][..], 127),
    ] {
        let Some(out) = in_namespace(args) else {
            return;
        };
        assert_eq!(code(&out), expected, "{args:?}: {}", stderr(&out));
    }
}

/// Outside PID 1 init is the subreaper: the orphans come to it (their
/// parent is init) and are reaped. `prefix` runs it as another user.
fn subreaper_reaps(prefix: &[&str]) {
    // Waits for the condition, never for a fixed time: under load the 20
    // forks can take longer than the sleeps they start. Each poll is
    // bounded (about 20 s), so a broken init fails the counts below.
    let script = "for i in $(seq 20); do (sleep 2 &); done; \
                  adopted() { ps -o comm= --ppid $PPID | grep -c sleep; }; \
                  t=0; while [ $(adopted) -lt 20 ] && [ $t -lt 400 ]; do sleep 0.05; t=$((t+1)); done; \
                  adopted; \
                  t=0; while [ $(adopted) -gt 0 ] && [ $t -lt 400 ]; do sleep 0.05; t=$((t+1)); done; \
                  ps -o stat= --ppid $PPID | grep -c Z; exit 0";
    let mut command = Command::new(prefix.first().copied().unwrap_or("env"));
    command
        .args(prefix.iter().skip(1))
        .arg(prochandle_path())
        .args(["init", "-v", "--", "sh", "-c", script]);
    let out = command.stdin(Stdio::null()).output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "20\n0\n", "adopted 20, then no zombie");
    assert_eq!(reaped(&out), 20, "{}", stderr(&out));
}

#[test]
fn elsewhere_init_is_the_subreaper() {
    subreaper_reaps(&[]);
}

#[test]
fn as_nobody_init_is_the_subreaper() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    subreaper_reaps(&NOBODY);
}

#[test]
fn what_is_left_when_cmd_ends_is_ended() {
    // One leftover ignores TERM (KILL after --grace), one does not.
    let script = "(trap '' TERM; exec sleep 30) & a=$!; (sleep 30 &); \
                  sleep 0.2; echo $a $(pgrep -P $PPID -x sleep); exit 5";
    let mut init = Command::new(prochandle_path())
        .args(["init", "--grace", "300ms", "--", "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(init.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let left: Vec<_> = line
        .split_whitespace()
        .map(|pid| pinned(pid.parse().unwrap()))
        .collect();
    assert_eq!(left.len(), 2, "{line:?}");
    let status = init.wait().unwrap();
    assert_eq!(status.code(), Some(5));
    for process in &left {
        assert!(ends_within(process, KILL_PATIENCE), "a leftover survived");
    }
}

#[test]
fn with_g_the_whole_group_gets_the_signal() {
    // The parent waits for its background child on TERM: it ends only if
    // the child got TERM too, which only the group's signal gives it.
    let script = "(trap 'echo child got TERM; exit' TERM; while :; do sleep 0.05; done) & \
                  trap 'wait; exit 7' TERM; sleep 0.2; kill -TERM 1; \
                  while :; do sleep 0.05; done";
    let Some(out) = in_namespace(&["-g", "-k", "5s", "--", "sh", "-c", script]) else {
        return;
    };
    assert_eq!(code(&out), 7, "{}", stderr(&out));
    assert_eq!(stdout(&out), "child got TERM\n");
}
