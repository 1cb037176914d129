//! `Scope` on Linux, in both containing modes (cgroup v2, subreaper):
//! escapers, fork loops, a thousand processes, drop, and the guardian.
//!
//! Every tree carries a [`TreeMark`], so survivors are counted as live
//! (non-zombie) processes of that tree and nothing else, and any left over
//! by a failing test is killed. The subreaper mode changes this test
//! process for good (nextest runs each test in its own process).
#![cfg(target_os = "linux")]

use std::process::Command;
use std::time::Duration;

use prochandle::{MechanismKind, Process, Scope, ScopeOptions, Signal};
use prochandle_test_support::{
    eventually, require_root, scope_of, serial, sh, stat_fields, within, TreeMark,
};

/// A daemon the classic way: a background subshell calls `setsid`, starts
/// `sleep` in the background with every standard stream closed, writes its
/// PID and exits; the first shell exits too. The `sleep` is then in a
/// session of its own, two forks away from anything we started.
fn daemon_script(pid_file: &std::path::Path) -> String {
    format!(
        "setsid sh -c 'sleep 1000 <&- >&- 2>&- & echo $! > {}' </dev/null >/dev/null 2>&1 &",
        pid_file.display()
    )
}

fn escaping_daemon_is_contained_and_killed(kind: MechanismKind) {
    let Some(scope) = scope_of(kind) else { return };
    let mark = TreeMark::new();
    let pid_file = std::env::temp_dir().join(format!("prochandle-daemon-{}", mark.value()));
    let first = scope
        .spawn(&mut sh(&mark, &daemon_script(&pid_file)))
        .unwrap();
    assert!(first.wait().unwrap().success());
    let pid: u32 = eventually("the daemon's PID file", || {
        std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()
    });
    let _ = std::fs::remove_file(&pid_file);
    // Alive, pinned, in its own session, and a member of the scope.
    let daemon = Process::open(pid).unwrap();
    // The shell that wrote the file may still be on its way out: wait for
    // the daemon to be the one live process and the one member, and fail
    // if anything else stays.
    eventually("the daemon to be the one live process", || {
        (mark.live() == [pid]).then_some(())
    });
    eventually("the daemon to be the one member", || {
        let m: Vec<u32> = scope.members().unwrap().iter().map(Process::pid).collect();
        (m == [pid]).then_some(())
    });
    scope.kill().unwrap();
    assert!(scope.is_empty().unwrap());
    assert!(daemon
        .wait_timeout(Duration::from_secs(10))
        .unwrap()
        .is_some());
    assert!(mark.wait_gone(Duration::from_secs(1)).is_empty());
}

#[test]
fn a_setsid_double_fork_daemon_is_contained_and_killed_by_the_cgroup() {
    let _serial = serial();
    escaping_daemon_is_contained_and_killed(MechanismKind::Cgroup);
}

#[test]
fn a_setsid_double_fork_daemon_is_contained_and_killed_by_the_subreaper() {
    let _serial = serial();
    escaping_daemon_is_contained_and_killed(MechanismKind::Subreaper);
}

fn fork_loop_leaves_no_survivor(kind: MechanismKind) {
    let Some(scope) = scope_of(kind) else { return };
    let mark = TreeMark::new();
    // Each turn forks a subshell that forks a sleep and exits: the loop
    // keeps making orphans while it is being killed.
    let first = scope
        .spawn(&mut sh(&mark, "while :; do (sleep 1000 &); done"))
        .unwrap();
    eventually("the fork loop to make 50 processes", || {
        (mark.live().len() >= 50).then_some(())
    });
    scope.kill().unwrap();
    let survivors = mark.wait_gone(Duration::from_secs(1));
    assert!(survivors.is_empty(), "survivors: {survivors:?}");
    assert!(first.wait().unwrap().signal() == Some(Signal::KILL));
}

#[test]
fn a_fork_loop_ends_with_zero_survivors_in_the_cgroup() {
    let _serial = serial();
    fork_loop_leaves_no_survivor(MechanismKind::Cgroup);
}

#[test]
fn a_fork_loop_ends_with_zero_survivors_with_the_subreaper() {
    let _serial = serial();
    fork_loop_leaves_no_survivor(MechanismKind::Subreaper);
}

