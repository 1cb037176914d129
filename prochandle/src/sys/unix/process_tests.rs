//! The reaping and reuse rules of the Unix state machine (`process.rs`),
//! in each tier, against the scripted OS of `fake_backend.rs`: what the
//! state machine asks of the OS is counted, not inferred from a real
//! process's behaviour.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::fake_backend::{Dirs, DirsThenKill, Fake, Handles, Pids, Scripted, Tier};
use super::process::Process;
use crate::error::ErrorKind;
use crate::state::{ExitStatus, UnknownReason};

type Scriptable<T> = Process<Fake<T>>;

/// Long enough for a waiter to have blocked; the tests stay correct
/// without it, they only cover less.
const SETTLE: Duration = Duration::from_millis(20);

/// The first and the second process to hold a PID.
const FIRST: u32 = 1;
const SECOND: u32 = 2;

fn open<T: Tier>(process: &Scripted) -> Scriptable<T> {
    Scriptable::<T>::open(process.pid()).expect("open a scripted process")
}

fn assert_done(result: crate::error::Result<()>) {
    let kind = result.expect_err("a signal to a finished process").kind();
    assert_eq!(kind, ErrorKind::Done);
}

/// However many waits, of whatever kind, before and after the exit: one
/// reaping `waitid`, and none once the state is stored.
fn reaps_exactly_once<T: Tier>() {
    let child = Scripted::child(100);
    let p = open::<T>(&child);
    assert!(p.is_child());
    assert_eq!(p.try_wait().unwrap(), None);
    assert_eq!(p.wait_until(Some(Instant::now() + SETTLE)).unwrap(), None);
    assert_eq!(child.reaps(), 0, "reaped a running child");

    child.exit(ExitStatus::Exited(3));
    let state = p.wait_until(None).unwrap().expect("an exit");
    assert_eq!(state.exit_code(), Some(3));
    for _ in 0..5 {
        assert_eq!(p.try_wait().unwrap(), Some(state));
        assert_eq!(p.wait_until(None).unwrap(), Some(state));
        assert_eq!(p.wait_until(Some(Instant::now())).unwrap(), Some(state));
    }
    assert_eq!(child.reaps(), 1);
    assert_eq!(
        child.late_reaping_calls(),
        0,
        "asked the OS again after the reap"
    );
}

/// Waiters of every kind on many threads, blocked before the exit: all see
/// the one status, and the child is reaped once.
fn concurrent_waiters_share_one_reap<T: Tier>() {
    let child = Scripted::child(100);
    let p = Arc::new(open::<T>(&child));
    let start = Arc::new(Barrier::new(9));
    let waiters: Vec<_> = (0..8)
        .map(|i| {
            let (p, start) = (p.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                loop {
                    let state = match i % 3 {
                        0 => p.wait_until(None),
                        1 => p.wait_until(Some(Instant::now() + Duration::from_millis(2))),
                        _ => p.try_wait(),
                    };
                    if let Some(state) = state.unwrap() {
                        return state;
                    }
                }
            })
        })
        .collect();
    start.wait();
    thread::sleep(SETTLE);
    child.exit(ExitStatus::Exited(9));
    let states: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(states.iter().all(|s| *s == states[0]), "{states:?}");
    assert_eq!(states[0].exit_code(), Some(9));
    assert_eq!(child.reaps(), 1);
    assert_eq!(child.late_reaping_calls(), 0);
}

/// A signal reaches a running child; once it has exited (a zombie), been
/// reaped, and its PID been given to a stranger, every signal is `Done`
/// and none reaches the OS.
fn signals_after_the_exit_are_done<T: Tier>() {
    let child = Scripted::child(100);
    let p = open::<T>(&child);
    p.signal(libc::SIGTERM).unwrap();
    assert_eq!(child.signals_to(FIRST), [libc::SIGTERM]);

    child.exit(ExitStatus::Exited(0));
    assert_done(p.signal(libc::SIGTERM));
    p.wait_until(None).unwrap().expect("an exit");
    child.reused(100);
    for sig in [0, libc::SIGTERM, libc::SIGKILL] {
        assert_done(p.signal(sig));
    }
    assert_eq!(child.signals(), 1, "a signal after the exit reached the OS");
}

