//! The keeper mechanism (`MechanismKind::Keeper`): each member spawned
//! with `spawn_command` is the child of a keeper of its own, the child
//! subreaper of its tree. Forced here (as root the default would be a
//! cgroup); `scope_owner_dies.rs` kills the owner, as root and as
//! `nobody`, for whom it is the default.
#![cfg(target_os = "linux")]

use std::time::Duration;

use prochandle::{MechanismKind, Process, Scope, ScopeCommand, ScopeOptions, Signal};
use prochandle_test_support::{eventually, serial, TreeMark, TREE_MARK_ENV};

/// `sh -c SCRIPT` as a scope command, marked with `mark`.
fn sh(mark: &TreeMark, script: &str) -> ScopeCommand {
    let mut command = ScopeCommand::new("sh");
    command
        .args(["-c", script])
        .env(TREE_MARK_ENV, mark.value());
    command
}

/// The PPID of the live process `pid`, from `/proc`.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}

/// A keeper scope; `None` in the tiers without pidfds, after checking that
/// the keeper is refused there, and why (its members are not our
/// children: their exit statuses need the kernel's record).
fn keeper_scope_with(options: ScopeOptions) -> Option<Scope> {
    let options = options.mechanism(MechanismKind::Keeper);
    if prochandle_test_support::forced_pid_mode() {
        let err = options.create().unwrap_err();
        assert!(err.to_string().contains("PIDFD_INFO_EXIT"), "{err}");
        return None;
    }
    Some(options.create().unwrap())
}

/// A `sleep` that left with `setsid` and one that stayed (the first
/// child, returned), both running.
fn escaper_and_sleep(scope: &Scope, mark: &TreeMark) -> Process {
    let first = scope
        .spawn_command(&sh(mark, "(setsid sleep 900 &); exec sleep 900"))
        .unwrap();
    eventually("two live processes", || {
        (mark.live().len() == 2).then_some(())
    });
    first
}

/// The scope's members are exactly the marked tree (escapers included);
/// its kill leaves none of it, the first child dies by `SIGKILL`, and the
/// scope is empty.
fn members_are_the_tree_and_die_with_the_kill(scope: &Scope, mark: &TreeMark, first: &Process) {
    let mut listed: Vec<u32> = scope.members().unwrap().iter().map(Process::pid).collect();
    listed.sort_unstable();
    let mut live = mark.live();
    live.sort_unstable();
    assert_eq!(listed, live, "the escapers are members");
    scope.kill().unwrap();
    assert!(mark.live().is_empty(), "survivors: {:?}", mark.live());
    assert_eq!(first.wait().unwrap().signal(), Some(Signal::KILL));
    assert!(scope.is_empty().unwrap());
}

fn keeper_scope() -> Option<Scope> {
    keeper_scope_with(ScopeOptions::new())
}

#[test]
fn a_kept_member_is_the_keepers_child_and_its_status_comes_back() {
    let _serial = serial();
    let Some(scope) = keeper_scope() else { return };
    let mark = TreeMark::new();
    // The member waits on a pipe we hold, so it is alive while we look.
    let (reader, writer) = std::io::pipe().unwrap();
    let mut command = sh(&mark, "read _; exit 3");
    command.stdin(prochandle::ChildStdio::Fd(reader.into()));
    let member = scope.spawn_command(&command).unwrap();
    drop(command);
    let keeper = parent_of(member.pid()).expect("the member's parent");
    assert_ne!(keeper, std::process::id(), "the member is not our child");
    assert_eq!(parent_of(keeper), Some(std::process::id()), "the keeper is");
    drop(writer);
    let state = member.wait().unwrap();
    assert_eq!(state.exit_code(), Some(3), "{state}");
    // The keeper exits once its tree is gone, and the scope reaps it.
    assert!(scope.wait_empty_timeout(Duration::from_secs(10)).unwrap());
    eventually("the keeper to go", || {
        let _ = scope.members();
        parent_of(keeper).is_none().then_some(())
    });
}

#[test]
fn a_setsid_escaper_stays_in_a_kept_tree_and_dies_with_the_kill() {
    let _serial = serial();
    let Some(scope) = keeper_scope() else { return };
    assert!(scope.mechanism().kind().holds_setsid());
    let mark = TreeMark::new();
    let first = scope
        .spawn_command(&sh(
            &mark,
            "(setsid sh -c 'sleep 900 & exec sleep 900' </dev/null >/dev/null 2>&1 &); exec sleep 900",
        ))
        .unwrap();
    eventually("three live processes", || {
        (mark.live().len() == 3).then_some(())
    });
    members_are_the_tree_and_die_with_the_kill(&scope, &mark, &first);
}

#[test]
fn a_kept_tree_is_signalled_and_a_missing_program_is_an_error() {
    let _serial = serial();
    let Some(scope) = keeper_scope() else { return };
    let err = scope
        .spawn_command(&ScopeCommand::new("/nonexistent/program"))
        .unwrap_err();
    assert_eq!(err.kind(), prochandle::ErrorKind::NotFound, "{err}");
    let mark = TreeMark::new();
    let first = scope
        .spawn_command(&sh(&mark, "sleep 900 & exec sleep 900"))
        .unwrap();
    eventually("two live processes", || {
        (mark.live().len() == 2).then_some(())
    });
    scope.signal(Signal::TERM).unwrap();
    assert!(mark.wait_gone(Duration::from_secs(10)).is_empty());
    assert_eq!(first.wait().unwrap().signal(), Some(Signal::TERM));
}

