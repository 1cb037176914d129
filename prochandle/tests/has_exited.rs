//! `Process::has_exited`: an exit seen without reaping, so the status is
//! still there for `wait`.

use prochandle::{ExitStatus, Process, Signal};
use prochandle_test_support::{eventually, exit_with, sleeper, Reaped};

#[test]
fn an_exited_child_is_reported_and_can_still_be_waited_for() {
    let p = Reaped::spawn(exit_with(3));
    eventually("the child to exit", || {
        p.has_exited().unwrap().then_some(())
    });
    // Asked again: looking reaps nothing, the answer stays.
    assert!(p.has_exited().unwrap());
    #[cfg(unix)]
    assert_eq!(
        prochandle_test_support::procfs::proc_state(p.pid()),
        Some('Z'),
        "has_exited must leave the child a zombie"
    );
    let state = p.wait().unwrap();
    assert_eq!(state.status(), ExitStatus::Exited(3));
    assert!(p.has_exited().unwrap(), "reaped by us: still exited");
}

#[test]
fn a_running_child_has_not_exited_until_it_is_killed() {
    let p = Reaped::spawn(sleeper(30));
    assert!(!p.has_exited().unwrap());
    p.kill().unwrap();
    eventually("the killed child to exit", || {
        p.has_exited().unwrap().then_some(())
    });
    let state = p.wait().unwrap();
    #[cfg(unix)]
    assert_eq!(state.signal(), Some(Signal::KILL));
    #[cfg(windows)]
    let _ = (state, Signal::KILL);
}

#[test]
fn this_process_has_not_exited() {
    assert!(!Process::current().unwrap().has_exited().unwrap());
}

#[cfg(unix)]
#[test]
fn a_non_child_is_reported_once_it_exits() {
    let group = prochandle_test_support::Grandchildren::sleeping(1);
    let member = &group.members()[0];
    assert!(!member.is_child());
    assert!(!member.has_exited().unwrap());
    member.kill().unwrap();
    eventually("the non-child to exit", || {
        member.has_exited().unwrap().then_some(())
    });
}
