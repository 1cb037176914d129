//! The progress line of long waits: on a terminal (stderr) only, and not
//! with `--quiet`. The terminal is script(1)'s pseudo-terminal.
#![cfg(target_os = "linux")]

mod common;

use std::process::Command;

use common::*;
use prochandle_test_support::{require, which, Reaped};

/// Runs `prochandle ARGS` under script(1), returning what the terminal got.
fn on_a_terminal(args: &str) -> Option<String> {
    if !require(which("script").is_some(), "script(1) from util-linux") {
        return None;
    }
    let program = assert_cmd::cargo::cargo_bin("prochandle");
    let line = format!("{} {args}", program.display());
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn wait_shows_how_many_of_how_many_still_run() {
    let a = Reaped::sleeping_child(30);
    let b = Reaped::sleeping_child(30);
    let args = format!("wait --timeout 700ms {} {}", a.pid(), b.pid());
    let Some(text) = on_a_terminal(&args) else {
        return;
    };
    assert!(text.contains("waiting for 2 of 2"), "{text:?}");
    assert!(
        text.contains(&a.pid_arg()) && text.contains(&b.pid_arg()),
        "{text:?}"
    );
    assert!(text.contains("s)"), "elapsed time: {text:?}");
}

#[test]
fn kill_timeout_shows_progress_too() {
    let target = Reaped::ignoring_term();
    let Some(text) = on_a_terminal(&format!("kill --timeout 700ms {}", target.pid())) else {
        return;
    };
    assert!(text.contains("waiting for 1 of 1"), "{text:?}");
}

#[test]
fn quiet_or_not_a_terminal_shows_none() {
    let target = Reaped::sleeping_child(30);
    let Some(text) = on_a_terminal(&format!("wait --quiet --timeout 500ms {}", target.pid()))
    else {
        return;
    };
    assert!(!text.contains("waiting for"), "{text:?}");
    let out = run(&["wait", "--timeout", "500ms", &target.pid_arg()]);
    assert_eq!(code(&out), 124);
    assert!(!stderr(&out).contains("waiting for"), "{}", stderr(&out));
}
