//! `prochandle info`: text and JSON descriptions, and errors.
#![cfg(target_os = "linux")]

mod common;

use common::*;
use prochandle::linux::ProcessExt;
use prochandle::Process;
use prochandle_test_support::{handles, Reaped, NO_SUCH_PID};

fn info_json(target: &str) -> serde_json::Value {
    let out = run(&["info", "--json", target]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap()
}

#[test]
fn json_describes_the_process_with_the_documented_fields() {
    let target = Reaped::sleeping_child(30);
    let value = info_json(&target.pid_arg());
    assert_eq!(value["target"], target.pid_arg());
    assert_eq!(value["pid"], target.pid());
    assert_eq!(value["ppid"], std::process::id());
    // SAFETY: getuid/getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    assert_eq!(value["uids"]["real"], uid);
    assert_eq!(value["gids"]["effective"], gid);
    assert_eq!(value["cmdline"], serde_json::json!(["sleep", "30"]));
    assert!(value["exe"].as_str().unwrap().ends_with("/sleep"));
    // Sleeping, or still running its last instructions before the sleep.
    assert!(
        matches!(value["state"].as_str(), Some("S" | "R")),
        "{value}"
    );
    assert_eq!(value["threads"], 1);
    assert!(value["start_time_s"].as_f64().unwrap() > 0.0);
    assert!(value["cgroup"].as_str().unwrap().starts_with('/'));
    let expected_id = Process::open(target.pid()).unwrap().identity().unwrap();
    assert_eq!(value["identity"], expected_id.to_string());
    assert_eq!(value["handle_mode"], expected_mode());
    if !handles() {
        assert_eq!(value["source"], "procfs");
    }
}

#[test]
fn text_lists_each_field_and_the_handle_mode() {
    let target = Reaped::sleeping_child(30);
    let out = run(&["info", &target.pid_arg()]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    for field in [
        "target", "identity", "pid", "ppid", "uids", "gids", "cgroup", "cmdline", "exe", "started",
        "state", "handle",
    ] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(field)),
            "{field}: {text}"
        );
    }
    assert!(text.contains("sleep 30"), "{text}");
    let mode = expected_mode();
    let handle_line = text.lines().find(|l| l.starts_with("handle")).unwrap();
    assert!(handle_line.contains(mode), "{handle_line}");
}

#[test]
fn one_object_per_target_and_identities_work() {
    let a = Reaped::sleeping_child(30);
    let b = Reaped::sleeping_child(31);
    let id = Process::open(b.pid())
        .unwrap()
        .identity()
        .unwrap()
        .to_string();
    let out = run(&["info", "--json", &a.pid_arg(), &id]);
    assert_eq!(code(&out), 0);
    let objects: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["pid"], a.pid());
    assert_eq!(objects[1]["target"], id);
    assert_eq!(objects[1]["cmdline"], serde_json::json!(["sleep", "31"]));
}

#[test]
fn errors_name_the_target() {
    let missing = NO_SUCH_PID.to_string();
    let out = run(&["info", &missing]);
    assert_eq!(code(&out), 1);
    one_error_line(&out, &["info", &missing, "no such process"]);

    let mut gone = Reaped::sh("exit 0");
    let id = Process::open(gone.pid()).map(|p| p.identity());
    gone.wait_status();
    if let Ok(Ok(id)) = id {
        let out = run(&["info", &id.to_string()]);
        assert_eq!(code(&out), 1);
        one_error_line(&out, &["info", &id.to_string(), "gone"]);
    }

    // The JSON stream still gets one object for a failed target.
    let out = run(&["info", "--json", &missing]);
    assert_eq!(code(&out), 1);
    let value: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(value["status"], "error");
}

/// How `info` says the process is held, in the tier this run is in.
fn expected_mode() -> &'static str {
    match prochandle::capabilities().pin_mode() {
        prochandle::PinMode::Handle => "pidfd",
        prochandle::PinMode::ProcDir => "/proc/<pid> directory",
        _ => "guarded PID",
    }
}
