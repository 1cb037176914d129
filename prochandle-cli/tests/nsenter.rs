//! `prochandle nsenter`: CMD run in a process's namespaces; errors.
#![cfg(target_os = "linux")]

mod common;

use std::process::{Child, Command};

use common::*;
use prochandle_test_support::{eventually, is_root, require, Reaped, NO_SUCH_PID};

/// A process in its own UTS namespace with hostname `name` (root only),
/// returned once it runs `sleep` there.
fn in_new_uts(name: &str) -> Reaped<Child> {
    let p = Reaped::child(Command::new("unshare").args([
        "--uts",
        "sh",
        "-c",
        &format!("hostname {name} && exec sleep 30"),
    ]));
    let comm = format!("/proc/{}/comm", p.pid());
    eventually("unshare to reach sleep", || {
        let name = std::fs::read_to_string(&comm).unwrap_or_default();
        (name.trim() == "sleep").then_some(())
    });
    p
}

fn usable() -> bool {
    require(
        is_root()
            && Command::new("unshare")
                .args(["--uts", "true"])
                .status()
                .is_ok_and(|s| s.success()),
        "needs root and unshare(1) for a UTS namespace",
    )
}

#[test]
fn runs_cmd_in_the_targets_uts_namespace() {
    if !usable() {
        return;
    }
    let target = in_new_uts("prochandle-ns-test");
    let out = run(&["nsenter", &target.pid_arg(), "--uts", "--", "hostname"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "prochandle-ns-test");
    // --all joins the rest too (its other namespaces are ours).
    let out = run(&["nsenter", &target.pid_arg(), "--all", "--", "hostname"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "prochandle-ns-test");
    // Our own namespace is untouched.
    let ours = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_ne!(ours.trim(), "prochandle-ns-test");
}

#[test]
fn passes_the_status_through() {
    let target = Reaped::sleeping_child(30);
    let out = run(&[
        "nsenter",
        &target.pid_arg(),
        "--net",
        "--",
        "sh",
        "-c",
        "exit 6",
    ]);
    if is_root() {
        assert_eq!(code(&out), 6, "{}", stderr(&out));
    } else {
        assert_eq!(code(&out), 125);
        one_error_line(&out, &["permission denied"]);
    }
}

#[test]
fn errors_name_the_target_and_the_cause() {
    let missing = NO_SUCH_PID.to_string();
    let target = Reaped::sleeping_child(30);
    let out = run(&["nsenter", &target.pid_arg(), "--", "true"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["choose namespaces"]);

    let out = run(&["nsenter", &missing, "--uts", "--", "true"]);
    assert_eq!(code(&out), 125);
    one_error_line(&out, &["nsenter", &missing, "no such process"]);

    if is_root() {
        let out = run(&[
            "nsenter",
            &target.pid_arg(),
            "--uts",
            "--",
            "/nonexistent/cmd",
        ]);
        assert_eq!(code(&out), 127);
        one_error_line(&out, &["/nonexistent/cmd"]);
    }
}

#[test]
fn permission_denied_states_the_rule() {
    if !usable() {
        return;
    }
    let target = in_new_uts("prochandle-ns-denied");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("prochandle"))
        .args(["nsenter", &target.pid_arg(), "--uts", "--", "hostname"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 125, "{}", stdout(&out));
    one_error_line(&out, &["nsenter", &target.pid_arg(), "permission denied"]);
    assert_eq!(stdout(&out), "");
}
