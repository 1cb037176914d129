//! `prochandle run` holds the command's whole tree: a daemon started the
//! classic way (a double fork and `setsid`, stdio closed) leaves the
//! command's process group, and GNU `timeout` leaves it running; `run`
//! ends it at the timeout, on a forwarded signal, and when `run` itself is
//! killed. As root the tree is a cgroup; as an unprivileged user a keeper,
//! `run`'s child, is the tree's subreaper (`run` itself with
//! `--no-guardian`). `run_owner_dies.rs` kills `run` with every tree shape.
#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use prochandle::{Process, Scope, Signal};
use prochandle_test_support::{
    ends_within, pinned, proc_parent, read_pid_file, require_root, temp_path, CgroupCleanup,
    Reaped, Supervised, KILL_PATIENCE,
};

/// A command whose daemon writes its PID to `file` and then runs for a
/// minute in a session of its own, orphaned, with no stdio; the command
/// itself waits 30 s.
fn daemon_script(file: &Path) -> String {
    format!(
        "(setsid sh -c 'exec sleep 60 </dev/null >/dev/null 2>&1' & echo $! > {}); sleep 30",
        file.display()
    )
}

/// The daemon, pinned, once it runs in its own session: it has left the
/// command's process group, so that only containment of the whole tree
/// can reach it.
fn escaped_daemon(file: &Path) -> Reaped<Process> {
    let daemon = pinned(read_pid_file(file));
    let pid = daemon.pid() as i32;
    prochandle_test_support::eventually("the daemon to lead its own session", || {
        // SAFETY: getsid takes and returns integers.
        (unsafe { libc::getsid(pid) } == pid).then_some(())
    });
    assert!(
        !ends_within(&daemon, Duration::from_millis(100)),
        "the daemon runs before the kill"
    );
    daemon
}

#[test]
fn a_setsid_daemon_does_not_outlive_the_timeout() {
    if !require_root("a cgroup for the command's tree") {
        return;
    }
    for tool in Tool::both() {
        let file = temp_path("daemon-timeout");
        let mut run =
            Supervised::start(&mut tool.command(&["2", "sh", "-c", &daemon_script(&file)]));
        let _cgroups = RunCgroups::of(&run);
        let daemon = escaped_daemon(&file);
        assert_eq!(run.wait_status().code(), Some(124), "{tool:?}");
        match tool {
            Tool::Prochandle => assert!(
                ends_within(&daemon, KILL_PATIENCE),
                "the daemon survived prochandle run"
            ),
            // GNU timeout signals its process group only: the daemon is out
            // of reach (ended by its guard).
            Tool::Timeout => assert!(
                !ends_within(&daemon, Duration::from_millis(300)),
                "timeout(1) is expected to leave the daemon"
            ),
        }
        let _ = std::fs::remove_file(&file);
    }
}

#[test]
fn a_forwarded_sigterm_ends_the_daemon_too() {
    if !require_root("a cgroup for the command's tree") {
        return;
    }
    let file = temp_path("daemon-term");
    let mut run =
        Supervised::start(prochandle().args(["run", "30", "sh", "-c", &daemon_script(&file)]));
    let daemon = escaped_daemon(&file);
    run.wait_for_command("sleep", 1);
    run.signal(Signal::TERM);
    assert_eq!(run.wait_status().code(), Some(143));
    assert!(ends_within(&daemon, KILL_PATIENCE), "the daemon survived");
    let _ = std::fs::remove_file(&file);
}

#[test]
fn as_an_unprivileged_user_the_keeper_or_run_is_the_trees_subreaper() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    // By default a keeper, run's child, is the subreaper (and so survives
    // run to end the tree); with --no-guardian run is the subreaper itself.
    for no_guardian in [false, true] {
        let file = temp_path("daemon-nobody");
        let mut setpriv = as_nobody();
        setpriv
            .arg(prochandle_path())
            .arg("run")
            .args(no_guardian.then_some("--no-guardian"))
            .args(["1", "sh", "-c", &daemon_script(&file)]);
        let mut run = Supervised::start(&mut setpriv);
        let daemon = escaped_daemon(&file);
        // The orphaned daemon was re-parented to its subreaper.
        let subreaper = proc_parent(daemon.pid()).expect("alive");
        if no_guardian {
            assert_eq!(
                subreaper,
                run.pid(),
                "the daemon's parent is prochandle run"
            );
        } else {
            assert_eq!(
                proc_parent(subreaper).expect("alive"),
                run.pid(),
                "the keeper is run's child"
            );
        }
        assert_eq!(run.wait_status().code(), Some(124));
        assert!(ends_within(&daemon, KILL_PATIENCE), "the daemon survived");
        let _ = std::fs::remove_file(&file);
    }
}

#[test]
fn the_guardian_ends_the_tree_when_run_is_killed() {
    if !require_root("a cgroup for the command's tree") {
        return;
    }
    let file = temp_path("daemon-guardian");
    // The guardian is the default; --guardian is still accepted.
    let mut run = Supervised::start(prochandle().args([
        "run",
        "--guardian",
        "30",
        "sh",
        "-c",
        &daemon_script(&file),
    ]));
    let cgroups = RunCgroups::of(&run);
    prochandle_test_support::eventually("run's cgroup", || {
        (!cgroups.find().is_empty()).then_some(())
    });
    let daemon = escaped_daemon(&file);
    run.wait_for_command("sleep", 1);
    run.signal(Signal::KILL);
    assert_eq!(run.wait_status().code(), None, "killed");
    assert!(
        ends_within(&daemon, KILL_PATIENCE),
        "the guardian did not end the tree"
    );
    let _ = std::fs::remove_file(&file);
}

/// Removes, on drop (also on panic), the cgroups a `prochandle run` with
/// PID `pid` made beside this test's own: a run killed before it could
/// clean up leaves its (empty) cgroup behind.
struct RunCgroups {
    parent: std::path::PathBuf,
    prefix: String,
}

impl RunCgroups {
    fn of(run: &Supervised) -> RunCgroups {
        // `run` is our child, in our cgroup: its scopes go beside one made
        // here.
        let probe = Scope::new().unwrap();
        let parent = probe.mechanism().cgroup_path().unwrap().parent().unwrap();
        RunCgroups {
            parent: parent.to_owned(),
            prefix: format!("prochandle-{}-", run.pid()),
        }
    }

    fn find(&self) -> Vec<std::path::PathBuf> {
        prochandle_test_support::trees::cgroups_named(&self.parent, &self.prefix)
    }
}

impl Drop for RunCgroups {
    fn drop(&mut self) {
        for path in self.find() {
            drop(CgroupCleanup(path));
        }
    }
}

fn prochandle_path() -> std::path::PathBuf {
    std::path::PathBuf::from(prochandle().get_program())
}
