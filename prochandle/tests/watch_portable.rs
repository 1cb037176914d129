//! The `Watcher` on every platform: Linux (epoll on pidfds, or re-checks
//! with `PROCHANDLE_FORCE_PID=1`) and Windows (pool waits on process
//! handles, run under Wine in CI). Only portable commands;
//! the Linux-only cases (non-children, ptrace, descriptors) are in
//! `tests/watch.rs`.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use prochandle::{Process, ProcessState, Token, Watcher};
use prochandle_test_support::{exit_with, sleeper, Reap, Reaped, PATIENCE};

const LONG: Option<Duration> = Some(PATIENCE);

/// The processes registered with a watcher under `tokens`. Guarded by
/// `Reaped`, every one still registered is taken out of the watcher, killed
/// and waited for, also when a test fails half-way.
struct Watched<'a> {
    watcher: &'a Watcher,
    tokens: Vec<Token>,
    taken: Vec<Process>,
}

impl<'a> Watched<'a> {
    fn guard(watcher: &'a Watcher) -> Reaped<Self> {
        Reaped::new(Watched {
            watcher,
            tokens: Vec::new(),
            taken: Vec::new(),
        })
    }

    fn add(&mut self, cmd: std::process::Command) -> Token {
        let token = self.watcher.add(spawn(cmd)).expect("add");
        self.tokens.push(token);
        token
    }
}

impl Reap for Watched<'_> {
    fn stop(&mut self) {
        for &token in &self.tokens {
            self.taken.extend(self.watcher.remove(token));
        }
        self.taken.stop();
    }

    fn reap(&mut self) {
        self.taken.reap();
    }
}

/// Starts `cmd` for a watcher, which owns it from then on.
fn spawn(cmd: std::process::Command) -> Process {
    Reaped::spawn(cmd).into_inner()
}

/// What `Process::kill` leaves: SIGKILL on Unix, exit code 1 on Windows.
fn assert_killed(state: &ProcessState) {
    #[cfg(unix)]
    assert_eq!(state.signal(), Some(prochandle::Signal::KILL), "{state:?}");
    #[cfg(windows)]
    assert_eq!(
        state.exit_code(),
        Some(prochandle_test_support::WINDOWS_KILL_CODE),
        "{state:?}"
    );
}

#[test]
fn each_exit_is_reported_once_with_its_code() {
    let watcher = Watcher::new().unwrap();
    let mut guard = Watched::guard(&watcher);
    let mut expected = HashMap::new();
    for code in [0u8, 3, 42] {
        expected.insert(guard.add(exit_with(code)), i32::from(code));
    }
    let mut seen = HashMap::new();
    while let Some(event) = watcher.next(LONG).unwrap() {
        let code = event.state.exit_code();
        assert!(
            seen.insert(event.token, code).is_none(),
            "{:?} reported twice",
            event.token
        );
        // The process is handed back, and agrees.
        assert_eq!(
            event.process.wait().unwrap().exit_code(),
            code,
            "{:?}",
            event.state
        );
    }
    let expected: HashMap<_, _> = expected.into_iter().map(|(t, c)| (t, Some(c))).collect();
    assert_eq!(seen, expected);
    assert!(watcher.is_empty());
    // Nothing left: returns at once, even without a timeout.
    assert!(watcher.next(None).unwrap().is_none());
}

#[test]
fn only_the_killed_ones_are_reported() {
    let watcher = Watcher::new().unwrap();
    let mut guard = Watched::guard(&watcher);
    let tokens: Vec<Token> = (0..6).map(|_| guard.add(sleeper(300))).collect();
    let victims: HashSet<Token> = tokens.iter().step_by(2).copied().collect();
    for &t in &victims {
        watcher.with_process(t, |p| p.kill()).unwrap().unwrap();
    }
    let mut reported = HashSet::new();
    for _ in 0..victims.len() {
        let event = watcher.next(LONG).unwrap().expect("an exit");
        assert_killed(&event.state);
        assert!(reported.insert(event.token), "reported twice");
    }
    assert_eq!(reported, victims);
    // The survivors are still registered, and quiet.
    assert_eq!(watcher.len(), tokens.len() - victims.len());
    assert!(watcher
        .next(Some(Duration::from_millis(300)))
        .unwrap()
        .is_none());
}

#[test]
fn next_times_out_while_nothing_exits() {
    let watcher = Watcher::new().unwrap();
    let mut guard = Watched::guard(&watcher);
    guard.add(sleeper(300));
    assert!(watcher.try_next().unwrap().is_none());
    let start = Instant::now();
    assert!(watcher
        .next(Some(Duration::from_millis(400)))
        .unwrap()
        .is_none());
    let slept = start.elapsed();
    // Timers may fire a tick early; never far early, and never hang.
    assert!(slept >= Duration::from_millis(350), "slept only {slept:?}");
    assert!(slept < PATIENCE, "slept {slept:?}");
    assert_eq!(watcher.len(), 1);
}

