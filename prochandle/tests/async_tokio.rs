//! The tokio exit future: children and non-children, cancellation, many
//! at once, no SIGCHLD handler. Runs in both modes.
#![cfg(all(unix, feature = "tokio"))]

use std::process::Command;
use std::time::Duration;

use prochandle::{asyncio, capabilities, ExitStatus, Feature, Process, Signal};
use prochandle_test_support::signals::sigchld_is_default;
use prochandle_test_support::{Grandchildren, Reaped};

#[tokio::test(flavor = "current_thread")]
async fn a_child_exit_is_awaited_with_its_status() {
    let child = Process::spawn(Command::new("sh").args(["-c", "exit 5"])).unwrap();
    let state = asyncio::tokio::wait(&child).await.unwrap();
    assert_eq!(state.exit_code(), Some(5));
    assert!(state.usage().is_some(), "reaped by us");
    // Awaiting again gives the same state.
    assert_eq!(asyncio::tokio::wait(&child).await.unwrap(), state);
    assert!(sigchld_is_default(), "no SIGCHLD handler was installed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_child_exit_is_awaited() {
    let family = Grandchildren::sleeping(1);
    let process = Process::open(family.pids[0]).unwrap();
    assert!(!process.is_child());
    let killer = {
        let pid = family.pids[0];
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Process::open(pid).unwrap().kill().unwrap();
        })
    };
    let state = asyncio::tokio::wait(&process).await.unwrap();
    killer.await.unwrap();
    if process.has_handle() && capabilities().is_available(Feature::PidfdInfoExit) {
        assert_eq!(state.signal(), Some(Signal::KILL.as_raw()), "{state:?}");
    } else {
        assert!(
            matches!(state.status(), ExitStatus::Unknown(_)),
            "{state:?}"
        );
    }
    assert!(sigchld_is_default());
}

#[tokio::test(flavor = "current_thread")]
async fn a_dropped_future_loses_nothing() {
    let child = Reaped::sleeping(300);
    let timed_out =
        tokio::time::timeout(Duration::from_millis(50), asyncio::tokio::wait(&child)).await;
    assert!(timed_out.is_err(), "it is still running");
    child.kill().unwrap();
    // Cancel again after the exit, before the future ever completes.
    drop(asyncio::tokio::wait(&child));
    let state = asyncio::tokio::wait(&child).await.unwrap();
    assert_eq!(state.signal(), Some(Signal::KILL.as_raw()));
    assert_eq!(child.wait().unwrap(), state, "sync and async agree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_futures_on_one_process_and_on_many() {
    let shared = std::sync::Arc::new(Reaped::sleeping(300));
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let p = std::sync::Arc::clone(&shared);
            tokio::spawn(async move { asyncio::tokio::wait(&p).await.unwrap() })
        })
        .collect();
    let others: Vec<_> = (0..60)
        .map(|_| std::sync::Arc::new(Reaped::sleeping(300)))
        .collect();
    let other_waits: Vec<_> = others
        .iter()
        .map(|p| {
            let p = std::sync::Arc::clone(p);
            tokio::spawn(async move { asyncio::tokio::wait(&p).await.unwrap() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    for p in &others {
        p.kill().unwrap();
    }
    for w in other_waits {
        assert_eq!(w.await.unwrap().signal(), Some(Signal::KILL.as_raw()));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    shared.kill().unwrap();
    let mut states = Vec::new();
    for w in waiters {
        states.push(w.await.unwrap());
    }
    assert!(states.windows(2).all(|w| w[0] == w[1]), "{states:?}");
    assert_eq!(states[0].signal(), Some(Signal::KILL.as_raw()));
}

#[tokio::test(flavor = "current_thread")]
async fn the_mode_decides_the_mechanism() {
    let child = Reaped::sleeping(300);
    // With a pidfd the future registers a duplicate with the reactor;
    // without one it polls on timers. Either way it must complete.
    assert_eq!(child.has_handle(), capabilities().handles());
    let pending = tokio::time::timeout(Duration::from_millis(30), asyncio::tokio::wait(&child));
    assert!(pending.await.is_err());
    child.signal(Signal::TERM).unwrap();
    let state = tokio::time::timeout(Duration::from_secs(30), asyncio::tokio::wait(&child))
        .await
        .expect("the exit is seen")
        .unwrap();
    assert_eq!(state.signal(), Some(Signal::TERM.as_raw()));
}