#[test]
fn a_kept_tree_is_frozen_and_thawed_by_sweeps() {
    let _serial = serial();
    let Some(scope) = keeper_scope() else { return };
    let mark = TreeMark::new();
    scope
        .spawn_command(&sh(
            &mark,
            "(setsid sleep 900 &); sleep 900 & exec sleep 900",
        ))
        .unwrap();
    eventually("three live processes", || {
        (mark.live().len() == 3).then_some(())
    });
    scope.freeze().unwrap();
    assert!(scope.is_frozen().unwrap());
    scope.thaw().unwrap();
    assert!(!scope.is_frozen().unwrap());
    let stats = scope.stats().unwrap();
    assert_eq!(stats.live.known(), Some(&3), "{stats:?}");
    assert!(stats.cpu_user.known().is_some(), "{stats:?}");
    scope.kill().unwrap();
    assert!(mark.live().is_empty());
}

#[test]
fn a_kept_tree_left_by_a_scope_not_killed_on_drop_lives_on() {
    let _serial = serial();
    let Some(scope) = keeper_scope_with(ScopeOptions::new().kill_on_drop(false)) else {
        return;
    };
    let mark = TreeMark::new();
    let first = escaper_and_sleep(&scope, &mark);
    drop(scope);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(mark.live().len(), 2, "the tree lives on");
    assert!(!first.has_exited().unwrap());
    // The mark's drop ends the tree.
}

#[test]
fn dropping_a_kept_scope_kills_its_tree_and_leaves_no_keeper() {
    let _serial = serial();
    let Some(scope) = keeper_scope() else { return };
    let mark = TreeMark::new();
    let first = escaper_and_sleep(&scope, &mark);
    let keeper = parent_of(first.pid()).unwrap();
    drop(scope);
    assert!(mark.live().is_empty(), "survivors: {:?}", mark.live());
    assert_eq!(parent_of(keeper), None, "the keeper was reaped");
    assert_eq!(first.wait().unwrap().signal(), Some(Signal::KILL));
}

const IGNORES_SIGCHLD_ENV: &str = "PROCHANDLE_KEEPER_OWNER_IGNORES_SIGCHLD";

/// An owner that ignores `SIGCHLD` (the kernel reaps its children at once,
/// so their PIDs could name strangers) is refused a kept spawn, as every
/// spawn of the crate, and no keeper or member is left. Played in a
/// re-executed copy of this binary, whose disposition nothing else shares.
#[test]
fn an_owner_that_ignores_sigchld_is_refused_and_nothing_is_left() {
    if std::env::var_os(IGNORES_SIGCHLD_ENV).is_some() {
        let scope = keeper_scope().expect("a keeper scope");
        // SAFETY: setting a disposition in this single-test process.
        unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
        let err = scope
            .spawn_command(ScopeCommand::new("sleep").arg("900"))
            .unwrap_err();
        let children = std::fs::read_to_string("/proc/thread-self/children").unwrap();
        println!(
            "REPORT kind={:?} children={:?}",
            err.kind(),
            children.trim()
        );
        return;
    }
    let _serial = serial();
    if keeper_scope().is_none() {
        return;
    }
    let test = "an_owner_that_ignores_sigchld_is_refused_and_nothing_is_left";
    let out = prochandle_test_support::reexec(test, IGNORES_SIGCHLD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("REPORT kind=Unsupported children=\"\""),
        "{stdout}"
    );
}

/// `Scope::spawn` with std's `Command` is kept too: std's child becomes
/// the keeper and forks the member, which runs the program with every
/// setting of the command (here: a working directory, a variable, a file
/// as standard output).
#[test]
fn a_std_command_is_kept_with_its_settings() {
    let _serial = serial();
    let Some(scope) = keeper_scope() else { return };
    let mark = TreeMark::new();
    let out = std::env::temp_dir().join(format!("prochandle-kept-{}", mark.value()));
    let mut command = std::process::Command::new("sh");
    command
        .args([
            "-c",
            "echo \"$PWD $KEPT\"; (setsid sleep 900 &); exec sleep 900",
        ])
        .current_dir("/")
        .env("KEPT", "yes")
        .stdout(std::fs::File::create(&out).unwrap());
    mark.apply(&mut command);
    let first = scope.spawn(&mut command).unwrap();
    eventually("two live processes", || {
        (mark.live().len() == 2).then_some(())
    });
    let keeper = parent_of(first.pid()).unwrap();
    assert_ne!(keeper, std::process::id(), "the member is not our child");
    assert_eq!(parent_of(keeper), Some(std::process::id()), "the keeper is");
    let written = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    assert_eq!(written, "/ yes\n");
    members_are_the_tree_and_die_with_the_kill(&scope, &mark, &first);
}

/// Every child of this process (all its threads'), by PID.
fn our_children() -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out.sort_unstable();
    out
}

/// A program std cannot run is std's error, and neither keeper nor member
/// is left; the same command spawned again (its old hook stays on it)
/// runs once, kept, with its status.
#[test]
fn a_std_command_that_cannot_run_leaves_nothing_and_a_reused_one_runs() {
    let _serial = serial();
    let Some(scope) = keeper_scope() else { return };
    let before = our_children();
    let err = scope
        .spawn(&mut std::process::Command::new("/nonexistent/program"))
        .unwrap_err();
    assert_eq!(err.kind(), prochandle::ErrorKind::NotFound, "{err}");
    assert_eq!(our_children(), before, "the failed spawn left a child");
    let mut command = std::process::Command::new("sh");
    command.args(["-c", "exit 5"]);
    for _ in 0..2 {
        let member = scope.spawn(&mut command).unwrap();
        assert_eq!(member.wait().unwrap().exit_code(), Some(5));
    }
    assert!(scope.wait_empty_timeout(Duration::from_secs(10)).unwrap());
}