#[test]
fn a_process_that_exited_before_add_is_reported() {
    let watcher = Watcher::new().unwrap();
    let mut guard = Watched::guard(&watcher);
    let p = spawn(exit_with(7));
    assert_eq!(p.wait().unwrap().exit_code(), Some(7));
    let token = watcher.add(p).unwrap();
    guard.tokens.push(token);
    let event = watcher.next(LONG).unwrap().expect("the exit");
    assert_eq!(event.token, token);
    assert_eq!(event.state.exit_code(), Some(7));
}

#[test]
fn removed_processes_are_never_reported() {
    let watcher = Watcher::new().unwrap();
    let mut guard = Watched::guard(&watcher);
    let kept = guard.add(sleeper(300));
    let removed_alive = guard.add(sleeper(300));
    let removed_dead = guard.add(sleeper(300));

    // Removed while running, then killed: never reported.
    let p = watcher.remove(removed_alive).expect("registered");
    assert!(watcher.remove(removed_alive).is_none(), "removed twice");
    p.kill().unwrap();
    assert_killed(&p.wait().unwrap());

    // Killed while registered, removed once the exit has surely been
    // noticed by the OS (but not yet handed out): withdrawn, not reported.
    watcher
        .with_process(removed_dead, |p| p.kill())
        .unwrap()
        .unwrap();
    thread::sleep(Duration::from_millis(500));
    let p = watcher.remove(removed_dead).expect("still registered");
    assert_killed(&p.wait().unwrap());

    assert!(watcher
        .next(Some(Duration::from_millis(300)))
        .unwrap()
        .is_none());
    watcher.with_process(kept, |p| p.kill()).unwrap().unwrap();
    let event = watcher.next(LONG).unwrap().expect("an exit");
    assert_eq!(event.token, kept);
    assert_killed(&event.state);
    assert!(watcher.is_empty());
}

#[test]
fn a_sleeping_next_is_woken_by_exits_and_by_the_last_removal() {
    let watcher = Arc::new(Watcher::new().unwrap());
    let mut guard = Watched::guard(&watcher);
    let first = guard.add(sleeper(300));
    let second = guard.add(sleeper(300));

    let sleeper_thread = {
        let watcher = Arc::clone(&watcher);
        thread::spawn(move || {
            let event = watcher.next(LONG).unwrap().expect("an exit");
            let token = event.token;
            assert_killed(&event.state);
            // Then sleep with no limit: only the removal below can end it.
            let after = watcher.next(None).unwrap();
            (token, after.map(|e| e.token))
        })
    };
    thread::sleep(Duration::from_millis(200));
    watcher.with_process(first, |p| p.kill()).unwrap().unwrap();
    thread::sleep(Duration::from_millis(200));
    let p = watcher.remove(second).expect("registered");
    let (reported, after) = sleeper_thread.join().unwrap();
    assert_eq!(reported, first);
    assert_eq!(after, None, "the last removal ends next(None)");
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn dropping_the_watcher_with_registrations_kills_nothing() {
    let mut children: Vec<Reaped<Child>> = (0..4)
        .map(|_| Reaped::child(sleeper(300).stdin(Stdio::null())))
        .collect();
    let mut quick = Reaped::child(exit_with(5).stdin(Stdio::null()));
    {
        let watcher = Watcher::new().unwrap();
        for child in children.iter().chain([&quick]) {
            watcher.add(Process::from_child(child).unwrap()).unwrap();
        }
        // Let the quick one exit, so the watcher drops with an exit noticed
        // by the OS but never asked for.
        thread::sleep(Duration::from_millis(500));
        assert_eq!(watcher.len(), 5);
    }
    for child in &mut children {
        assert!(
            child.try_wait().unwrap().is_none(),
            "dropping a watcher must not end its processes"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // The watcher never ran a check, so the quick one is still ours to reap.
    assert_eq!(quick.wait().unwrap().code(), Some(5));
}

#[test]
fn a_hundred_and_thirty_processes_on_one_watcher() {
    // More than twice the 64 handles one Windows wait call can take.
    const N: usize = 130;
    let watcher = Watcher::new().unwrap();
    let mut guard = Watched::guard(&watcher);
    let mut expected = HashMap::new();
    for i in 0..N {
        if i % 3 == 0 {
            let code = (i % 100) as u8;
            expected.insert(guard.add(exit_with(code)), Some(i32::from(code)));
        } else {
            expected.insert(guard.add(sleeper(300)), None);
        }
    }
    assert_eq!(watcher.len(), N);
    // Kill the sleepers in an order unrelated to their registration.
    let mut sleepers: Vec<Token> = expected
        .iter()
        .filter(|(_, code)| code.is_none())
        .map(|(&t, _)| t)
        .collect();
    sleepers.sort_by_key(|t| (t.as_u64() * 7919) % 1009);
    for &t in &sleepers {
        watcher.with_process(t, |p| p.kill()).unwrap().unwrap();
    }
    let mut seen = HashSet::new();
    for _ in 0..N {
        let event = watcher.next(LONG).unwrap().expect("an exit");
        assert!(seen.insert(event.token), "{:?} reported twice", event.token);
        match expected[&event.token] {
            Some(code) => assert_eq!(event.state.exit_code(), Some(code)),
            None => assert_killed(&event.state),
        }
    }
    assert!(watcher.is_empty());
    assert!(watcher.next(None).unwrap().is_none());
}
