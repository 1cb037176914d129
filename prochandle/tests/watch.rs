//! The `Watcher`: many processes, children or not, each exit reported once.
//! Runs in both modes (pidfds, and `PROCHANDLE_FORCE_PID=1`).
#![cfg(target_os = "linux")]

use std::collections::HashSet;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prochandle::{
    capabilities, ErrorKind, ExitStatus, Feature, Process, Signal, UnknownReason, Watcher,
};
use prochandle_test_support::{open_fds, proc_parent, skip, Grandchildren, Reaped};

/// A `sleep SECS` to hand to a watcher, which owns it from then on.
fn sleeping_child(secs: u32) -> Process {
    Reaped::sleeping(secs).into_inner()
}

const LONG: Option<Duration> = Some(Duration::from_secs(30));

#[test]
fn children_are_reported_with_full_status() {
    let watcher = Watcher::new().unwrap();
    let ok = watcher
        .add(Process::spawn(Command::new("sh").args(["-c", "exit 0"])).unwrap())
        .unwrap();
    let three = watcher
        .add(Process::spawn(Command::new("sh").args(["-c", "exit 3"])).unwrap())
        .unwrap();
    let mut seen = Vec::new();
    while let Some(event) = watcher.next(LONG).unwrap() {
        assert!(event.process.is_child());
        assert!(event.state.usage().is_some(), "a reaped child has rusage");
        let expected = if event.token == ok { 0 } else { 3 };
        assert_eq!(event.state.exit_code(), Some(expected), "{:?}", event.state);
        // The event hands back a usable Process: waiting again gives the same.
        assert_eq!(event.process.wait().unwrap().exit_code(), Some(expected));
        seen.push(event.token);
    }
    seen.sort();
    assert_eq!(seen, vec![ok, three]);
    assert!(watcher.is_empty());
}

#[test]
fn only_the_killed_ones_are_reported() {
    let watcher = Watcher::new().unwrap();
    let mut tokens = Vec::new();
    for _ in 0..6 {
        tokens.push(watcher.add(sleeping_child(300)).unwrap());
    }
    let victims: HashSet<_> = tokens.iter().step_by(2).copied().collect();
    for &t in &victims {
        watcher.with_process(t, |p| p.kill()).unwrap().unwrap();
    }
    let mut reported = HashSet::new();
    for _ in 0..victims.len() {
        let event = watcher.next(LONG).unwrap().expect("an exit");
        assert_eq!(event.state.signal(), Some(Signal::KILL));
        assert!(reported.insert(event.token), "reported twice");
    }
    assert_eq!(reported, victims);
    // The survivors are still running: nothing more to report.
    assert!(watcher
        .next(Some(Duration::from_millis(150)))
        .unwrap()
        .is_none());
    assert_eq!(watcher.len(), tokens.len() - victims.len());
    for t in tokens {
        if let Some(p) = watcher.remove(t) {
            p.kill().unwrap();
            p.wait().unwrap();
        }
    }
    assert!(watcher.is_empty());
}

#[test]
fn non_children_are_reported_without_reaping() {
    let family = Grandchildren::sleeping(4);
    let watcher = Watcher::new().unwrap();
    let mut by_token = Vec::new();
    for &pid in &family.pids {
        let process = Process::open(pid).unwrap();
        assert!(!process.is_child());
        by_token.push((watcher.add(process).unwrap(), pid));
    }
    let (victim_token, victim_pid) = by_token[1];
    watcher
        .with_process(victim_token, |p| p.kill())
        .unwrap()
        .unwrap();
    let event = watcher.next(LONG).unwrap().expect("an exit");
    assert_eq!(event.token, victim_token);
    assert_eq!(event.process.pid(), victim_pid);
    assert!(event.state.usage().is_none(), "we did not reap it");
    // Its status: known once the shell has reaped it, where the kernel keeps
    // it (PIDFD_INFO_EXIT); `wait` on the handed-back process waits for that.
    let state = event.process.wait().unwrap();
    if event.process.has_handle() && capabilities().is_available(Feature::PidfdInfoExit) {
        assert_eq!(state.signal(), Some(Signal::KILL), "{state:?}");
    } else {
        assert!(
            matches!(state.status(), ExitStatus::Unknown(_)),
            "{state:?}"
        );
    }
    assert!(watcher.try_next().unwrap().is_none());
    assert_eq!(watcher.len(), 3);
}

