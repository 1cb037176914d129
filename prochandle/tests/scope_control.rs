//! Controlling a tree on Linux, in every mode this system has: freeze and
//! thaw, whole-tree statistics, limits (or their refusal), adopting a
//! running process, and the graceful stop with its report. The subreaper
//! mode also runs as an unprivileged user (`nobody`), re-executing this
//! binary.
#![cfg(target_os = "linux")]

use std::process::Command;
use std::time::Duration;

use prochandle::{Ending, ErrorKind, MechanismKind, Process, Scope, ScopeOptions, Signal};
use prochandle_test_support::{eventually, require_root, scope_of, serial, sh, TreeMark};

use MechanismKind::{Cgroup, CgroupFreeze, ProcessGroup, Subreaper};

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// A tree that forks all the time and writes as it goes: frozen, it
/// writes nothing and its member list holds still; thawed, it goes on.
fn freeze_holds_a_forking_tree(kind: MechanismKind) {
    let Some(scope) = scope_of(kind) else { return };
    let mark = TreeMark::new();
    let log = std::env::temp_dir().join(format!("prochandle-freeze-{}", mark.value()));
    let script = format!(
        "while :; do echo x >> {0}; sleep 0.01 & wait; done & \
         while :; do (echo y >> {0}) ; done",
        log.display()
    );
    scope.spawn(&mut sh(&mark, &script)).unwrap();
    eventually("the tree to write", || (file_len(&log) > 0).then_some(()));
    assert!(!scope.is_frozen().unwrap());
    scope.freeze().unwrap();
    assert!(scope.is_frozen().unwrap(), "{kind}");
    let members: Vec<u32> = scope.members().unwrap().iter().map(Process::pid).collect();
    let len = file_len(&log);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(file_len(&log), len, "{kind}: a frozen tree wrote");
    let still: Vec<u32> = scope.members().unwrap().iter().map(Process::pid).collect();
    assert_eq!(members, still, "{kind}: a frozen tree forked or exited");
    scope.thaw().unwrap();
    assert!(!scope.is_frozen().unwrap());
    eventually("the thawed tree to write", || {
        (file_len(&log) > len).then_some(())
    });
    scope.kill().unwrap();
    assert!(mark.wait_gone(Duration::from_secs(5)).is_empty());
    let _ = std::fs::remove_file(&log);
}

#[test]
fn freeze_holds_a_forking_tree_in_the_cgroup() {
    let _serial = serial();
    freeze_holds_a_forking_tree(Cgroup);
}

#[test]
fn freeze_holds_a_forking_tree_with_the_subreaper() {
    let _serial = serial();
    freeze_holds_a_forking_tree(Subreaper);
}

#[test]
fn freeze_holds_a_forking_tree_in_a_process_group() {
    let _serial = serial();
    freeze_holds_a_forking_tree(ProcessGroup);
}

/// A member someone else stopped before the freeze stays stopped after
/// the thaw (as the cgroup freezer leaves it); the one the freeze stopped
/// runs again. A bounded freeze of sleeping members is whole at once.
fn thaw_leaves_a_stopped_member_stopped(kind: MechanismKind) {
    use prochandle_test_support::proc_state;
    let Some(scope) = scope_of(kind) else { return };
    let mark = TreeMark::new();
    let stopped = scope.spawn(&mut sh(&mark, "exec sleep 30")).unwrap();
    let running = scope.spawn(&mut sh(&mark, "exec sleep 30")).unwrap();
    stopped.signal(Signal::STOP).unwrap();
    eventually("the member to stop", || {
        (proc_state(stopped.pid()) == Some('T')).then_some(())
    });
    let whole = scope.freeze_within(Duration::from_millis(500)).unwrap();
    assert!(whole && scope.is_frozen().unwrap(), "{kind}");
    scope.thaw().unwrap();
    eventually("the thawed member to run", || {
        (proc_state(running.pid()) == Some('S')).then_some(())
    });
    assert_eq!(proc_state(stopped.pid()), Some('T'), "{kind}");
    scope.kill().unwrap();
    stopped.wait().unwrap();
    running.wait().unwrap();
    assert!(mark.wait_gone(Duration::from_secs(5)).is_empty());
}

#[test]
fn thaw_leaves_a_stopped_member_stopped_in_the_cgroup() {
    let _serial = serial();
    thaw_leaves_a_stopped_member_stopped(Cgroup);
}

#[test]
fn thaw_leaves_a_stopped_member_stopped_with_the_subreaper() {
    let _serial = serial();
    thaw_leaves_a_stopped_member_stopped(Subreaper);
}

#[test]
fn thaw_leaves_a_stopped_member_stopped_in_a_process_group() {
    let _serial = serial();
    thaw_leaves_a_stopped_member_stopped(ProcessGroup);
}

