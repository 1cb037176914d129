//! `prochandle run` side by side with GNU `timeout` on the same command
//! lines: the same exit status and the same effect on the command and
//! what it started, for the timeout, each forwarded signal and each
//! option.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use common::*;
use prochandle::Signal;
use prochandle_test_support::{
    ends_within, no_core_dumps, pinned, read_pid_file, shell_status, temp_path, Supervised,
    KILL_PATIENCE,
};

/// A shell that starts a background job (whose PID it writes to `file`)
/// and then waits on a foreground `sleep`.
fn job_and_sleep(file: &std::path::Path) -> String {
    format!("sleep 30 & echo $! > {}; sleep 30", file.display())
}

/// Runs `tool ARGS...` to its end; its status as a shell shows it, and
/// stderr.
fn status_of(tool: Tool, args: &[&str]) -> (i32, String) {
    let out = tool.command(args).output().expect("run the tool");
    (shell_status(out.status), stderr(&out))
}

#[test]
fn a_background_grandchild_does_not_survive_the_timeout() {
    for tool in Tool::both() {
        let file = temp_path("grandchild");
        let script = job_and_sleep(&file);
        let mut sup = Supervised::start(&mut tool.command(&["1", "sh", "-c", &script]));
        let job = pinned(read_pid_file(&file));
        assert_eq!(shell_status(sup.wait_status()), 124, "{tool:?}");
        assert!(
            ends_within(&job, KILL_PATIENCE),
            "{tool:?}: the job survived"
        );
        let _ = std::fs::remove_file(&file);
    }
}

#[test]
fn signals_sent_to_the_supervisor_end_the_command() {
    no_core_dumps();
    for (signal, status) in [
        (Signal::TERM, 143),
        (Signal::INT, 130),
        (Signal::HUP, 129),
        (Signal::QUIT, 131),
        // SIGALRM is the timeout, come early.
        (Signal::ALRM, 124),
    ] {
        for tool in Tool::both() {
            let file = temp_path("forwarded");
            let script = job_and_sleep(&file);
            let mut sup = Supervised::start(&mut tool.command(&["30", "sh", "-c", &script]));
            let job = pinned(read_pid_file(&file));
            sup.wait_for_command("sleep", 2);
            sup.signal(signal);
            let got = shell_status(sup.wait_status());
            assert_eq!(got, status, "{tool:?} {signal}");
            // A non-interactive shell starts background jobs with INT and
            // QUIT ignored: timeout(1)'s group signal leaves such a job
            // running; `run` kills the rest of the group when CMD ends.
            if tool == Tool::Timeout && [Signal::INT, Signal::QUIT].contains(&signal) {
                assert!(!ends_within(&job, Duration::from_millis(300)), "{signal}");
            } else {
                assert!(
                    ends_within(&job, KILL_PATIENCE),
                    "{tool:?} {signal}: job survived"
                );
            }
            let _ = std::fs::remove_file(&file);
        }
    }
}

#[test]
fn usr1_is_forwarded_too() {
    // timeout(1) dies of SIGUSR1 and leaves its command running; `run`
    // forwards it, so the status is the same and nothing is left.
    let file = temp_path("usr1");
    let script = job_and_sleep(&file);
    let mut sup = Supervised::start(&mut Tool::Prochandle.command(&["30", "sh", "-c", &script]));
    let job = pinned(read_pid_file(&file));
    sup.wait_for_command("sleep", 2);
    sup.signal(Signal::USR1);
    assert_eq!(shell_status(sup.wait_status()), 138);
    assert!(ends_within(&job, KILL_PATIENCE), "the job survived");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn kill_after_the_signal_and_its_status() {
    let stubborn = "trap '' TERM; while :; do sleep 0.05; done";
    for tool in Tool::both() {
        for (args, status) in [
            (&["-k", "0.3", "0.3", "sh", "-c", stubborn][..], 137),
            // After a timeout, a SIGKILL shows as 137 even when preserved.
            (
                &[
                    "--preserve-status",
                    "-k",
                    "0.3",
                    "0.3",
                    "sh",
                    "-c",
                    stubborn,
                ],
                137,
            ),
            (&["-s", "KILL", "0.3", "sleep", "30"], 137),
            (&["--preserve-status", "0.3", "sleep", "30"], 143),
        ] {
            assert_eq!(status_of(tool, args).0, status, "{tool:?} {args:?}");
        }
    }
}

#[test]
fn the_signal_can_be_chosen_and_the_status_preserved() {
    let trapping = "trap 'exit 5' USR1; while :; do sleep 0.05; done";
    for tool in Tool::both() {
        let args = ["-s", "USR1", "0.3", "sh", "-c", trapping];
        assert_eq!(status_of(tool, &args).0, 124, "{tool:?}");
        let args = [
            "--preserve-status",
            "-s",
            "USR1",
            "0.3",
            "sh",
            "-c",
            trapping,
        ];
        assert_eq!(status_of(tool, &args).0, 5, "{tool:?}");
        // Finishing in time is not a timeout.
        assert_eq!(
            status_of(tool, &["5", "sh", "-c", "exit 3"]).0,
            3,
            "{tool:?}"
        );
    }
}

#[test]
fn verbose_says_each_signal() {
    let stubborn = "trap '' TERM; while :; do sleep 0.05; done";
    // The shell must have set its trap before TERM comes: a whole second
    // for that, since on a loaded machine 300 ms was sometimes too little
    // (TERM then ended the shell, 124 instead of 137).
    for tool in Tool::both() {
        let (status, err) = status_of(tool, &["-v", "-k", "0.3", "1", "sh", "-c", stubborn]);
        assert_eq!(status, 137, "{tool:?}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{tool:?}: {err}");
        assert!(
            lines[0].contains("sending signal TERM to command"),
            "{tool:?}: {err}"
        );
        assert!(
            lines[1].contains("sending signal KILL to command"),
            "{tool:?}: {err}"
        );
    }
}

#[test]
fn foreground_signals_the_command_only() {
    for tool in Tool::both() {
        let file = temp_path("foreground");
        let script = job_and_sleep(&file);
        let mut sup =
            Supervised::start(&mut tool.command(&["--foreground", "0.5", "sh", "-c", &script]));
        let job = pinned(read_pid_file(&file));
        // The foreground `sleep` survives too: pinned, for the guard.
        sup.wait_for_command("sleep", 2);
        assert_eq!(shell_status(sup.wait_status()), 124, "{tool:?}");
        assert!(
            !ends_within(&job, Duration::from_millis(300)),
            "{tool:?}: --foreground reached the background job"
        );
        // `job`'s guard kills it.
        let _ = std::fs::remove_file(&file);
    }
}

#[test]
fn commands_that_cannot_run() {
    let path = temp_path("noexec");
    std::fs::write(&path, "#!/bin/sh\n").unwrap();
    for tool in Tool::both() {
        assert_eq!(
            status_of(tool, &["5", "/nonexistent/command"]).0,
            127,
            "{tool:?}"
        );
        // No execute bit: even root may not run it.
        assert_eq!(
            status_of(tool, &["5", path.to_str().unwrap()]).0,
            126,
            "{tool:?}"
        );
    }
    std::fs::remove_file(&path).unwrap();
}