#[test]
fn a_process_that_already_exited_is_reported() {
    let p = Process::spawn(&mut Command::new("true")).unwrap();
    // Let it exit (unreaped) before it is added.
    std::thread::sleep(Duration::from_millis(50));
    let watcher = Watcher::new().unwrap();
    let token = watcher.add(p).unwrap();
    let event = watcher.next(LONG).unwrap().expect("an exit");
    assert_eq!(event.token, token);
    assert!(event.state.success());
}

#[test]
fn try_next_and_timeouts_do_not_report_the_living() {
    let watcher = Watcher::new().unwrap();
    let token = watcher.add(sleeping_child(300)).unwrap();
    assert!(watcher.try_next().unwrap().is_none());
    let start = Instant::now();
    assert!(watcher
        .next(Some(Duration::from_millis(120)))
        .unwrap()
        .is_none());
    assert!(start.elapsed() >= Duration::from_millis(120));
    let p = watcher.remove(token).unwrap();
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn removed_processes_are_never_reported() {
    let watcher = Watcher::new().unwrap();
    let keep = watcher.add(sleeping_child(300)).unwrap();
    let gone = watcher.add(sleeping_child(300)).unwrap();
    let p = watcher.remove(gone).unwrap();
    p.kill().unwrap();
    p.wait().unwrap();
    assert!(watcher.remove(gone).is_none());
    assert!(watcher
        .next(Some(Duration::from_millis(150)))
        .unwrap()
        .is_none());

    // Removing after the exit was found but before it was returned.
    let found = watcher
        .add(Process::spawn(&mut Command::new("true")).unwrap())
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let p = watcher.remove(found).expect("still ours to take back");
    assert!(p.wait().unwrap().success());
    assert!(watcher
        .next(Some(Duration::from_millis(150)))
        .unwrap()
        .is_none());

    let p = watcher.remove(keep).unwrap();
    p.kill().unwrap();
    p.wait().unwrap();
    assert!(
        watcher.next(None).unwrap().is_none(),
        "empty: returns at once"
    );
}

#[test]
fn many_processes_each_reported_exactly_once() {
    const COUNT: usize = 150;
    let family = Grandchildren::sleeping(COUNT);
    let watcher = Watcher::new().unwrap();
    let mut expected = HashSet::new();
    for &pid in &family.pids {
        expected.insert(watcher.add(Process::open(pid).unwrap()).unwrap());
    }
    let mut children = HashSet::new();
    for _ in 0..50 {
        children.insert(watcher.add(sleeping_child(300)).unwrap());
    }
    // Kill everything from another thread while this one collects.
    let pids = family.pids.clone();
    let killer = std::thread::spawn(move || {
        for pid in pids {
            Process::open(pid).unwrap().kill().unwrap();
        }
    });
    for &t in &children {
        watcher.with_process(t, |p| p.kill()).unwrap().unwrap();
    }
    expected.extend(children.iter().copied());
    let mut reported = HashSet::new();
    while reported.len() < expected.len() {
        let event = watcher.next(LONG).unwrap().expect("an exit within 30 s");
        assert!(reported.insert(event.token), "{:?} twice", event.token);
    }
    killer.join().unwrap();
    assert_eq!(reported, expected);
    assert!(watcher.is_empty());
    assert!(watcher.next(None).unwrap().is_none());
}

#[test]
fn a_sleeping_next_sees_processes_added_later() {
    let watcher = Arc::new(Watcher::new().unwrap());
    // Something registered, so that `next(None)` sleeps.
    let anchor = watcher.add(sleeping_child(300)).unwrap();
    let waiter = {
        let watcher = Arc::clone(&watcher);
        std::thread::spawn(move || watcher.next(LONG).unwrap())
    };
    std::thread::sleep(Duration::from_millis(100));
    let late = watcher
        .add(Process::spawn(&mut Command::new("true")).unwrap())
        .unwrap();
    let event = waiter.join().unwrap().expect("the late process's exit");
    assert_eq!(event.token, late);

    // A sleeping `next(None)` returns when the last process is removed.
    let waiter = {
        let watcher = Arc::clone(&watcher);
        std::thread::spawn(move || watcher.next(None).unwrap().is_none())
    };
    std::thread::sleep(Duration::from_millis(100));
    let p = watcher.remove(anchor).unwrap();
    assert!(waiter.join().unwrap());
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
fn several_threads_share_the_events() {
    const COUNT: usize = 40;
    let watcher = Arc::new(Watcher::new().unwrap());
    let mut tokens = HashSet::new();
    for _ in 0..COUNT {
        tokens.insert(watcher.add(sleeping_child(300)).unwrap());
    }
    let collectors: Vec<_> = (0..3)
        .map(|_| {
            let watcher = Arc::clone(&watcher);
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(event) = watcher.next(LONG).unwrap() {
                    got.push(event.token);
                }
                got
            })
        })
        .collect();
    for &t in &tokens {
        watcher.with_process(t, |p| p.kill()).unwrap().unwrap();
    }
    let mut all = Vec::new();
    for c in collectors {
        all.extend(c.join().unwrap());
    }
    assert_eq!(all.len(), COUNT, "every exit once, none twice");
    assert_eq!(all.into_iter().collect::<HashSet<_>>(), tokens);
}

