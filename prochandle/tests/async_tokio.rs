//! The tokio exit future: children and non-children, cancellation, many
//! at once, no SIGCHLD handler. Runs in both modes.
#![cfg(all(unix, feature = "tokio"))]

use std::process::Command;
use std::time::Duration;

use prochandle::{asyncio, capabilities, Process, Signal};
use prochandle_test_support::signals::{assert_killed_non_child, sigchld_is_default};
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
    assert_killed_non_child(&process, &state);
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
    assert_eq!(state.signal(), Some(Signal::KILL));
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
        assert_eq!(w.await.unwrap().signal(), Some(Signal::KILL));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    shared.kill().unwrap();
    let mut states = Vec::new();
    for w in waiters {
        states.push(w.await.unwrap());
    }
    assert!(states.windows(2).all(|w| w[0] == w[1]), "{states:?}");
    assert_eq!(states[0].signal(), Some(Signal::KILL));
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
    assert_eq!(state.signal(), Some(Signal::TERM));
}

/// A job that keeps its exit future in a field, as a user's struct would.
struct Job {
    exit: asyncio::tokio::Exit<'static>,
    polls: usize,
}

fn is_send_unpin_static<T: Send + Unpin + 'static>(_: &T) {}

#[tokio::test(flavor = "current_thread")]
async fn the_future_can_be_stored_in_a_struct_and_polled() {
    use std::future::{poll_fn, Future};
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::Poll;

    // Shared with the future, so not behind a guard: it is killed below.
    let child = Arc::new(Reaped::sleeping(300).into_inner());
    let mut job = Job {
        exit: asyncio::tokio::wait_shared(Arc::clone(&child)),
        polls: 0,
    };
    is_send_unpin_static(&job.exit);
    assert_eq!(job.exit.process().pid(), child.pid());
    // Polled by hand: pending while the process runs.
    let first = poll_fn(|cx| {
        job.polls += 1;
        Poll::Ready(Pin::new(&mut job.exit).poll(cx))
    })
    .await;
    assert!(first.is_pending());
    child.kill().unwrap();
    let state = poll_fn(|cx| {
        job.polls += 1;
        Pin::new(&mut job.exit).poll(cx)
    })
    .await
    .unwrap();
    assert_eq!(state.signal(), Some(Signal::KILL));
    assert!(job.polls >= 2);
    // A borrowed future is a named type too, and can be spawned once shared.
    let borrowed: asyncio::tokio::Exit<'_> = asyncio::tokio::wait(&child);
    assert_eq!(borrowed.await.unwrap(), state);
    let spawned = tokio::spawn(asyncio::tokio::wait_shared(child));
    assert_eq!(spawned.await.unwrap().unwrap(), state);
}

/// A non-child whose parent does not reap it: the future waits out the
/// grace on timers, then reports what it knows.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn a_non_child_whose_parent_never_reaps_is_reported_after_the_grace() {
    use prochandle::{ExitStatus, Feature};

    let family = Grandchildren::sleeping(1);
    let shell = prochandle_test_support::proc_parent(family.pids[0]).expect("alive") as i32;
    // SAFETY: kill takes two integers; the shell is our unreaped child.
    assert_eq!(unsafe { libc::kill(shell, libc::SIGSTOP) }, 0);
    let process = Process::open(family.pids[0]).unwrap();
    process.kill().unwrap();
    let start = std::time::Instant::now();
    let state = tokio::time::timeout(Duration::from_secs(30), asyncio::tokio::wait(&process))
        .await
        .expect("reported")
        .unwrap();
    if process.has_handle() && capabilities().is_available(Feature::PidfdInfoExit) {
        assert_eq!(
            state.status(),
            ExitStatus::Unknown(prochandle::UnknownReason::NotReapedYet)
        );
        assert!(start.elapsed() >= Duration::from_millis(200));
    } else {
        assert!(
            matches!(state.status(), ExitStatus::Unknown(_)),
            "{state:?}"
        );
    }
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(shell, libc::SIGCONT) }, 0);
}

/// Dropped mid-wait, two futures on one process (the second registers a
/// duplicate pidfd) give back every descriptor.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn futures_dropped_mid_wait_leak_no_descriptor() {
    use std::future::{poll_fn, Future};
    use std::pin::Pin;
    use std::task::Poll;

    use prochandle_test_support::open_fds;

    let child = Reaped::sleeping(300);
    let before = open_fds();
    {
        let mut first = asyncio::tokio::wait(&child);
        let mut second = asyncio::tokio::wait(&child);
        for exit in [&mut first, &mut second] {
            let polled = poll_fn(|cx| Poll::Ready(Pin::new(&mut *exit).poll(cx))).await;
            assert!(polled.is_pending());
        }
        if child.has_handle() {
            assert_eq!(open_fds(), before + 1, "one duplicate");
        }
    }
    assert_eq!(open_fds(), before);
    child.kill().unwrap();
    child.wait().unwrap();
}
