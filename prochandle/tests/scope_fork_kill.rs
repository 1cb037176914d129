//! `Scope::kill` of a tree that forks while it is being killed, in every
//! Linux mode: a kill repeats until a pass finds nobody, so it returns
//! within a bound and nothing of the tree survives. (A kill that signalled
//! once the members it listed, then waited for emptiness, never returned:
//! each child forked during the pass kept the scope populated.)
//!
//! Every tree carries a [`TreeMark`]: survivors are counted as the live
//! processes of that tree, and whatever a failing test leaves is killed
//! before the test reports, and the first child reaped.
#![cfg(target_os = "linux")]

use std::process::Command;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use prochandle::{MechanismKind, ScopeCommand};
use prochandle_test_support::{eventually, scope_of, TreeMark};

/// Far beyond what a kill takes (milliseconds), far below a hang.
const BOUND: Duration = Duration::from_secs(30);

/// Forks without pause: a background `sleep` of its own, and one orphaned
/// by a subshell that exits at once, every millisecond.
const FORK_LOOP: &str = "while :; do sleep 900 & (sleep 900 &); sleep 0.001; done";

fn a_forking_tree_is_killed(kind: MechanismKind) {
    // `cargo test` runs these tests as threads of one process, where the
    // subreaper flag is process-wide: one at a time, so that no tree's
    // orphans are adopted (and swept) by another test's scope.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(scope) = scope_of(kind) else { return };
    let scope = Arc::new(scope);
    let mark = TreeMark::new();
    let first = if kind == MechanismKind::Keeper {
        // The keeper holds what `spawn_command` starts.
        let mut command = ScopeCommand::new("sh");
        command
            .args(["-c", FORK_LOOP])
            .env(prochandle_test_support::TREE_MARK_ENV, mark.value());
        scope.spawn_command(&command).unwrap()
    } else {
        let mut command = Command::new("sh");
        command.args(["-c", FORK_LOOP]);
        mark.apply(&mut command);
        scope.spawn(&mut command).unwrap()
    };
    eventually("the loop to start 20 sleeps", || {
        (mark.live().len() > 20).then_some(())
    });

    let (done, outcome) = mpsc::channel();
    let killer = {
        let scope = Arc::clone(&scope);
        std::thread::spawn(move || done.send(scope.kill()))
    };
    let outcome = outcome.recv_timeout(BOUND);
    let survivors = mark.live();
    // Cleanup before any verdict: the mark kills what is left (which also
    // lets a hung kill return), then the killer and the first child end.
    drop(mark);
    killer.join().unwrap().ok();
    let state = first.wait().unwrap();

    let outcome = outcome.unwrap_or_else(|_| panic!("{kind}: kill did not return in {BOUND:?}"));
    outcome.unwrap();
    assert!(survivors.is_empty(), "{kind}: survivors {survivors:?}");
    assert_eq!(state.signal(), Some(prochandle::Signal::KILL), "{state}");
    assert!(scope.is_empty().unwrap());
}

#[test]
fn a_forking_tree_is_killed_by_cgroup_kill() {
    a_forking_tree_is_killed(MechanismKind::Cgroup);
}

#[test]
fn a_forking_tree_is_killed_by_freezing_its_cgroup() {
    a_forking_tree_is_killed(MechanismKind::CgroupFreeze);
}

#[test]
fn a_forking_tree_is_killed_by_subreaper_sweeps() {
    a_forking_tree_is_killed(MechanismKind::Subreaper);
}

#[test]
fn a_forking_tree_is_killed_in_its_process_group() {
    a_forking_tree_is_killed(MechanismKind::ProcessGroup);
}

#[test]
fn a_forking_tree_is_killed_by_its_keeper() {
    if prochandle_test_support::forced_pid_mode() {
        // No keeper without handles: its members' statuses would be lost.
        let options = prochandle::ScopeOptions::new().mechanism(MechanismKind::Keeper);
        assert!(options.create().is_err());
        return;
    }
    a_forking_tree_is_killed(MechanismKind::Keeper);
}