#[test]
fn watching_oneself_is_refused_and_the_process_returned() {
    let watcher = Watcher::new().unwrap();
    let err = watcher.add(Process::current().unwrap()).unwrap_err();
    assert_eq!(err.error().kind(), ErrorKind::InvalidInput);
    assert_eq!(err.into_process().pid(), std::process::id());
    assert!(watcher.is_empty());
}

#[test]
fn dropping_a_watcher_closes_everything_and_kills_nothing() {
    let survivor = Reaped::sleeping(300);
    let survivor_pid = survivor.pid();
    let family = Grandchildren::sleeping(3);
    let baseline = open_fds();
    let child_pid;
    {
        let watcher = Watcher::new().unwrap();
        for &pid in &family.pids {
            watcher.add(Process::open(pid).unwrap()).unwrap();
        }
        let child = sleeping_child(300);
        child_pid = child.pid();
        watcher.add(child).unwrap();
        let _ = watcher.try_next().unwrap();
    }
    assert_eq!(
        open_fds(),
        baseline,
        "the watcher and its processes' handles are closed"
    );
    // The processes it held are untouched: still running.
    for &pid in &family.pids {
        let p = Process::open(pid).unwrap();
        assert!(p.try_wait().unwrap().is_none());
    }
    assert!(survivor.try_wait().unwrap().is_none());
    // Dropped, not reaped: our child is still ours to reap.
    let child = Reaped::new(Process::open(child_pid).unwrap());
    assert!(child.is_child());
    assert!(child.try_wait().unwrap().is_none());
    child.kill().unwrap();
    child.wait().unwrap();
    survivor.kill().unwrap();
    assert_eq!(survivor.wait().unwrap().pid(), survivor_pid);
    drop(family);
}

#[test]
fn pid_mode_processes_are_watched_by_rechecks() {
    let watcher = Watcher::new().unwrap();
    let p = sleeping_child(300);
    assert_eq!(p.has_handle(), capabilities().handles());
    let token = watcher.add(p).unwrap();
    assert!(watcher.try_next().unwrap().is_none());
    watcher.with_process(token, |p| p.kill()).unwrap().unwrap();
    let event = watcher.next(LONG).unwrap().expect("an exit");
    assert_eq!(event.token, token);
    assert_eq!(event.state.signal(), Some(Signal::KILL));
    if !capabilities().handles() {
        // In the guarded-PID mode nothing wakes the watcher but its own
        // re-checks; it still saw the exit, with the full status.
        assert!(event.state.usage().is_some());
    }
}

#[test]
fn a_non_child_reaped_by_its_parent_keeps_a_truthful_state() {
    let family = Grandchildren::sleeping(1);
    let watcher = Watcher::new().unwrap();
    let token = watcher.add(Process::open(family.pids[0]).unwrap()).unwrap();
    watcher
        .with_process(token, |p| p.signal(Signal::TERM))
        .unwrap()
        .unwrap();
    let event = watcher.next(LONG).unwrap().expect("an exit");
    match event.state.status() {
        ExitStatus::Signaled { signal, .. } => assert_eq!(signal, Signal::TERM),
        ExitStatus::Unknown(UnknownReason::NotReapedYet | UnknownReason::NotOurChild) => {}
        other => panic!("unexpected {other:?}"),
    }
}