/// Our own zombie children, the first child aside.
fn zombie_children() -> Vec<u32> {
    let me = Process::current().unwrap();
    prochandle::linux::ProcessExt::children(&me)
        .unwrap()
        .iter()
        .map(Process::pid)
        .filter(|&pid| prochandle_test_support::proc_state(pid) == Some('Z'))
        .collect()
}

fn thousand_processes_are_killed(kind: MechanismKind) {
    let Some(scope) = scope_of(kind) else { return };
    let mark = TreeMark::new();
    let first = scope
        .spawn(&mut sh(
            &mark,
            "i=0; while [ $i -lt 999 ]; do sleep 1000 & i=$((i+1)); done; wait",
        ))
        .unwrap();
    eventually("1,000 live processes", || {
        (mark.live().len() >= 1000).then_some(())
    });
    let tree = mark.live();
    scope.kill().unwrap();
    let survivors = mark.wait_gone(Duration::from_secs(1));
    assert!(survivors.is_empty(), "{} survivors", survivors.len());
    first.wait().unwrap();
    if kind == MechanismKind::Subreaper {
        // The subreaper reaped every orphan of the tree: no zombie of it is
        // left (other tests sharing the process under `cargo test` may
        // leave theirs, hence the filter).
        let zombies: Vec<u32> = zombie_children()
            .into_iter()
            .filter(|pid| tree.contains(pid))
            .collect();
        assert_eq!(zombies, Vec::<u32>::new());
    }
}

#[test]
fn a_thousand_process_tree_is_killed_in_the_cgroup() {
    let _serial = serial();
    thousand_processes_are_killed(MechanismKind::Cgroup);
}

#[test]
fn a_thousand_process_tree_is_killed_and_reaped_with_the_subreaper() {
    let _serial = serial();
    thousand_processes_are_killed(MechanismKind::Subreaper);
}

fn dropping_kills(kind: MechanismKind) {
    let Some(scope) = scope_of(kind) else { return };
    let mark = TreeMark::new();
    let first = scope
        .spawn(&mut sh(&mark, "sleep 1000 & setsid sleep 1000 & wait"))
        .unwrap();
    eventually("three live processes", || {
        (mark.live().len() == 3).then_some(())
    });
    let cgroup = scope.mechanism().cgroup_path().map(ToOwned::to_owned);
    drop(scope);
    let survivors = mark.wait_gone(Duration::from_secs(1));
    assert!(survivors.is_empty(), "survivors: {survivors:?}");
    first.wait().unwrap();
    if let Some(cgroup) = cgroup {
        assert!(!cgroup.exists(), "the scope's cgroup was removed");
    }
}

#[test]
fn dropping_a_cgroup_scope_kills_the_tree_and_removes_the_cgroup() {
    let _serial = serial();
    dropping_kills(MechanismKind::Cgroup);
}

#[test]
fn dropping_a_subreaper_scope_kills_the_tree() {
    let _serial = serial();
    dropping_kills(MechanismKind::Subreaper);
}

#[test]
fn wait_empty_waits_for_the_last_member_not_the_first_child() {
    let _serial = serial();
    let Some(scope) = scope_of(MechanismKind::Cgroup) else {
        return;
    };
    let mark = TreeMark::new();
    let first = scope
        .spawn(&mut sh(&mark, "sleep 0.3 <&- >&- 2>&- &"))
        .unwrap();
    assert!(first.wait().unwrap().success());
    assert!(scope.events_fd().is_some());
    assert!(!scope.is_empty().unwrap(), "the background sleep is alive");
    assert!(!scope.wait_empty_timeout(Duration::from_millis(10)).unwrap());
    assert!(scope.wait_empty_timeout(Duration::from_secs(10)).unwrap());
    assert!(mark.live().is_empty());
}

#[test]
fn signal_reaches_every_member() {
    let _serial = serial();
    for kind in [MechanismKind::Cgroup, MechanismKind::Subreaper] {
        let Some(scope) = scope_of(kind) else { return };
        let mark = TreeMark::new();
        let first = scope
            // The first child execs a sleep too: a shell waiting for its
            // jobs could exit by itself once their TERM came before its
            // own; three sleeps end only by the signal.
            .spawn(&mut sh(
                &mark,
                "setsid sleep 1000 & sleep 1000 & exec sleep 1000",
            ))
            .unwrap();
        eventually("three live processes", || {
            (mark.live().len() == 3).then_some(())
        });
        scope.signal(Signal::TERM).unwrap();
        let empty = scope.wait_empty_timeout(Duration::from_secs(10)).unwrap();
        let left: Vec<u32> = scope.members().unwrap().iter().map(Process::pid).collect();
        assert!(empty, "{kind}: members left after SIGTERM: {left:?}");
        let state = first.wait().unwrap();
        assert_eq!(
            state.signal(),
            Some(Signal::TERM),
            "{kind}: the first child: {state}"
        );
    }
}