/// A busy grandchild re-parented away from its parent: its CPU time counts
/// once the tree has ended.
fn stats_count_the_ended_tree(kind: MechanismKind) {
    let Some(scope) = scope_of(kind) else { return };
    let mark = TreeMark::new();
    // A fixed amount of work (some 0.2 s of CPU), done by a grandchild of
    // an orphan: its parent reaps it, and the orphan is re-parented.
    let script = "( (i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done) & wait ) & exit 0";
    let first = scope.spawn(&mut sh(&mark, script)).unwrap();
    assert!(first.wait().unwrap().success());
    let live = scope.stats().unwrap();
    assert!(
        live.live.known().is_some_and(|n| *n >= 1),
        "{kind}: {live:?}"
    );
    assert!(scope.wait_empty_timeout(Duration::from_secs(20)).unwrap());
    let stats = scope.stats().unwrap();
    assert_eq!(stats.live.known(), Some(&0), "{kind}: {stats:?}");
    assert!(
        stats.started.reason().is_some(),
        "{kind}: Linux counts no starts"
    );
    if kind == ProcessGroup {
        assert!(stats.cpu_user.reason().is_some(), "{stats:?}");
        return;
    }
    let cpu = *stats.cpu_user.known().unwrap() + *stats.cpu_system.known().unwrap();
    assert!(
        cpu >= Duration::from_millis(50),
        "{kind}: {cpu:?} in {stats:?}"
    );
    // Where there is no memory controller, the peak is absent, not zero.
    match &stats.peak_memory {
        prochandle::Measure::Known(bytes) => assert!(*bytes > 0),
        prochandle::Measure::Absent(why) => assert!(!why.is_empty()),
    }
}

#[test]
fn stats_count_the_ended_tree_in_the_cgroup() {
    let _serial = serial();
    stats_count_the_ended_tree(Cgroup);
}

#[test]
fn stats_count_the_ended_tree_with_the_subreaper() {
    let _serial = serial();
    stats_count_the_ended_tree(Subreaper);
}

#[test]
fn stats_of_a_process_group_say_what_is_absent() {
    let _serial = serial();
    stats_count_the_ended_tree(ProcessGroup);
}

/// The stop: a member that ends on TERM, one that ignores it (and the
/// `sleep` it starts, which inherits the ignoring).
fn stop_reports_each_member(kind: MechanismKind) {
    let Some(scope) = scope_of(kind) else { return };
    let mark = TreeMark::new();
    let polite = scope.spawn(&mut sh(&mark, "exec sleep 30")).unwrap();
    let stubborn = scope
        .spawn(&mut sh(&mark, "trap '' TERM; sleep 30 & exec sleep 30"))
        .unwrap();
    eventually("three live processes", || {
        (mark.live().len() == 3).then_some(())
    });
    let report = scope
        .stop(Signal::TERM, Duration::from_millis(500))
        .unwrap();
    assert!(scope.is_empty().unwrap());
    assert!(report.soft_step);
    let ending = |pid| {
        report
            .members
            .iter()
            .find(|m| m.pid == pid)
            .map(|m| m.ending)
    };
    assert_eq!(
        ending(polite.pid()),
        Some(Ending::Signal),
        "{kind}: {report:?}"
    );
    assert_eq!(
        ending(stubborn.pid()),
        Some(Ending::Killed),
        "{kind}: {report:?}"
    );
    assert_eq!(report.count(Ending::Killed), 2, "{kind}: {report:?}");
    // The signal reached every member: the stubborn ones ignored it.
    assert!(
        report.members.iter().all(|m| m.reached),
        "{kind}: {report:?}"
    );
    let named = report
        .members
        .iter()
        .find(|m| m.pid == polite.pid())
        .unwrap();
    assert_eq!(named.name.as_deref(), Some("sleep"));
    assert!(named.start_time.is_some());
    assert!(report.elapsed >= Duration::from_millis(400), "{report:?}");
    assert_eq!(polite.wait().unwrap().signal(), Some(Signal::TERM));
    assert_eq!(stubborn.wait().unwrap().signal(), Some(Signal::KILL));
    assert!(mark.wait_gone(Duration::from_secs(5)).is_empty());
}

#[test]
fn stop_reports_each_member_in_the_cgroup() {
    let _serial = serial();
    stop_reports_each_member(Cgroup);
}

#[test]
fn stop_reports_each_member_in_the_freezing_cgroup() {
    let _serial = serial();
    stop_reports_each_member(CgroupFreeze);
}

#[test]
fn stop_reports_each_member_with_the_subreaper() {
    let _serial = serial();
    stop_reports_each_member(Subreaper);
}

#[test]
fn stop_reports_each_member_in_a_process_group() {
    let _serial = serial();
    stop_reports_each_member(ProcessGroup);
}

