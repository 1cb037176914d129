//! The guard itself: whatever a test does, panic included, what it guarded
//! is killed and reaped.
#![cfg(target_os = "linux")]

use std::io::BufReader;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::{Command, Stdio};

use prochandle::Process;
use prochandle_test_support::{eventually, proc_state, Grandchildren, Reaped};

/// Runs `f`, which must panic (as a failing test does).
fn panicking(f: impl FnOnce()) {
    let outcome = catch_unwind(AssertUnwindSafe(f));
    assert!(outcome.is_err(), "the closure was meant to panic");
}

/// Whether `pid` is gone for good: no process, not even a zombie.
fn gone(pid: u32) -> bool {
    proc_state(pid).is_none()
}

/// Whether `pid` no longer runs. A process orphaned by a kill is left to
/// init to reap, which may take a while (or, in a container, forever).
fn dead(pid: u32) -> bool {
    matches!(proc_state(pid), None | Some('Z'))
}

#[test]
fn a_guarded_process_is_killed_and_reaped_when_the_test_panics() {
    let mut pid = 0;
    panicking(|| {
        let p = Reaped::sleeping(300);
        pid = p.pid();
        panic!("a failed assertion");
    });
    assert!(gone(pid), "{pid}: {:?}", proc_state(pid));
}

#[test]
fn a_guarded_child_is_killed_and_reaped_when_the_test_panics() {
    let mut pid = 0;
    panicking(|| {
        let child = Reaped::sleeping_child(300);
        pid = child.pid();
        panic!("a failed assertion");
    });
    assert!(gone(pid), "{pid}: {:?}", proc_state(pid));
}

#[test]
fn a_child_the_test_reaped_itself_is_left_alone() {
    let mut child = Reaped::sh("exit 4");
    assert_eq!(child.wait_status().code(), Some(4));
    // Dropping it must not signal the PID, which may be someone else's now.
    drop(child);
}

#[test]
fn a_group_leader_takes_its_group_along() {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let mut grandchild = 0;
    panicking(|| {
        let mut leader = Reaped::leading_group(
            Command::new("sh")
                .args(["-c", "sleep 300 & echo $!; wait"])
                .process_group(0)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut out = BufReader::new(leader.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        grandchild = line.trim().parse().unwrap();
        panic!("a failed assertion");
    });
    eventually("the group member to die", || dead(grandchild).then_some(()));
}

#[test]
fn grandchildren_are_killed_and_their_shell_reaped() {
    let mut pids = Vec::new();
    panicking(|| {
        let family = Grandchildren::sleeping(3);
        pids = family.pids.clone();
        assert!(family.members().iter().all(|p| !p.is_child()));
        panic!("a failed assertion");
    });
    // Their parent, the shell, reaped them before it exited.
    for pid in pids {
        assert!(gone(pid), "{pid}: {:?}", proc_state(pid));
    }
}

#[test]
fn into_inner_hands_the_process_back_unharmed() {
    let p: Process = Reaped::sleeping(300).into_inner();
    assert!(p.try_wait().unwrap().is_none(), "still running");
    let guarded = Reaped::new(p);
    guarded.kill().unwrap();
    assert!(guarded.wait().unwrap().signal().is_some());
}

#[test]
fn a_set_is_killed_at_once_then_reaped() {
    let mut pids = Vec::new();
    panicking(|| {
        let set = Reaped::new(
            (0..3)
                .map(|_| Reaped::sleeping(300).into_inner())
                .collect::<Vec<Process>>(),
        );
        pids = set.iter().map(Process::pid).collect();
        panic!("a failed assertion");
    });
    for pid in pids {
        assert!(gone(pid), "{pid}: {:?}", proc_state(pid));
    }
}
