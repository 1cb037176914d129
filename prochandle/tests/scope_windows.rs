//! `Scope` on Windows: a job object. A grandchild (started by the child,
//! not by us) is in the job, and dies with `TerminateJobObject` and when
//! the job's last handle closes.
//!
//! The child is this test binary again, playing a parent: it starts a
//! grandchild (a long `ping`), prints its PID, and waits.
#![cfg(windows)]

use std::io::BufRead;
use std::process::{Command, Stdio};

use prochandle::{MechanismKind, Process, Scope};
use prochandle_test_support::{sleeper, PATIENCE};

const PARENT_ENV: &str = "PROCHANDLE_SCOPE_PLAY_PARENT";

fn play_parent() -> ! {
    let grandchild = sleeper(600).spawn().unwrap();
    println!("GRANDCHILD {}", grandchild.id());
    std::io::Write::flush(&mut std::io::stdout()).unwrap();
    std::thread::sleep(PATIENCE * 20);
    std::process::exit(0)
}

/// Spawns the playing parent into `scope`; returns it and the grandchild.
fn parent_and_grandchild(scope: &Scope, test: &str) -> (Process, Process) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(PARENT_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    // Waited for through the `Process` (Windows has no zombies anyway).
    #[allow(clippy::zombie_processes)]
    let mut child = scope.spawn_child(&mut cmd).unwrap();
    let parent = Process::from_child(&child).unwrap();
    let stdout = child.stdout.take().unwrap();
    let pid: u32 = std::io::BufReader::new(stdout)
        .lines()
        // The harness prints "test NAME ... " before it, on the same line.
        .find_map(|l| l.ok()?.split_once("GRANDCHILD ")?.1.trim().parse().ok())
        .expect("the grandchild's PID");
    let grandchild = Process::open(pid).unwrap();
    (parent, grandchild)
}

#[test]
fn a_grandchild_is_in_the_job_and_dies_with_terminate_job_object() {
    if std::env::var_os(PARENT_ENV).is_some() {
        play_parent();
    }
    let scope = Scope::new().unwrap();
    assert_eq!(scope.mechanism().kind(), MechanismKind::JobObject);
    let (parent, grandchild) = parent_and_grandchild(
        &scope,
        "a_grandchild_is_in_the_job_and_dies_with_terminate_job_object",
    );
    let members: Vec<u32> = scope.members().unwrap().iter().map(Process::pid).collect();
    assert!(members.contains(&grandchild.pid()), "{members:?}");
    assert!(
        grandchild.try_wait().unwrap().is_none(),
        "alive before the kill"
    );
    scope.kill().unwrap();
    assert!(scope.is_empty().unwrap());
    assert!(grandchild.wait_timeout(PATIENCE).unwrap().is_some());
    assert!(parent.wait_timeout(PATIENCE).unwrap().is_some());
}

#[test]
fn closing_the_job_kills_the_grandchild() {
    if std::env::var_os(PARENT_ENV).is_some() {
        play_parent();
    }
    let scope = Scope::new().unwrap();
    let (parent, grandchild) =
        parent_and_grandchild(&scope, "closing_the_job_kills_the_grandchild");
    assert!(
        grandchild.try_wait().unwrap().is_none(),
        "alive before the close"
    );
    drop(scope);
    assert!(grandchild.wait_timeout(PATIENCE).unwrap().is_some());
    assert!(parent.wait_timeout(PATIENCE).unwrap().is_some());
}
