//! `Scope` on Windows: a job object. A grandchild (started by the child,
//! not by us) is in the job, and dies with `TerminateJobObject` and when
//! the job's last handle closes. The job's emptiness comes from its
//! completion port: `wait_empty` and the `Watcher` wake when the last
//! member (the grandchild, after the parent is gone) exits.
//!
//! The child is this test binary again, playing a parent: it starts a
//! grandchild (a long `ping`), prints its PID, and waits (or, asked to,
//! exits at once and leaves the grandchild as the last member).
#![cfg(windows)]

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use prochandle::{MechanismKind, Notice, Process, Scope, Watcher};
use prochandle_test_support::{sleeper, PATIENCE};

const PARENT_ENV: &str = "PROCHANDLE_SCOPE_PLAY_PARENT";
/// The value of `PARENT_ENV` that makes the parent exit at once.
const LEAVE: &str = "leave";

/// How long a wait that must not end is given to end anyway.
const SHORT: Duration = Duration::from_millis(300);

fn play_parent() -> ! {
    let grandchild = sleeper(600).spawn().unwrap();
    println!("GRANDCHILD {}", grandchild.id());
    std::io::Write::flush(&mut std::io::stdout()).unwrap();
    if std::env::var_os(PARENT_ENV).is_some_and(|v| v != LEAVE) {
        std::thread::sleep(PATIENCE * 20);
    }
    std::process::exit(0)
}

/// Spawns the playing parent into `scope`; returns it and the grandchild.
fn parent_and_grandchild(scope: &Scope, test: &str) -> (Process, Process) {
    spawn_parent(scope, test, "1")
}

/// Like `parent_and_grandchild`, with the parent gone: the grandchild is
/// the scope's last member.
fn orphaned_grandchild(scope: &Scope, test: &str) -> Process {
    let (parent, grandchild) = spawn_parent(scope, test, LEAVE);
    assert!(parent.wait_timeout(PATIENCE).unwrap().is_some());
    grandchild
}

fn spawn_parent(scope: &Scope, test: &str, mode: &str) -> (Process, Process) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(PARENT_ENV, mode)
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

/// A scope whose emptiness the job's completion port reports (Wine 8
/// delivers `JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO`): nothing passed over.
fn port_scope() -> Scope {
    let scope = Scope::new().unwrap();
    assert!(
        scope.passed_over().is_empty(),
        "the job has no completion port: {:?}",
        scope.passed_over()
    );
    scope
}

#[test]
fn wait_empty_returns_when_the_grandchild_exits_after_its_parent() {
    if std::env::var_os(PARENT_ENV).is_some() {
        play_parent();
    }
    let scope = port_scope();
    let grandchild = orphaned_grandchild(
        &scope,
        "wait_empty_returns_when_the_grandchild_exits_after_its_parent",
    );
    assert!(
        !scope.wait_empty_timeout(SHORT).unwrap(),
        "not empty while the grandchild lives"
    );
    let emptied = std::thread::scope(|s| {
        let waiter = s.spawn(|| scope.wait_empty_timeout(PATIENCE).unwrap());
        // Let the waiter sleep first, so the exit is what wakes it.
        std::thread::sleep(SHORT);
        grandchild.kill().unwrap();
        waiter.join().unwrap()
    });
    assert!(emptied, "wait_empty gave up while the scope emptied");
    assert!(grandchild.try_wait().unwrap().is_some());
    assert!(scope.is_empty().unwrap());
}

#[test]
fn wait_empty_timeout_says_not_empty_while_a_member_lives() {
    let scope = port_scope();
    let member = scope.spawn(&mut sleeper(600)).unwrap();
    assert!(!scope.wait_empty_timeout(SHORT).unwrap());
    assert!(!scope.wait_empty_timeout(Duration::ZERO).unwrap());
    assert!(member.try_wait().unwrap().is_none(), "still alive");
    scope.kill().unwrap();
    assert!(member.wait_timeout(PATIENCE).unwrap().is_some());
}

#[test]
fn an_empty_job_is_empty_at_once_also_after_it_was_refilled() {
    let scope = port_scope();
    assert!(
        scope.wait_empty_timeout(Duration::ZERO).unwrap(),
        "never filled"
    );
    for round in 0..2 {
        let member = scope.spawn(&mut sleeper(600)).unwrap();
        // A late packet of the last emptiness must not end this wait.
        assert!(!scope.wait_empty_timeout(SHORT).unwrap(), "round {round}");
        member.kill().unwrap();
        assert!(scope.wait_empty_timeout(PATIENCE).unwrap(), "round {round}");
        assert!(scope.wait_empty_timeout(Duration::ZERO).unwrap());
    }
}

#[test]
fn the_watcher_reports_the_scope_empty_only_after_the_grandchild() {
    if std::env::var_os(PARENT_ENV).is_some() {
        play_parent();
    }
    let scope = Arc::new(port_scope());
    let grandchild = orphaned_grandchild(
        &scope,
        "the_watcher_reports_the_scope_empty_only_after_the_grandchild",
    );
    let watcher = Watcher::new().unwrap();
    let token = watcher.add_scope(&scope).unwrap();
    assert!(
        watcher.next_notice(Some(SHORT)).unwrap().is_none(),
        "not empty while the grandchild lives"
    );
    grandchild.kill().unwrap();
    match watcher.next_notice(Some(PATIENCE)).unwrap() {
        Some(Notice::Empty(event)) => {
            assert_eq!(event.token, token);
            assert!(Arc::ptr_eq(&event.scope, &scope));
        }
        other => panic!("expected the scope's emptiness, got {other:?}"),
    }
    assert!(grandchild.try_wait().unwrap().is_some());
    assert!(watcher.is_empty(), "reported once, then unregistered");
}

#[test]
fn the_watcher_reports_an_empty_scope_at_once_and_a_removed_one_never() {
    let watcher = Watcher::new().unwrap();
    let empty = Arc::new(port_scope());
    watcher.add_scope(&empty).unwrap();
    assert!(matches!(
        watcher.try_next_notice().unwrap(),
        Some(Notice::Empty(_))
    ));

    let busy = Arc::new(port_scope());
    let member = busy.spawn(&mut sleeper(600)).unwrap();
    let token = watcher.add_scope(&busy).unwrap();
    assert!(watcher.remove_scope(token).is_some());
    member.kill().unwrap();
    assert!(busy.wait_empty_timeout(PATIENCE).unwrap());
    assert!(watcher.next_notice(Some(SHORT)).unwrap().is_none());
}
