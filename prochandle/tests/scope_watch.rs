//! A scope's emptiness through the `Watcher`, in the cgroup mode (woken by
//! the kernel) and in the modes that re-check (subreaper, process group):
//! the first child exits at once, a background grandchild keeps the scope
//! populated, and the emptiness must be reported only once that
//! grandchild is gone. The futures: `scope_async.rs`.
//!
//! As root for the cgroup mode (a failure under `CI=true` otherwise). The
//! subreaper mode changes this test process for good (nextest runs each
//! test in its own process; under `cargo test` the tests run one at a
//! time).
#![cfg(target_os = "linux")]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prochandle::{MechanismKind, Notice, Process, Scope, Watcher};
use prochandle_test_support::{open_fds, scope_of, scope_with_grandchild, serial, TreeMark};

/// How long a scope with a live member must stay unreported.
const QUIET: Duration = Duration::from_millis(300);
/// Generous bound for an emptiness to be reported once it happened.
const LIMIT: Duration = Duration::from_secs(10);

fn watcher_waits_for_the_last_member(kind: MechanismKind) {
    let _serial = serial();
    let mark = TreeMark::new();
    let Some((scope, grandchild)) = scope_with_grandchild(kind, &mark) else {
        return;
    };
    let watcher = Watcher::new().unwrap();
    let token = watcher.add_scope(&scope).unwrap();
    assert_eq!(watcher.len(), 1);
    assert!(
        watcher.next_notice(Some(QUIET)).unwrap().is_none(),
        "{kind}: reported empty while the grandchild runs"
    );
    assert!(!scope.is_empty().unwrap());

    grandchild.kill().unwrap();
    // `next` reports exits only: it returns at once (no process is
    // registered) and leaves the scope's notice queued.
    assert!(watcher.next(Some(LIMIT)).unwrap().is_none());
    let start = Instant::now();
    match watcher.next_notice(Some(LIMIT)).unwrap() {
        Some(Notice::Empty(event)) => {
            assert_eq!(event.token, token);
            assert!(Arc::ptr_eq(&event.scope, &scope));
        }
        other => panic!("{kind}: expected the emptiness, got {other:?}"),
    }
    assert!(start.elapsed() < LIMIT, "{kind}: the emptiness came late");
    assert!(scope.is_empty().unwrap());
    assert!(watcher.is_empty());
    assert!(watcher.next_notice(None).unwrap().is_none());
}

#[test]
fn the_watcher_reports_a_cgroup_scope_empty_after_its_last_member() {
    watcher_waits_for_the_last_member(MechanismKind::Cgroup);
}

#[test]
fn the_watcher_reports_a_subreaper_scope_empty_after_its_last_member() {
    watcher_waits_for_the_last_member(MechanismKind::Subreaper);
}

#[test]
fn the_watcher_reports_a_process_group_scope_empty_after_its_last_member() {
    watcher_waits_for_the_last_member(MechanismKind::ProcessGroup);
}

#[test]
fn the_watcher_reports_scopes_and_processes_and_removes_scopes() {
    let _serial = serial();
    let mark = TreeMark::new();
    let Some((scope, grandchild)) = scope_with_grandchild(MechanismKind::Cgroup, &mark) else {
        return;
    };
    let fds = open_fds();
    let watcher = Watcher::new().unwrap();
    let token = watcher.add_scope(&scope).unwrap();
    let child = Process::spawn(&mut Command::new("true")).unwrap();
    let pid = child.pid();
    watcher.add(child).unwrap();
    match watcher.next_notice(Some(LIMIT)).unwrap() {
        Some(Notice::Exit(event)) => assert_eq!(event.process.pid(), pid),
        other => panic!("expected the exit of `true`, got {other:?}"),
    }
    // Removing hands the scope back and closes the watcher's descriptor.
    let back = watcher.remove_scope(token).expect("registered");
    assert!(Arc::ptr_eq(&back, &scope));
    assert!(watcher.remove_scope(token).is_none());
    drop(watcher);
    assert_eq!(open_fds(), fds, "the watcher left a descriptor open");
    grandchild.kill().unwrap();
    assert!(scope.wait_empty_timeout(LIMIT).unwrap());
}

#[test]
fn an_empty_scope_is_reported_at_once() {
    let _serial = serial();
    let Some(scope) = scope_of(MechanismKind::Cgroup) else {
        return;
    };
    let watcher = Watcher::new().unwrap();
    let token = watcher.add_scope(&Arc::new(scope)).unwrap();
    let notice = watcher.try_next_notice().unwrap().expect("empty already");
    assert_eq!(notice.token(), token);
}

/// Runs `f` while another thread reads the scope's own `cgroup.events`
/// descriptor (through `is_empty`) without pause: each read consumes the
/// kernel's notification for that open file, which must not blind a
/// watcher.
fn with_a_busy_reader<T>(scope: &Arc<Scope>, f: impl FnOnce() -> T) -> T {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (scope, stop) = (Arc::clone(scope), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = scope.is_empty();
            }
        })
    };
    let result = f();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    reader.join().unwrap();
    result
}

#[test]
fn readers_of_the_scope_do_not_blind_the_watcher_and_no_cgroup_is_left() {
    let _serial = serial();
    let mark = TreeMark::new();
    let Some((scope, _grandchild)) = scope_with_grandchild(MechanismKind::Cgroup, &mark) else {
        return;
    };
    let path = scope.mechanism().cgroup_path().unwrap().to_owned();
    let watcher = Watcher::new().unwrap();
    let token = watcher.add_scope(&scope).unwrap();
    let notice = with_a_busy_reader(&scope, || {
        assert!(watcher.next_notice(Some(QUIET)).unwrap().is_none());
        // `kill` reads the descriptor too, until the cgroup is empty.
        scope.kill().unwrap();
        watcher.next_notice(Some(LIMIT)).unwrap()
    });
    assert_eq!(notice.expect("the emptiness").token(), token);
    drop(scope);
    assert!(!path.exists(), "{} left behind", path.display());
}
