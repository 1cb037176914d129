//! `prochandle kill`: signals through the handle, escalation with
//! `--timeout --then`, identities (including one whose PID was recycled, in
//! a PID namespace) and every error path.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use common::*;
use prochandle::linux::ProcessExt;
use prochandle::Process;
use prochandle_test_support::{handles, is_root, require, Reaped, NO_SUCH_PID};

#[test]
fn sends_term_by_default_and_named_or_numbered_signals() {
    for (args, signal) in [
        (vec![], 15),
        (vec!["-s", "KILL"], 9),
        (vec!["-s", "9"], 9),
        (vec!["--signal", "sigusr1"], 10),
    ] {
        let mut target = Reaped::sleeping_child(30);
        let pid = target.pid_arg();
        let out = prochandle()
            .arg("kill")
            .args(&args)
            .arg(&pid)
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "");
        assert_eq!(target.wait_status().signal(), Some(signal), "{args:?}");
    }
}

#[test]
fn signal_zero_only_checks() {
    let mut target = Reaped::sleeping_child(30);
    let out = run(&["kill", "-s", "0", &target.pid_arg()]);
    assert_eq!(code(&out), 0);
    assert!(target.alive());
}

#[test]
fn timeout_then_escalates_to_the_next_signal() {
    // Ignores TERM: only the escalation ends it.
    let mut target = Reaped::ignoring_term();
    let out = Reaped::child(prochandle().args([
        "kill",
        "--timeout",
        "300ms",
        "--then",
        "KILL",
        &target.pid_arg(),
    ]));
    // We are its parent: reap it as soon as it dies, so that prochandle can
    // learn the status.
    let status = target.wait_status();
    let out = out.into_inner().wait_with_output().unwrap();
    assert_eq!(status.signal(), Some(9));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn timeout_without_then_gives_124_if_it_survives() {
    let mut target = Reaped::ignoring_term();
    let out = run(&["kill", "--timeout", "200ms", &target.pid_arg()]);
    assert_eq!(code(&out), 124);
    one_error_line(&out, &["timed out", "SIGTERM", &target.pid_arg()]);
    assert!(target.alive());
}

#[test]
fn timeout_reports_the_exit() {
    let mut target = Reaped::sleeping_child(30);
    let child = Reaped::child(
        prochandle()
            .args(["kill", "--timeout", "5s", &target.pid_arg()])
            .stdout(std::process::Stdio::piped()),
    );
    target.wait_status();
    let out = child.into_inner().wait_with_output().unwrap();
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(text.starts_with(&format!("{}: ", target.pid())), "{text}");
}

#[test]
fn an_identity_is_signalled_only_while_it_names_the_same_process() {
    let mut target = Reaped::sleeping_child(30);
    let id = Process::open(target.pid())
        .unwrap()
        .identity()
        .unwrap()
        .to_string();
    let out = run(&["kill", &id]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(target.wait_status().signal(), Some(15));
    // Reaped: the identity is gone, nothing is sent.
    let out = run(&["kill", &id]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["kill", &id, "gone"]);
}

#[test]
fn a_pid_inode_identity_of_another_process_is_refused() {
    let mut target = Reaped::sleeping_child(30);
    // A live PID with an inode that is not its own.
    let forged = format!("{}:1", target.pid());
    let out = run(&["kill", &forged]);
    assert_eq!(code(&out), 1);
    if handles() {
        one_error_line(&out, &["kill", &forged, "gone", "identity mismatch"]);
    } else {
        // Without pidfds a PID:INODE cannot be checked: said, not guessed.
        one_error_line(
            &out,
            &["kill", &forged, "not supported", "PID:INODE", "6.9"],
        );
    }
    assert!(target.alive(), "nothing may be sent");
}

#[test]
fn errors_name_the_target_and_the_cause() {
    let missing = NO_SUCH_PID.to_string();
    let out = run(&["kill", &missing]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["kill", &missing, "no such process"]);

    let out = run(&["kill", "-s", "SIGBOGUS", "1"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["unknown signal", "SIGBOGUS"]);

    let out = run(&["kill", "--timeout", "1y", "1"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["bad duration", "1y"]);

    let out = run(&["kill", "--then", "KILL", "1"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["--timeout"]);
}

#[test]
fn one_bad_target_does_not_stop_the_others() {
    let missing = NO_SUCH_PID.to_string();
    let mut target = Reaped::sleeping_child(30);
    let out = run(&["kill", &missing, &target.pid_arg()]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &[&missing]);
    assert_eq!(target.wait_status().signal(), Some(15));
}

#[test]
fn permission_denied_states_the_rule() {
    if !require(is_root(), "needs root to run prochandle as another user") {
        return;
    }
    let mut target = Reaped::sleeping_child(30);
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("prochandle"))
        .args(["kill", &target.pid_arg()])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    one_error_line(
        &out,
        &["kill", &target.pid_arg(), "permission denied", "CAP_KILL"],
    );
    assert!(target.alive());
}

/// Inside a new PID namespace (PIDs there are small and ours to steer via
/// `ns_last_pid`): take a process's identity, kill and reap it, make the
/// next process get the same PID, then `prochandle kill IDENTITY`. It must
/// refuse, and the newcomer must live.
const RECYCLE_SCRIPT: &str = r#"
sleep 100 & old=$!
id=$("$P" info --json "$old" | sed -n 's/.*"identity":"\([^"]*\)".*/\1/p')
kill -KILL "$old"; wait "$old"
sleep 0.05
echo $((old - 1)) > /proc/sys/kernel/ns_last_pid
sleep 100 & new=$!
echo "old=$old new=$new id=$id"
"$P" kill "$id" 2>&1; echo "rc=$?"
kill -0 "$new" && echo "newcomer alive"
kill -KILL "$new"; wait "$new"
"#;

#[test]
fn kill_of_an_identity_whose_pid_was_recycled_is_refused() {
    let Some(recycled) = recycled_in_pid_namespace(RECYCLE_SCRIPT) else {
        return;
    };
    let field = |name: &str| recycled.field(name);
    let text = &recycled.text;
    let id = field("id");
    assert!(
        id.starts_with(&format!("{}:", field("old")))
            || id.starts_with(&format!("{}@", field("old"))),
        "{text}"
    );
    assert_eq!(field("rc"), "1", "{text}");
    assert!(text.contains("gone") && text.contains(&id), "{text}");
    assert!(
        text.contains("newcomer alive"),
        "the newcomer was hit: {text}"
    );
}
