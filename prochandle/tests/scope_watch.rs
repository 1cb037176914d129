//! A scope's emptiness through the `Watcher` and the exit futures (tokio,
//! async-io), in the cgroup mode (woken by the kernel) and in the modes
//! that re-check (subreaper, process group): the first child exits at
//! once, a background grandchild keeps the scope populated, and the
//! emptiness must be reported only once that grandchild is gone.
//!
//! As root for the cgroup mode (a failure under `CI=true` otherwise). The
//! subreaper mode changes this test process for good (nextest runs each
//! test in its own process; under `cargo test` the tests run one at a
//! time).
#![cfg(target_os = "linux")]

use std::future::Future;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prochandle::{asyncio, MechanismKind, Notice, Process, Scope, Watcher};
use prochandle_test_support::{eventually, open_fds, scope_of, TreeMark};

/// How long a scope with a live member must stay unreported.
const QUIET: Duration = Duration::from_millis(300);
/// Generous bound for an emptiness to be reported once it happened.
const LIMIT: Duration = Duration::from_secs(10);

fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A scope of `kind` holding one live process: the first child (a shell)
/// has exited and been reaped, its background `sleep` runs on. Returns
/// the scope and that grandchild, pinned.
fn scope_with_grandchild(kind: MechanismKind, mark: &TreeMark) -> Option<(Arc<Scope>, Process)> {
    let scope = Arc::new(scope_of(kind)?);
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "sleep 30 & exit 0"]);
    mark.apply(&mut cmd);
    let first = scope.spawn(&mut cmd).unwrap();
    assert!(first.wait().unwrap().success());
    let grandchild = eventually("the background sleep as the one member", || {
        let mut members = scope.members().ok()?;
        (members.len() == 1).then(|| members.remove(0))
    });
    assert_ne!(grandchild.pid(), first.pid());
    Some((scope, grandchild))
}

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

fn tokio_waits_for_the_last_member(kind: MechanismKind) {
    let _serial = serial();
    let mark = TreeMark::new();
    let Some((scope, grandchild)) = scope_with_grandchild(kind, &mark) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut empty = asyncio::tokio::wait_empty(&scope);
        let early = tokio::time::timeout(QUIET, &mut empty).await;
        assert!(early.is_err(), "{kind}: empty while the grandchild runs");
        grandchild.kill().unwrap();
        tokio::time::timeout(LIMIT, &mut empty)
            .await
            .expect("the emptiness within the limit")
            .unwrap();
        // Shared, and polled again once empty: answers at once.
        let shared = asyncio::tokio::wait_empty_shared(Arc::clone(&scope));
        tokio::spawn(shared).await.unwrap().unwrap();
        tokio::time::timeout(LIMIT, empty).await.unwrap().unwrap();
    });
    assert!(scope.is_empty().unwrap());
}

#[test]
fn the_tokio_future_waits_for_the_last_member_of_a_cgroup_scope() {
    tokio_waits_for_the_last_member(MechanismKind::Cgroup);
}

#[test]
fn the_tokio_future_waits_for_the_last_member_of_a_subreaper_scope() {
    tokio_waits_for_the_last_member(MechanismKind::Subreaper);
}

#[test]
fn the_tokio_future_waits_for_the_last_member_of_a_process_group_scope() {
    tokio_waits_for_the_last_member(MechanismKind::ProcessGroup);
}

/// Polls `future` on async-io until it resolves or `limit` passes.
fn within_async<F: Future + Unpin>(future: &mut F, limit: Duration) -> Option<F::Output> {
    async_io::block_on(futures_lite::future::or(
        async { Some(future.await) },
        async {
            async_io::Timer::after(limit).await;
            None
        },
    ))
}

fn async_io_waits_for_the_last_member(kind: MechanismKind) {
    let _serial = serial();
    let mark = TreeMark::new();
    let Some((scope, grandchild)) = scope_with_grandchild(kind, &mark) else {
        return;
    };
    let mut empty = asyncio::async_io::wait_empty(&scope);
    assert!(
        within_async(&mut empty, QUIET).is_none(),
        "{kind}: empty while the grandchild runs"
    );
    grandchild.kill().unwrap();
    within_async(&mut empty, LIMIT)
        .expect("the emptiness within the limit")
        .unwrap();
    let mut shared = asyncio::async_io::wait_empty_shared(Arc::clone(&scope));
    within_async(&mut shared, LIMIT).unwrap().unwrap();
}

#[test]
fn the_async_io_future_waits_for_the_last_member_of_a_cgroup_scope() {
    async_io_waits_for_the_last_member(MechanismKind::Cgroup);
}

#[test]
fn the_async_io_future_waits_for_the_last_member_of_a_subreaper_scope() {
    async_io_waits_for_the_last_member(MechanismKind::Subreaper);
}

#[test]
fn the_async_io_future_waits_for_the_last_member_of_a_process_group_scope() {
    async_io_waits_for_the_last_member(MechanismKind::ProcessGroup);
}

#[test]
fn a_dropped_emptiness_future_leaks_no_descriptor() {
    let _serial = serial();
    let mark = TreeMark::new();
    let Some((scope, grandchild)) = scope_with_grandchild(MechanismKind::Cgroup, &mark) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The runtime's own descriptors exist by now.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let fds = open_fds();
        for _ in 0..3 {
            let mut empty = asyncio::tokio::wait_empty(&scope);
            let pending = tokio::time::timeout(Duration::from_millis(50), &mut empty).await;
            assert!(pending.is_err(), "empty while the grandchild runs");
            drop(empty);
        }
        assert_eq!(open_fds(), fds, "a dropped future left a descriptor open");
    });
    grandchild.kill().unwrap();
    assert!(scope.wait_empty_timeout(LIMIT).unwrap());
}
