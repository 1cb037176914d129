//! `kill --tree` (a target and its descendants, each pinned before it is
//! signalled) and thread IDs (`kill TID` says whose thread it is;
//! `kill --thread TID` signals that thread through a thread handle).
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use common::*;
use prochandle_test_support::{
    eventually, require, which, within, Grandchildren, Reaped, NO_SUCH_PID,
};

#[test]
fn tree_signals_the_target_and_every_descendant() {
    let family = Grandchildren::sleeping(3);
    let shell = family.shell_pid().to_string();
    let out = run(&["kill", "--tree", "--json", &shell]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let objects: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        objects.len(),
        4,
        "the shell and its three sleeps: {objects:?}"
    );
    assert!(objects.iter().all(|o| o["status"] == "signalled"));
    for member in family.members() {
        eventually("each sleep to exit", || member.try_wait().ok().flatten());
    }
}

#[test]
fn without_tree_only_the_target_is_signalled_as_with_kill() {
    let family = Grandchildren::sleeping(2);
    let out = run(&["kill", &family.shell_pid().to_string()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    std::thread::sleep(Duration::from_millis(200));
    for member in family.members() {
        assert!(
            member.try_wait().unwrap().is_none(),
            "a sleep was signalled"
        );
    }
}

/// A process with a second thread, and that thread's ID.
fn threaded() -> Option<(Reaped<std::process::Child>, u32)> {
    if !require(which("python3").is_some(), "python3 for a threaded process") {
        return None;
    }
    let script = "import threading,time\n\
                  threading.Thread(target=time.sleep,args=(60,)).start()\n\
                  time.sleep(60)";
    let child = Reaped::child(Command::new("python3").args(["-c", script]));
    let pid = child.pid();
    let tid = eventually("the second thread", || {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .ok()?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .find(|&tid| tid != pid)
    });
    Some((child, tid))
}

#[test]
fn a_thread_id_is_named_as_a_thread_of_its_process() {
    let Some((mut child, tid)) = threaded() else {
        return;
    };
    let out = run(&["kill", &tid.to_string()]);
    assert_eq!(code(&out), 1);
    let pid = child.pid().to_string();
    one_error_line(&out, &[&format!("thread of process {pid}"), "--thread"]);
    assert!(child.alive());
}

#[test]
fn thread_signals_one_thread_through_its_handle() {
    let Some((mut child, tid)) = threaded() else {
        return;
    };
    let tid = tid.to_string();
    let check = run(&["kill", "--thread", "-0", &tid]);
    assert_eq!(code(&check), 0, "{}", stderr(&check));
    assert!(child.alive());
    let out = run(&["kill", "--thread", "--json", "-KILL", &tid]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let object: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(object["tid"].to_string(), tid);
    assert_eq!(object["pid"], child.pid());
    let status = within(Duration::from_secs(5), || child.try_wait().ok().flatten()).unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    let missing = run(&["kill", "--thread", &NO_SUCH_PID.to_string()]);
    assert_eq!(code(&missing), 1);
    one_error_line(&missing, &["no such thread"]);
}
