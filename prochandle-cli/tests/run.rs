//! `prochandle run`: exit status pass-through, timeouts like timeout(1),
//! `--time`, and the errors of starting CMD; the command-line forms of
//! timeout(1). The side-by-side comparisons with GNU `timeout` (signals,
//! process groups) are in `run_vs_timeout.rs`.
#![cfg(target_os = "linux")]

mod common;

use std::time::{Duration, Instant};

use common::*;
use prochandle_test_support::{
    ends_within, pinned, read_pid_file, temp_path, Supervised, KILL_PATIENCE,
};

#[test]
fn passes_the_exit_status_through() {
    assert_eq!(code(&run(&["run", "--", "sh", "-c", "exit 7"])), 7);
    assert_eq!(code(&run(&["run", "--", "true"])), 0);
    assert_eq!(code(&run(&["run", "--", "sh", "-c", "kill -KILL $$"])), 137);
}

#[test]
fn timeout_signals_and_gives_124() {
    let started = Instant::now();
    let out = run(&["run", "--timeout", "200ms", "--", "sleep", "30"]);
    assert_eq!(code(&out), 124);
    assert!(started.elapsed() < Duration::from_secs(10));
    // A command that finishes in time is not affected.
    assert_eq!(
        code(&run(&[
            "run",
            "--timeout",
            "5s",
            "--",
            "sh",
            "-c",
            "exit 3"
        ])),
        3
    );
}

#[test]
fn kill_after_escalates_to_sigkill_and_gives_137() {
    let out = run(&[
        "run",
        "--timeout",
        "200ms",
        "--kill-after",
        "200ms",
        "--",
        "sh",
        "-c",
        "trap '' TERM; while :; do sleep 0.05; done",
    ]);
    assert_eq!(code(&out), 137);
}

#[test]
fn the_timeout_signal_can_be_chosen() {
    // The shell reports which signal arrived, then exits 5 (not 124's cause).
    let out = run(&[
        "run",
        "--timeout",
        "200ms",
        "-s",
        "USR1",
        "--time",
        "--",
        "sh",
        "-c",
        "trap 'exit 5' USR1; while :; do sleep 0.05; done",
    ]);
    assert_eq!(code(&out), 124);
    assert!(stderr(&out).contains("exited 5"), "{}", stderr(&out));
}

#[test]
fn time_reports_cpu_and_peak_memory() {
    let out = run(&[
        "run",
        "--time",
        "--",
        "sh",
        "-c",
        "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
    ]);
    assert_eq!(code(&out), 0);
    let line = stderr(&out);
    let line = line.trim();
    assert!(line.starts_with("real "), "{line}");
    let value = |name: &str| -> f64 {
        let word = line
            .split_whitespace()
            .skip_while(|w| *w != name)
            .nth(1)
            .unwrap_or_else(|| panic!("{name} in {line}"));
        word.trim_end_matches("KiB")
            .trim_end_matches('s')
            .parse()
            .unwrap()
    };
    assert!(value("user") + value("sys") > 0.0, "{line}");
    assert!(value("maxrss") > 100.0, "{line}");
    assert!(value("real") >= value("user"), "{line}");
}

#[test]
fn errors_starting_the_command() {
    let out = run(&["run", "--", "/nonexistent/command"]);
    assert_eq!(code(&out), 127);
    one_error_line(&out, &["run", "/nonexistent/command", "No such file"]);

    // A file without any execute bit: even root may not run it.
    let path = std::env::temp_dir().join(format!("prochandle-cli-noexec-{}", std::process::id()));
    std::fs::write(&path, "#!/bin/sh\n").unwrap();
    let out = run(&["run", "--", path.to_str().unwrap()]);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(code(&out), 126);
    one_error_line(&out, &["run", "cannot run", "Permission denied"]);

    let out = run(&["run", "--timeout=-3", "--", "true"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["--timeout", "bad duration"]);

    let out = run(&["run", "--kill-after", "1s", "--", "true"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["--timeout"]);

    let out = run(&["run", "-s", "NOPE", "--", "true"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["unknown signal", "NOPE"]);

    let out = run(&["run"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["CMD"]);
}

#[test]
fn the_timeout_forms_are_the_same() {
    for args in [
        &["run", "0.2", "sleep", "30"][..],
        &["run", "--timeout", "0.2", "--", "sleep", "30"],
        &["run", "--timeout", "200ms", "sleep", "30"],
    ] {
        assert_eq!(code(&run(args)), 124, "{args:?}");
    }
    // 0 disables the timeout, as in timeout(1); no timeout at all with `--`.
    assert_eq!(code(&run(&["run", "0", "sh", "-c", "exit 6"])), 6);
    assert_eq!(code(&run(&["run", "--", "sh", "-c", "exit 6"])), 6);
}

#[test]
fn words_after_the_duration_belong_to_the_command() {
    let out = run(&["run", "5", "sh", "-c", "echo \"$*\"", "x", "-s", "--", "-v"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "-s -- -v\n");
    // The first word is a duration unless --timeout is given.
    let out = run(&["run", "sleep", "1"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["run", "bad duration", "sleep"]);
    let out = run(&["run", "1"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["CMD"]);
}

#[test]
fn the_group_is_killed_when_the_command_ends() {
    // timeout(1) leaves a background job running after its command exits;
    // `run` ends the command's whole process group with it.
    let file = temp_path("bg-at-exit");
    let script = format!("sleep 30 & echo $! > {}", file.display());
    let mut run = Supervised::start(prochandle().args(["run", "10", "sh", "-c", &script]));
    let job = pinned(read_pid_file(&file));
    assert_eq!(run.wait_status().code(), Some(0));
    assert!(
        ends_within(&job, KILL_PATIENCE),
        "the background job survived"
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn child_only_leaves_the_rest_of_the_group() {
    let file = temp_path("child-only");
    let script = format!("sleep 30 & echo $! > {}; sleep 30", file.display());
    let mut run =
        Supervised::start(prochandle().args(["run", "--child-only", "0.5", "sh", "-c", &script]));
    let job = pinned(read_pid_file(&file));
    // The foreground `sleep` survives too: pinned, for the guard.
    run.wait_for_command("sleep", 2);
    assert_eq!(run.wait_status().code(), Some(124));
    assert!(
        !ends_within(&job, Duration::from_millis(300)),
        "--child-only reached the background job"
    );
    // `job`'s guard kills it.
    let _ = std::fs::remove_file(&file);
}

#[test]
fn cannot_prepare_gives_125() {
    // One descriptor to spare (the dynamic loader needs it, then the
    // signalfd takes it): starting the command runs out of descriptors,
    // which is prochandle's failure, and the command never starts.
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -n 4 && exec \"$0\" run 5 sh -c 'echo started'",
        ])
        .arg(assert_cmd::cargo::cargo_bin("prochandle"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 125, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    one_error_line(&out, &["run", "cannot start", "Too many open files"]);
}
