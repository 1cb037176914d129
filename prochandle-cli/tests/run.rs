//! `prochandle run`: exit status pass-through, timeouts like timeout(1),
//! `--time`, and the errors of starting CMD.
#![cfg(target_os = "linux")]

mod common;

use std::time::{Duration, Instant};

use common::*;

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