/// A process that is not ours exits, its parent reaps it and its PID goes
/// to a process started later: it is reported gone, and the newcomer is
/// never signalled.
fn a_reused_pid_is_gone_and_never_signalled<T: Tier>() {
    let stranger = Scripted::stranger(100);
    let p = open::<T>(&stranger);
    assert!(!p.is_child());
    p.signal(0).unwrap();
    assert_eq!(stranger.signals_to(FIRST), [0]);
    assert_eq!(p.try_wait().unwrap(), None);

    stranger.exit(ExitStatus::Exited(1));
    stranger.reaped_by_parent();
    stranger.reused(200);
    for sig in [0, libc::SIGTERM, libc::SIGKILL] {
        assert_done(p.signal(sig));
    }
    assert_eq!(
        stranger.signals_to(SECOND),
        [0; 0],
        "signalled the newcomer"
    );
    let gone = p.try_wait().unwrap().expect("reported gone");
    // Only the parent learns a stranger's status (no PIDFD_INFO_EXIT here).
    assert_eq!(
        gone.status(),
        ExitStatus::Unknown(UnknownReason::NotOurChild)
    );
    assert_eq!(p.wait_until(None).unwrap(), Some(gone));
}

/// The pins that are exact (a handle, a directory) tell the newcomer from
/// the process even when both started in the same clock tick, where a
/// start time cannot: the newcomer is never signalled.
fn an_exact_pin_tells_a_newcomer_of_the_same_tick<T: Tier>() {
    let stranger = Scripted::stranger(100);
    let p = open::<T>(&stranger);
    stranger.exit(ExitStatus::Exited(1));
    stranger.reaped_by_parent();
    stranger.reused(100);
    for sig in [0, libc::SIGTERM, libc::SIGKILL] {
        assert!(p.signal(sig).is_err(), "signal {sig} was sent");
    }
    assert_eq!(stranger.signals(), 0, "signalled the newcomer");
    let gone = p.try_wait().unwrap().expect("reported gone");
    assert_eq!(
        gone.status(),
        ExitStatus::Unknown(UnknownReason::NotOurChild)
    );
}

/// The guarded PID of a running stranger whose start time no longer
/// matches (the PID changed hands between two looks) is gone, whoever
/// holds the PID now: no signal, an exit reported.
fn a_changed_start_time_is_another_process<T: Tier>() {
    let stranger = Scripted::stranger(100);
    let p = open::<T>(&stranger);
    stranger.reaped_by_parent();
    stranger.reused(101);
    assert_done(p.signal(libc::SIGKILL));
    assert_eq!(stranger.signals(), 0);
    assert!(p.wait_until(Some(Instant::now())).unwrap().is_some());
}

/// One `#[test]` per tier for each rule.
macro_rules! in_tiers {
    ($rule:ident: $($tier:ident),*) => {
        mod $rule {
            $(
                #[test]
                #[allow(non_snake_case)]
                fn $tier() {
                    super::$rule::<super::$tier>();
                }
            )*
        }
    };
}

in_tiers!(reaps_exactly_once: Handles, Dirs, DirsThenKill, Pids);
in_tiers!(concurrent_waiters_share_one_reap: Handles, Dirs, DirsThenKill, Pids);
in_tiers!(signals_after_the_exit_are_done: Handles, Dirs, DirsThenKill, Pids);
in_tiers!(a_reused_pid_is_gone_and_never_signalled: Handles, Dirs, DirsThenKill, Pids);
in_tiers!(an_exact_pin_tells_a_newcomer_of_the_same_tick: Handles, Dirs, DirsThenKill);
in_tiers!(a_changed_start_time_is_another_process: Pids);
