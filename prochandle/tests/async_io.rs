//! The async-io (smol) exit future: children and non-children,
//! cancellation, many at once, no SIGCHLD handler. Runs in both modes.
#![cfg(all(unix, feature = "async-io"))]

use std::future::Future;
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use async_io::{block_on, Timer};
use futures_lite::future;
use prochandle::{asyncio, capabilities, Process, Signal};
use prochandle_test_support::signals::{assert_killed_non_child, sigchld_is_default};
use prochandle_test_support::{Grandchildren, Reaped};

/// `fut`, or `None` once `after` has passed.
async fn timeout<T>(after: Duration, fut: impl Future<Output = T>) -> Option<T> {
    future::or(async { Some(fut.await) }, async {
        Timer::after(after).await;
        None
    })
    .await
}

/// Drives every future to completion, concurrently, on this thread.
async fn join_all<T>(futures: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<T> {
    let mut futures: Vec<_> = futures.into_iter().map(Some).collect();
    let mut results: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, result) in futures.iter_mut().zip(results.iter_mut()) {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *result = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(Option::unwrap).collect()
}

#[test]
fn a_child_exit_is_awaited_with_its_status() {
    let child = Process::spawn(Command::new("sh").args(["-c", "exit 5"])).unwrap();
    let state = block_on(asyncio::async_io::wait(&child)).unwrap();
    assert_eq!(state.exit_code(), Some(5));
    assert!(state.usage().is_some(), "reaped by us");
    assert_eq!(block_on(asyncio::async_io::wait(&child)).unwrap(), state);
    assert!(sigchld_is_default(), "no SIGCHLD handler was installed");
}

#[test]
fn a_non_child_exit_is_awaited() {
    let family = Grandchildren::sleeping(1);
    let process = Process::open(family.pids[0]).unwrap();
    assert!(!process.is_child());
    let pid = family.pids[0];
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        Process::open(pid).unwrap().kill().unwrap();
    });
    let state = block_on(asyncio::async_io::wait(&process)).unwrap();
    killer.join().unwrap();
    assert_killed_non_child(&process, &state);
    assert!(sigchld_is_default());
}

#[test]
fn a_dropped_future_loses_nothing() {
    let child = Reaped::sleeping(300);
    let early = block_on(timeout(
        Duration::from_millis(50),
        asyncio::async_io::wait(&child),
    ));
    assert!(early.is_none(), "it is still running");
    child.kill().unwrap();
    drop(asyncio::async_io::wait(&child));
    let state = block_on(asyncio::async_io::wait(&child)).unwrap();
    assert_eq!(state.signal(), Some(Signal::KILL));
    assert_eq!(child.wait().unwrap(), state, "sync and async agree");
}

#[test]
fn many_futures_on_one_process_and_on_many() {
    let shared = Reaped::sleeping(300);
    let others: Vec<_> = (0..60).map(|_| Arc::new(Reaped::sleeping(300))).collect();
    let killer = {
        let others = others.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            for p in &others {
                p.kill().unwrap();
            }
        })
    };
    let mut futures: Vec<Pin<Box<dyn Future<Output = _>>>> = Vec::new();
    for p in &others {
        futures.push(Box::pin(asyncio::async_io::wait(p)));
    }
    let states = block_on(join_all(futures));
    killer.join().unwrap();
    for state in states {
        assert_eq!(state.unwrap().signal(), Some(Signal::KILL));
    }

    // Four futures on one process at once (each registers its own duplicate).
    let waits: Vec<Pin<Box<dyn Future<Output = _>>>> = (0..4)
        .map(|_| Box::pin(asyncio::async_io::wait(&shared)) as Pin<Box<dyn Future<Output = _>>>)
        .collect();
    let both = block_on(future::zip(join_all(waits), async {
        Timer::after(Duration::from_millis(20)).await;
        shared.kill().unwrap();
    }));
    let states: Vec<prochandle::ProcessState> = both.0.into_iter().map(Result::unwrap).collect();
    assert!(states.windows(2).all(|w| w[0] == w[1]), "{states:?}");
    assert_eq!(states[0].signal(), Some(Signal::KILL));
}

#[test]
fn the_mode_decides_the_mechanism() {
    let child = Reaped::sleeping(300);
    assert_eq!(child.has_handle(), capabilities().handles());
    let pending = block_on(timeout(
        Duration::from_millis(30),
        asyncio::async_io::wait(&child),
    ));
    assert!(pending.is_none());
    child.signal(Signal::TERM).unwrap();
    let state = block_on(timeout(
        Duration::from_secs(30),
        asyncio::async_io::wait(&child),
    ))
    .expect("the exit is seen")
    .unwrap();
    assert_eq!(state.signal(), Some(Signal::TERM));
}

/// A job that keeps its exit future in a field, as a user's struct would.
struct Job<'p> {
    exit: asyncio::async_io::Exit<'p>,
    polls: usize,
}

fn is_send_unpin<T: Send + Unpin>(_: &T) {}

#[test]
fn the_future_can_be_stored_in_a_struct_and_polled() {
    use std::future::poll_fn;

    let child = Reaped::sleeping(300);
    let mut job = Job {
        exit: asyncio::async_io::wait(&child),
        polls: 0,
    };
    is_send_unpin(&job.exit);
    let first = async_io::block_on(poll_fn(|cx| {
        job.polls += 1;
        Poll::Ready(Pin::new(&mut job.exit).poll(cx))
    }));
    assert!(first.is_pending());
    child.kill().unwrap();
    let state = async_io::block_on(poll_fn(|cx| {
        job.polls += 1;
        Pin::new(&mut job.exit).poll(cx)
    }))
    .unwrap();
    assert_eq!(state.signal(), Some(Signal::KILL));
    assert!(job.polls >= 2);
    drop(job);
    // The shared form borrows nothing: it can move to another thread.
    let shared = Arc::new(child.into_inner());
    let exit: asyncio::async_io::Exit<'static> = asyncio::async_io::wait_shared(shared);
    let waiter = std::thread::spawn(move || async_io::block_on(exit));
    assert_eq!(waiter.join().unwrap().unwrap(), state);
}