/// Under ptrace a pidfd's readiness can be spurious (tokio#7144): the
/// watcher re-checks, so a traced and stopped process is not reported as
/// exited, and its real exit still is.
#[test]
fn a_traced_process_is_reported_only_when_it_exits() {
    let family = Grandchildren::sleeping(1);
    let pid = family.pids[0] as libc::pid_t;
    // SAFETY: PTRACE_SEIZE takes a PID and no pointers.
    let seized = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, 0usize) };
    if seized != 0 {
        let err = std::io::Error::last_os_error();
        return skip(&format!("PTRACE_SEIZE failed ({err})"));
    }
    // Stop it, and collect the stop as its tracer.
    // SAFETY: PTRACE_INTERRUPT takes a PID and no pointers.
    let interrupted = unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0usize, 0usize) };
    assert_eq!(interrupted, 0);
    let mut status = 0;
    // SAFETY: waitpid writes one int into `status`.
    let waited = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    assert_eq!(waited, pid);
    assert!(libc::WIFSTOPPED(status));

    let watcher = Watcher::new().unwrap();
    let token = watcher.add(Process::open(pid as u32).unwrap()).unwrap();
    assert!(
        watcher
            .next(Some(Duration::from_millis(200)))
            .unwrap()
            .is_none(),
        "stopped under ptrace is not exited"
    );
    // SAFETY: kill takes two integers; the tracee cannot be reaped (and its
    // PID reused) before its tracer, this thread, has waited for it.
    let killed = unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(killed, 0);
    let event = watcher.next(LONG).unwrap().expect("its exit");
    assert_eq!(event.token, token);
    // As its tracer, collect its exit so that its parent can reap it.
    // SAFETY: as above.
    unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
}

/// Stops or resumes the shell, our own unreaped child (so its PID is ours).
fn signal_shell(pid: i32, signal: i32) {
    // SAFETY: kill takes two integers.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// With `await_exit_status`, an exit seen before the parent reaps is held
/// back, and reported with its status once the parent does reap it.
#[test]
fn awaiting_the_status_reports_it_once_the_parent_reaps() {
    let family = Grandchildren::sleeping(1);
    let shell = proc_parent(family.pids[0]).expect("alive") as i32;
    let watcher = Watcher::new().unwrap().await_exit_status(true);
    let token = watcher.add(Process::open(family.pids[0]).unwrap()).unwrap();
    signal_shell(shell, libc::SIGSTOP);
    watcher
        .with_process(token, |p| p.signal(Signal::TERM))
        .unwrap()
        .unwrap();
    let resume = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(60));
        signal_shell(shell, libc::SIGCONT);
    });
    let event = watcher.next(LONG).unwrap().expect("an exit");
    resume.join().unwrap();
    assert_eq!(event.token, token);
    let knowable =
        event.process.has_handle() && capabilities().is_available(Feature::PidfdInfoExit);
    match event.state.status() {
        ExitStatus::Signaled { signal, .. } => assert_eq!(signal, Signal::TERM),
        ExitStatus::Unknown(UnknownReason::NotOurChild) if !knowable => {}
        other => panic!("unexpected {other:?} (status knowable: {knowable})"),
    }
}

/// A parent that does not reap within the grace: the exit is reported
/// after it, even past `next`'s timeout, never as a timeout; `try_next`
/// does not wait for it.
#[test]
fn awaiting_the_status_gives_up_after_the_grace() {
    let family = Grandchildren::sleeping(1);
    let shell = proc_parent(family.pids[0]).expect("alive") as i32;
    let watcher = Watcher::new().unwrap().await_exit_status(true);
    let token = watcher.add(Process::open(family.pids[0]).unwrap()).unwrap();
    signal_shell(shell, libc::SIGSTOP);
    let start = Instant::now();
    watcher
        .with_process(token, |p| p.signal(Signal::KILL))
        .unwrap()
        .unwrap();
    let knowable = capabilities().handles() && capabilities().is_available(Feature::PidfdInfoExit);
    if knowable {
        std::thread::sleep(Duration::from_millis(20));
        assert!(watcher.try_next().unwrap().is_none(), "held back");
        assert_eq!(watcher.len(), 1);
    }
    let event = watcher
        .next(Some(Duration::from_millis(10)))
        .unwrap()
        .expect("an exit already seen is reported, not timed out");
    assert_eq!(event.token, token);
    if knowable {
        assert_eq!(
            event.state.status(),
            ExitStatus::Unknown(UnknownReason::NotReapedYet)
        );
        assert!(start.elapsed() >= Duration::from_millis(200));
    } else {
        assert_eq!(
            event.state.status(),
            ExitStatus::Unknown(UnknownReason::NotOurChild)
        );
    }
    assert!(watcher.is_empty());
    signal_shell(shell, libc::SIGCONT);
}