#[test]
fn a_cgroup_scope_adopts_a_running_process_and_what_it_starts() {
    let _serial = serial();
    let Some(scope) = scope_of(Cgroup) else {
        return;
    };
    let mark = TreeMark::new();
    // Outside any scope; it starts a child only once told to (a file).
    let go = std::env::temp_dir().join(format!("prochandle-adopt-{}", mark.value()));
    let script = format!(
        "while [ ! -e {0} ]; do sleep 0.02; done; sleep 30 & wait",
        go.display()
    );
    let outside = Process::spawn(&mut sh(&mark, &script)).unwrap();
    scope.adopt(&outside).unwrap();
    std::fs::write(&go, "").unwrap();
    let members = eventually("the adopted process's child to be a member", || {
        let m = scope.members().ok()?;
        (m.len() == 2).then_some(m)
    });
    assert!(members.iter().any(|m| m.pid() == outside.pid()));
    scope.kill().unwrap();
    assert_eq!(outside.wait().unwrap().signal(), Some(Signal::KILL));
    let _ = std::fs::remove_file(&go);
    assert!(mark.wait_gone(Duration::from_secs(5)).is_empty());
    // An ended process is not adopted (its PID may be anyone's now).
    let done = Process::spawn(&mut Command::new("true")).unwrap();
    done.wait().unwrap();
    assert_eq!(scope.adopt(&done).unwrap_err().kind(), ErrorKind::Done);
}

#[test]
fn the_sweeping_modes_refuse_to_adopt_and_to_limit_with_reasons() {
    let _serial = serial();
    for kind in [Subreaper, ProcessGroup] {
        let Some(scope) = scope_of(kind) else { return };
        let outside = Process::spawn(Command::new("sleep").arg("30")).unwrap();
        let err = scope.adopt(&outside).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{kind}: {err}");
        assert!(err.to_string().contains("cgroup"), "{err}");
        outside.kill().unwrap();
        outside.wait().unwrap();
        let limits = prochandle::ScopeLimits::new().tasks_max(10);
        let err = scope.set_limits(&limits).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{kind}: {err}");
        let refused = ScopeOptions::new()
            .mechanism(kind)
            .allow_subreaper(true)
            .tasks_max(10)
            .create()
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Unsupported, "{kind}: {refused}");
    }
}

/// Each limit: applied where the controller is delegated to our cgroup's
/// children, else refused before any member starts, naming the
/// controller, and leaving no cgroup behind.
#[test]
fn each_cgroup_limit_is_applied_or_refused_by_controller_name() {
    let _serial = serial();
    if !require_root("a cgroup scope") {
        return;
    }
    let parent = Scope::new().unwrap();
    let prochandle::Mechanism::Cgroup { path, .. } = parent.mechanism().clone() else {
        panic!("root gets a cgroup scope: {:?}", parent.mechanism());
    };
    let ours = path.parent().unwrap().to_path_buf();
    drop(parent);
    let enabled = std::fs::read_to_string(ours.join("cgroup.subtree_control")).unwrap();
    let cases = [
        (
            "memory",
            "memory.max",
            ScopeOptions::new().memory_max(64 << 20),
            "67108864",
        ),
        ("pids", "pids.max", ScopeOptions::new().tasks_max(50), "50"),
        (
            "cpu",
            "cpu.max",
            ScopeOptions::new().cpu_max(50),
            "50000 100000",
        ),
    ];
    let prefix = format!("prochandle-{}-", std::process::id());
    for (controller, file, options, written) in cases {
        let options = options.mechanism(Cgroup);
        match options.create() {
            Ok(scope) => {
                assert!(enabled.split_whitespace().any(|c| c == controller));
                let prochandle::Mechanism::Cgroup { path, .. } = scope.mechanism().clone() else {
                    unreachable!()
                };
                let value = std::fs::read_to_string(path.join(file)).unwrap();
                assert_eq!(
                    value.split_whitespace().next(),
                    written.split_whitespace().next()
                );
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
                assert!(
                    e.to_string().contains(&format!("{controller} controller")),
                    "{e}"
                );
                let left = prochandle_test_support::trees::cgroups_named(&ours, &prefix);
                assert!(left.is_empty(), "a refused scope left {left:?}");
            }
        }
    }
}

const NOBODY_ENV: &str = "PROCHANDLE_CONTROL_UNPRIVILEGED";

/// As `nobody`: the subreaper mode freezes, counts and stops.
fn play_unprivileged() {
    freeze_holds_a_forking_tree(Subreaper);
    stats_count_the_ended_tree(Subreaper);
    stop_reports_each_member(Subreaper);
    println!("REPORT unprivileged subreaper control ok");
}

#[test]
fn an_unprivileged_subreaper_scope_freezes_counts_and_stops() {
    let _serial = serial();
    if std::env::var_os(NOBODY_ENV).is_some() {
        return play_unprivileged();
    }
    if !require_root("switching to an unprivileged user") {
        return;
    }
    let test = "an_unprivileged_subreaper_scope_freezes_counts_and_stops";
    let out = prochandle_test_support::reexec_as_nobody(test, NOBODY_ENV);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("REPORT unprivileged subreaper control ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
