//! Behaviour every platform shares: Linux (pidfd and guarded-PID mode),
//! Windows (process HANDLE, run under Wine in CI), and the other Unixes.
//! Where the platforms differ by design, the test says which answer is
//! right where.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use prochandle::{capabilities, ErrorKind, Process, Signal};
use prochandle_test_support::{exit_with, sleeper, Reaped, NO_SUCH_PID, PATIENCE};

#[test]
fn spawn_holds_a_handle_exactly_when_the_system_has_them() {
    let p = Reaped::spawn(sleeper(30));
    assert_eq!(p.has_handle(), capabilities().handles());
    assert_eq!(p.handle().is_some(), capabilities().handles());
    assert!(p.is_child());
    if cfg!(windows) {
        assert!(p.has_handle(), "Windows always holds a HANDLE");
    }
}

#[test]
fn with_handle_calls_f_once_or_says_no_handle() {
    let p = Reaped::spawn(sleeper(30));
    let calls = AtomicUsize::new(0);
    let result = p.with_handle(|_| calls.fetch_add(1, Ordering::SeqCst) + 41);
    if capabilities().handles() {
        assert_eq!(result.unwrap(), 41);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    } else {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::NoHandle);
        assert_eq!(calls.load(Ordering::SeqCst), 0, "f must not be called");
    }
}

#[test]
fn open_by_pid_reaches_the_same_process() {
    let mut cmd = sleeper(30);
    cmd.stdin(std::process::Stdio::null());
    // Keep the Child (and so, on Unix, the unreaped PID) while opening.
    let child = cmd.spawn().expect("spawn");
    let opened = Reaped::new(Process::open(child.id()).expect("open"));
    assert_eq!(opened.pid(), child.id());
    assert!(opened.try_wait().unwrap().is_none());
    opened.kill().expect("kill through the opened process");
    let state = opened.wait_timeout(PATIENCE).unwrap().expect("exit");
    assert_eq!(state.pid(), child.id());
    #[cfg(unix)]
    assert_eq!(state.signal(), Some(Signal::KILL));
    #[cfg(windows)]
    assert_eq!(
        state.exit_code(),
        Some(prochandle_test_support::WINDOWS_KILL_CODE)
    );
    // `child` is dropped without kill/wait: the Process has waited (on
    // Unix reaped) it, and std would signal the bare PID.
    drop(child);
}

#[test]
fn open_of_a_pid_that_does_not_exist_is_not_found() {
    let err = Process::open(NO_SUCH_PID).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn wait_returns_the_exit_code_and_the_same_state_again() {
    let p = Reaped::spawn(exit_with(3));
    let first = p.wait().unwrap();
    assert_eq!(first.exit_code(), Some(3));
    assert!(first.exited() && !first.success());
    assert_eq!(p.wait().unwrap(), first);
    assert_eq!(p.try_wait().unwrap(), Some(first));
    assert_eq!(p.wait_timeout(Duration::ZERO).unwrap(), Some(first));
}

#[test]
fn signal_after_exit_is_done() {
    let p = Reaped::spawn(exit_with(0));
    assert!(p.wait().unwrap().success());
    assert_eq!(p.kill().unwrap_err().kind(), ErrorKind::Done);
    // Go's order on Windows too: a finished process is Done before any
    // question of which signals the platform supports.
    assert_eq!(p.signal(Signal::TERM).unwrap_err().kind(), ErrorKind::Done);
}

#[test]
fn kill_is_done_after_the_process_exited_on_its_own_even_unwaited() {
    let p = Reaped::spawn(exit_with(0));
    // Let it exit without waiting through the Process.
    let give_up = std::time::Instant::now() + PATIENCE;
    while p.signal(Signal::from_raw(0)).is_ok() {
        assert!(std::time::Instant::now() < give_up, "it never exited");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(p.kill().unwrap_err().kind(), ErrorKind::Done);
    assert!(p.wait().unwrap().success());
}

#[test]
fn wait_timeout_expires_then_sees_the_kill() {
    let p = Reaped::spawn(sleeper(30));
    assert_eq!(p.wait_timeout(Duration::from_millis(50)).unwrap(), None);
    assert_eq!(p.try_wait().unwrap(), None);
    p.kill().unwrap();
    let state = p.wait_timeout(PATIENCE).unwrap().expect("exit after kill");
    assert!(!state.success());
}

#[test]
fn eight_threads_share_one_process() {
    let p = Arc::new(Reaped::spawn(sleeper(30)));
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (p, barrier) = (Arc::clone(&p), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let lent = p.with_handle(|_| ()).is_ok();
                assert_eq!(lent, capabilities().handles());
                let _ = p.try_wait().unwrap();
                if i == 0 {
                    p.kill().unwrap();
                }
                let state = p.wait_timeout(PATIENCE).unwrap().expect("exit");
                // Every later signal finds it done.
                assert_eq!(p.kill().unwrap_err().kind(), ErrorKind::Done);
                state
            })
        })
        .collect();
    let states: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(states.windows(2).all(|w| w[0] == w[1]), "{states:?}");
    assert!(!states[0].success());
}

#[test]
fn current_process_is_open_and_cannot_wait_for_itself() {
    let me = Process::current().unwrap();
    assert_eq!(me.pid(), std::process::id());
    assert_eq!(me.has_handle(), capabilities().handles());
    assert!(me.try_wait().unwrap().is_none());
    assert_eq!(me.wait().unwrap_err().kind(), ErrorKind::InvalidInput);
    assert!(me.signal(Signal::from_raw(0)).is_ok());
}

#[test]
fn into_handle_gives_the_handle_back_as_from_handle_takes_it() {
    let mut cmd = sleeper(30);
    let p = Process::spawn(cmd.stdin(std::process::Stdio::null())).expect("spawn");
    let pid = p.pid();
    match p.into_handle() {
        Ok(handle) => {
            assert!(capabilities().handles());
            let again = Reaped::new(Process::from_handle(handle).expect("from_handle"));
            assert_eq!(again.pid(), pid);
            again.kill().unwrap();
            assert!(again.wait_timeout(PATIENCE).unwrap().is_some());
        }
        Err(inner) => {
            assert!(!capabilities().handles());
            drop(Reaped::new(inner));
        }
    }
}
