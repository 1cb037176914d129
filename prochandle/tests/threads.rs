//! One `Process` shared by many threads.
#![cfg(target_os = "linux")]

use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::time::Duration;

use prochandle::{ErrorKind, Process, Signal};
use prochandle_test_support::{exit_with, expect_handles, open_fds, Reaped};

/// `cargo test` runs this binary's tests as threads of one process: a test
/// that counts the process's descriptors holds this lock, and so does every
/// test that opens any, so no other test's descriptors come or go between
/// its two counts.
fn descriptors_still() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// One of four calls on a process other threads use too, by `turn`; each
/// may find the process gone, and none may fail otherwise.
fn one_call(p: &Process, turn: usize) {
    match turn % 4 {
        0 => match p.signal(Signal::from_raw(0)) {
            Ok(()) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::Done, "{e}"),
        },
        1 => {
            let _ = p.try_wait().unwrap();
        }
        2 => {
            let _ = p.wait_timeout(Duration::from_millis(1)).unwrap();
        }
        _ => match p.with_handle(|fd| {
            // The borrowed fd must stay open throughout.
            use std::os::fd::AsRawFd;
            // SAFETY: F_GETFD on a borrowed, open fd.
            let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
            assert!(r >= 0, "EBADF inside with_handle");
        }) {
            Ok(()) => {}
            Err(e) => assert!(e.is_no_handle()),
        },
    }
}

#[test]
fn eight_threads_share_one_process_while_another_waits() {
    let _still = descriptors_still();
    expect_handles();
    let before = open_fds();
    for round in 0..20 {
        let p = Arc::new(Reaped::sleeping(30));
        let barrier = Arc::new(Barrier::new(9));
        let waiter = {
            let (p, barrier) = (p.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                p.wait().unwrap()
            })
        };
        let workers: Vec<_> = (0..8)
            .map(|i| {
                let (p, barrier) = (p.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for j in 0..50 {
                        one_call(&p, i + j);
                        if i == 0 && j == 25 {
                            let _ = p.kill();
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("worker panicked");
        }
        let state = waiter.join().expect("waiter panicked");
        assert_eq!(
            state.signal(),
            Some(prochandle::Signal::KILL),
            "round {round}"
        );
        assert_eq!(p.wait().unwrap(), state);
        assert!(p.kill().unwrap_err().is_done());
    }
    assert_eq!(open_fds(), before);
}

#[test]
fn concurrent_waiters_all_get_the_same_state() {
    let _still = descriptors_still();
    expect_handles();
    let p = Arc::new(Reaped::spawn(exit_with(9)));
    let waiters: Vec<_> = (0..8)
        .map(|i| {
            let p = p.clone();
            std::thread::spawn(move || match i % 2 {
                0 => p.wait().unwrap(),
                _ => loop {
                    if let Some(s) = p.wait_timeout(Duration::from_millis(3)).unwrap() {
                        break s;
                    }
                },
            })
        })
        .collect();
    let states: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(states.iter().all(|s| *s == states[0]));
    assert_eq!(states[0].exit_code(), Some(9));
}