#[test]
fn a_mechanism_this_system_lacks_is_an_error_not_a_weaker_one() {
    let _serial = serial();
    let err = ScopeOptions::new()
        .mechanism(MechanismKind::JobObject)
        .create()
        .unwrap_err();
    assert_eq!(err.kind(), prochandle::ErrorKind::Unsupported);
    // Without the opt-in, the subreaper is never set behind our back.
    let err = ScopeOptions::new()
        .mechanism(MechanismKind::Subreaper)
        .create()
        .unwrap_err();
    assert!(err.to_string().contains("allow_subreaper"), "{err}");
}

const OWNER_ENV: &str = "PROCHANDLE_SCOPE_OWNER_MARK";

/// The owner's part: a guarded scope with a tree (one member escaping with
/// `setsid`), reported on stdout; then it waits to be killed.
fn play_owner(mark: &str) -> ! {
    let mark = TreeMark::from_value(mark);
    let scope = ScopeOptions::new().guardian(true).create().unwrap();
    let path = scope
        .mechanism()
        .cgroup_path()
        .expect("a cgroup")
        .to_owned();
    scope
        .spawn(&mut sh(&mark, "setsid sleep 1000 & sleep 1000 & wait"))
        .unwrap();
    eventually("three live processes", || {
        (mark.live().len() == 3).then_some(())
    });
    println!("REPORT cgroup={}", path.display());
    std::mem::forget(mark);
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn sigkill_of_the_owner_with_a_guardian_kills_the_tree() {
    let _serial = serial();
    if let Ok(mark) = std::env::var(OWNER_ENV) {
        play_owner(&mark);
    }
    if !require_root("a cgroup scope") {
        return;
    }
    use std::io::BufRead;
    let mark = TreeMark::new();
    let mut owner = prochandle_test_support::reexec(
        "sigkill_of_the_owner_with_a_guardian_kills_the_tree",
        OWNER_ENV,
        mark.value(),
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = std::io::BufReader::new(owner.stdout.take().unwrap()).lines();
    let cgroup = lines
        .find_map(|l| {
            l.ok()?
                .split_once("REPORT cgroup=")
                .map(|(_, p)| p.to_owned())
        })
        .expect("the owner's report");
    let _cleanup = prochandle_test_support::CgroupCleanup(cgroup.clone().into());
    let tree = mark.live();
    assert_eq!(tree.len(), 3, "the tree is alive before the owner dies");
    owner.kill().unwrap();
    owner.wait().unwrap();
    let survivors = mark.wait_gone(Duration::from_secs(10));
    assert!(survivors.is_empty(), "survivors: {survivors:?}");
    // The guardian waits for the cgroup to empty, then removes it.
    let gone = within(Duration::from_secs(10), || {
        (!std::path::Path::new(&cgroup).exists()).then_some(())
    });
    assert!(gone.is_some(), "the cgroup {cgroup} is left behind");
}

const UNPRIVILEGED_ENV: &str = "PROCHANDLE_SCOPE_UNPRIVILEGED";

fn play_unprivileged() {
    let default = Scope::new().unwrap();
    let passed: Vec<String> = default
        .passed_over()
        .iter()
        .map(|p| format!("{:?}", p.kind))
        .collect();
    let with_subreaper = ScopeOptions::new().allow_subreaper(true).create().unwrap();
    println!(
        "REPORT default={:?} passed={} opted_in={:?}",
        default.mechanism().kind(),
        passed.join(","),
        with_subreaper.mechanism().kind()
    );
    // And it contains: a setsid escaper dies with the subreaper scope.
    let mark = TreeMark::new();
    with_subreaper
        .spawn(&mut sh(&mark, "setsid sleep 1000 <&- >&- 2>&- &"))
        .unwrap()
        .wait()
        .unwrap();
    eventually("the escaper", || (mark.live().len() == 1).then_some(()));
    with_subreaper.kill().unwrap();
    println!("REPORT survivors={}", mark.live().len());
}

#[test]
fn an_unprivileged_user_falls_back_and_says_which_mode() {
    let _serial = serial();
    if std::env::var_os(UNPRIVILEGED_ENV).is_some() {
        return play_unprivileged();
    }
    if !require_root("switching to an unprivileged user") {
        return;
    }
    let test = "an_unprivileged_user_falls_back_and_says_which_mode";
    let out = prochandle_test_support::reexec_as_nobody(test, UNPRIVILEGED_ENV);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: String = stdout.lines().filter(|l| l.contains("REPORT")).collect();
    if prochandle_test_support::forced_pid_mode() {
        // No handles: the keeper is passed over (its members' statuses
        // need the kernel's record), and the group is the floor.
        assert!(report.contains("default=ProcessGroup"), "{report}");
        assert!(
            report.contains("passed=Cgroup,Subreaper,Keeper "),
            "{report}"
        );
    } else {
        assert!(report.contains("default=Keeper"), "{report}");
        assert!(report.contains("passed=Cgroup,Subreaper "), "{report}");
    }
    assert!(report.contains("opted_in=Subreaper"), "{report}");
    assert!(report.contains("survivors=0"), "{report}");
}

#[test]
fn no_cgroup_of_this_process_is_left_after_its_scopes() {
    let _serial = serial();
    if !require_root("a cgroup scope") {
        return;
    }
    let scope = Scope::new().unwrap();
    let path = scope.mechanism().cgroup_path().unwrap().to_owned();
    let parent = path.parent().unwrap().to_owned();
    scope
        .spawn(&mut Command::new("true"))
        .unwrap()
        .wait()
        .unwrap();
    drop(scope);
    let prefix = format!("prochandle-{}-", std::process::id());
    let left = within(Duration::from_secs(1), || {
        let left = prochandle_test_support::trees::cgroups_named(&parent, &prefix);
        left.is_empty().then_some(())
    });
    assert!(left.is_some(), "cgroups left under {}", parent.display());
}

#[test]
fn the_process_group_floor_lets_a_setsid_daemon_escape_as_documented() {
    let _serial = serial();
    let scope = scope_of(MechanismKind::ProcessGroup).unwrap();
    assert!(!scope.mechanism().kind().holds_setsid());
    let mark = TreeMark::new();
    let first = scope
        .spawn(&mut sh(
            &mark,
            "setsid sleep 1000 <&- >&- 2>&- & exec sleep 1000",
        ))
        .unwrap();
    // Two live processes, one of them already in a session of its own
    // (alive is not enough: `setsid` may not have run yet).
    eventually("two live processes, one a session leader", || {
        let live = mark.live();
        (live.len() == 2 && live.iter().any(|&pid| leads_a_session(pid))).then_some(())
    });
    scope.kill().unwrap();
    first.wait().unwrap();
    // The escaper is out of reach of kill(-pgid); the mark's drop ends it.
    assert_eq!(mark.live().len(), 1);
}

#[test]
fn a_scope_told_not_to_kill_on_drop_leaves_the_tree_and_its_cgroup() {
    let _serial = serial();
    if !require_root("a cgroup scope") {
        return;
    }
    let scope = ScopeOptions::new().kill_on_drop(false).create().unwrap();
    let path = scope.mechanism().cgroup_path().unwrap().to_owned();
    let _cleanup = prochandle_test_support::CgroupCleanup(path.clone());
    let mark = TreeMark::new();
    scope
        .spawn(&mut sh(&mark, "setsid sleep 1000 <&- >&- 2>&- &"))
        .unwrap()
        .wait()
        .unwrap();
    // Waits for the `sleep` itself: a marked process caught inside its
    // `execve` shows an empty environment for a moment, so a count taken
    // before the exec is done can miss it.
    let sleep = eventually("the sleep", || {
        let live = mark.live();
        let is_sleep = |pid: &u32| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")
        };
        (live.len() == 1 && is_sleep(&live[0])).then(|| live[0])
    });
    let pinned = Process::open(sleep).unwrap();
    drop(scope);
    assert!(!pinned.has_exited().unwrap(), "the tree outlives the scope");
    assert_eq!(mark.live(), [sleep], "the tree outlives the scope");
    assert!(path.exists(), "a cgroup with members stays");
    // `_cleanup` and `mark` kill it and remove the cgroup.
}

/// Whether `pid` is the leader of its session (field 6 of its `stat`, after
/// the command name's last parenthesis, is its own PID).
fn leads_a_session(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|fields| fields.get(3) == Some(&pid.to_string()))
}
