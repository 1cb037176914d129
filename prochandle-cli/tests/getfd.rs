//! `prochandle getfd`: a descriptor taken from another process, handed to
//! CMD as stdin or as fd N; and its errors, in both modes.
#![cfg(target_os = "linux")]

mod common;

use std::fs::File;
use std::process::{Child, Command, Stdio};

use common::*;
use prochandle_test_support::{handles, is_root, require, Reaped, NO_SUCH_PID};

/// A `sleep` whose stdin is a file holding `text`.
fn sleeper_reading(text: &str) -> (Reaped<Child>, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!(
        "prochandle-cli-getfd-{}-{}",
        std::process::id(),
        text.len()
    ));
    std::fs::write(&path, text).unwrap();
    let file = File::open(&path).unwrap();
    let p = Reaped::child(Command::new("sleep").arg("30").stdin(Stdio::from(file)));
    p.settle();
    (p, path)
}

#[test]
fn hands_the_descriptor_to_cmd_as_stdin() {
    let (target, path) = sleeper_reading("through pidfd_getfd\n");
    let out = run(&["getfd", &target.pid_arg(), "0", "--", "cat"]);
    std::fs::remove_file(path).unwrap();
    if handles() {
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(stdout(&out), "through pidfd_getfd\n");
    } else {
        // No pidfd, no pidfd_getfd: said with the minimum kernel.
        assert_eq!(code(&out), 125);
        one_error_line(
            &out,
            &["getfd", &target.pid_arg(), "not supported", "Linux 5.6"],
        );
        assert_eq!(stdout(&out), "");
    }
}

#[test]
fn as_n_places_it_at_another_number_and_passes_the_status() {
    let (target, path) = sleeper_reading("as five\n");
    let out = run(&[
        "getfd",
        &target.pid_arg(),
        "0",
        "--as",
        "5",
        "--",
        "sh",
        "-c",
        "cat <&5; exit 4",
    ]);
    std::fs::remove_file(path).unwrap();
    if handles() {
        assert_eq!(code(&out), 4, "{}", stderr(&out));
        assert_eq!(stdout(&out), "as five\n");
    } else {
        assert_eq!(code(&out), 125);
    }
}

#[test]
fn errors_name_the_target_and_the_cause() {
    let missing = NO_SUCH_PID.to_string();
    let target = Reaped::sleeping_child(30);
    let out = run(&["getfd", &target.pid_arg(), "77", "--", "cat"]);
    assert_eq!(code(&out), 125);
    if handles() {
        one_error_line(&out, &["getfd", &target.pid_arg(), "77", "not open"]);
    }

    let out = run(&["getfd", &missing, "0", "--", "cat"]);
    assert_eq!(code(&out), 125);
    one_error_line(&out, &["getfd", &missing, "no such process"]);

    let out = run(&["getfd", &target.pid_arg(), "0", "--", "/nonexistent/cmd"]);
    if handles() {
        assert_eq!(code(&out), 127);
        one_error_line(&out, &["/nonexistent/cmd"]);
    }

    let out = run(&["getfd", &target.pid_arg(), "0"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["CMD"]);

    let out = run(&["getfd", &target.pid_arg(), "zero", "--", "cat"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["zero"]);
}

#[test]
fn permission_denied_states_the_ptrace_rule() {
    if !require(is_root(), "needs root to run prochandle as another user") {
        return;
    }
    let target = Reaped::sleeping_child(30);
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("prochandle"))
        .args(["getfd", &target.pid_arg(), "1", "--", "cat"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 125);
    if handles() {
        one_error_line(
            &out,
            &[
                "getfd",
                &target.pid_arg(),
                "permission denied",
                "ptrace",
                "CAP_SYS_PTRACE",
            ],
        );
    } else {
        one_error_line(&out, &["getfd", &target.pid_arg(), "not supported"]);
    }
}
