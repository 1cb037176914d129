//! A scope's emptiness through the exit futures, tokio and async-io, in the
//! cgroup mode (tokio: woken by the kernel; async-io: timers) and in the
//! modes that re-check (subreaper, process group): the first child exits
//! at once, a background grandchild keeps the scope populated, and the
//! future must resolve only once that grandchild is gone.
//!
//! As root for the cgroup mode (a failure under `CI=true` otherwise).
#![cfg(target_os = "linux")]
#![cfg(any(feature = "tokio", feature = "async-io"))]

use std::sync::Arc;
use std::time::Duration;

use prochandle::{asyncio, MechanismKind};
use prochandle_test_support::{scope_with_grandchild, serial, TreeMark};

/// How long a scope with a live member must stay unreported.
const QUIET: Duration = Duration::from_millis(300);
/// Generous bound for an emptiness to be reported once it happened.
const LIMIT: Duration = Duration::from_secs(10);

/// One `#[test]` per scope mechanism, named `RULE::of_a_MECHANISM_scope`,
/// each running `RULE` with that mechanism.
macro_rules! per_mechanism {
    ($rule:ident) => {
        mod $rule {
            use prochandle::MechanismKind::{Cgroup, ProcessGroup, Subreaper};

            #[test]
            fn of_a_cgroup_scope() {
                super::$rule(Cgroup);
            }

            #[test]
            fn of_a_subreaper_scope() {
                super::$rule(Subreaper);
            }

            #[test]
            fn of_a_process_group_scope() {
                super::$rule(ProcessGroup);
            }
        }
    };
}

/// A tokio runtime on this thread, with timers and I/O.
#[cfg(feature = "tokio")]
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[cfg(feature = "tokio")]
fn the_tokio_future_waits_for_the_last_member(kind: MechanismKind) {
    let _serial = serial();
    let mark = TreeMark::new();
    let Some((scope, grandchild)) = scope_with_grandchild(kind, &mark) else {
        return;
    };
    current_thread().block_on(async {
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

#[cfg(feature = "tokio")]
per_mechanism!(the_tokio_future_waits_for_the_last_member);

#[cfg(feature = "async-io")]
/// Polls `future` on async-io until it resolves or `limit` passes.
fn within_async<F: std::future::Future + Unpin>(
    future: &mut F,
    limit: Duration,
) -> Option<F::Output> {
    async_io::block_on(futures_lite::future::or(
        async { Some(future.await) },
        async {
            async_io::Timer::after(limit).await;
            None
        },
    ))
}

#[cfg(feature = "async-io")]
fn the_async_io_future_waits_for_the_last_member(kind: MechanismKind) {
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

#[cfg(feature = "async-io")]
per_mechanism!(the_async_io_future_waits_for_the_last_member);

#[cfg(feature = "tokio")]
#[test]
fn a_dropped_emptiness_future_leaks_no_descriptor() {
    let _serial = serial();
    let mark = TreeMark::new();
    let Some((scope, grandchild)) = scope_with_grandchild(MechanismKind::Cgroup, &mark) else {
        return;
    };
    current_thread().block_on(async {
        // The runtime's own descriptors exist by now.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let fds = prochandle_test_support::open_fds();
        for _ in 0..3 {
            let mut empty = asyncio::tokio::wait_empty(&scope);
            let pending = tokio::time::timeout(Duration::from_millis(50), &mut empty).await;
            assert!(pending.is_err(), "empty while the grandchild runs");
            drop(empty);
        }
        assert_eq!(
            prochandle_test_support::open_fds(),
            fds,
            "a dropped future left a descriptor open"
        );
    });
    grandchild.kill().unwrap();
    assert!(scope.wait_empty_timeout(LIMIT).unwrap());
}

#[cfg(feature = "tokio")]
#[test]
fn readers_of_the_scope_do_not_blind_the_tokio_future() {
    let _serial = serial();
    let mark = TreeMark::new();
    let Some((scope, _grandchild)) = scope_with_grandchild(MechanismKind::Cgroup, &mark) else {
        return;
    };
    // Reads the scope's own `cgroup.events` descriptor without pause: each
    // read consumes the kernel's notification for that open file.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (scope, stop) = (Arc::clone(&scope), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = scope.is_empty();
            }
        })
    };
    let done = current_thread().block_on(async {
        let mut empty = asyncio::tokio::wait_empty(&scope);
        assert!(tokio::time::timeout(QUIET, &mut empty).await.is_err());
        scope.kill().unwrap();
        tokio::time::timeout(LIMIT, empty).await
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    reader.join().unwrap();
    done.expect("the emptiness within the limit").unwrap();
}
