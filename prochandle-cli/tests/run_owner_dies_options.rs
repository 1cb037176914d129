//! Nothing outlives `prochandle run` as `nobody` (no cgroup: the keeper
//! holds the tree) whatever options need to see CMD and its tree:
//! `--pidfile`, `--report-file`, `--leaks=report` and `--leaks=wait`
//! (and all of them at once), each killed with `SIGKILL` once a tree with
//! a `setsid` double fork, a stopped member and a member that ignores
//! TERM, INT and HUP is shown alive. And when the keeper itself is killed,
//! `run` (its tree's subreaper then) ends the orphans and ends by its
//! timeout at the latest.
#![cfg(target_os = "linux")]

mod common;
// The shapes and the soak's random fates are run_owner_dies.rs's.
#[allow(dead_code)]
#[path = "owner_dies/shapes.rs"]
mod shapes;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use prochandle::linux::ProcessExt as _;
use prochandle::Signal;
use prochandle_test_support::{require_root, temp_path};
use shapes::{MarkedRun, User};

/// How long a killed tree and its keeper may take to be gone.
const GONE: Duration = Duration::from_secs(5);
/// How long the tree may take to be in place on a loaded machine.
const ALIVE: Duration = Duration::from_secs(15);

/// The background part: a `setsid` double fork (two members), a stopped
/// member and one that ignores the signals `run` forwards (its `sleep`
/// keeps them ignored across `exec`).
const ESCAPERS: &str = "(setsid sh -c 'sleep 900 & exec sleep 900' </dev/null &); \
    sleep 900 & kill -STOP $!; \
    (trap '' TERM INT HUP; exec sleep 900) &";
/// The members [`ESCAPERS`] leaves alive.
const ESCAPER_MEMBERS: usize = 4;

fn binary() -> PathBuf {
    PathBuf::from(common::prochandle().get_program())
}

/// A file `nobody` may create, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> TempFile {
        TempFile(temp_path(tag))
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Starts `run ARGS... sh -c SCRIPT` as `nobody`, waits for `members`
/// and for `ready` (a file `run` writes), kills `run` with `SIGKILL`;
/// returns what went wrong, if anything.
fn sigkill_with(args: &[&str], script: &str, members: usize, ready: Option<&Path>) -> Vec<String> {
    let mut argv = args.to_vec();
    argv.extend(["sh", "-c", script]);
    let run = MarkedRun::start(&binary(), User::Nobody, &argv);
    let what = format!("run {args:?}");
    if !run.wait_members(members, ALIVE) {
        return vec![format!("{what}: only {} members came alive", run.members())];
    }
    if let Some(file) = ready {
        let end = Instant::now() + ALIVE;
        while std::fs::metadata(file).map_or(true, |m| m.len() == 0) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        if std::fs::metadata(file).map_or(true, |m| m.len() == 0) {
            return vec![format!("{what}: {} was never written", file.display())];
        }
    }
    let alive = run.members();
    run.signal(Signal::KILL);
    let mut failures = Vec::new();
    if run.wait(GONE) != Some(128 + 9) {
        failures.push(format!("{what}: run did not die of SIGKILL"));
    }
    let survivors = run.mark.wait_gone(GONE);
    eprintln!("{what}: {alive} members alive before the kill, {survivors:?} survive");
    if !survivors.is_empty() {
        failures.push(format!("{what}: survivors {survivors:?}"));
    }
    failures
}

#[test]
fn sigkill_of_run_with_a_pidfile_leaves_nothing() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    let pidfile = TempFile::new("owner-dies-pidfile");
    let script = format!("{ESCAPERS} exec sleep 900");
    let args = ["--pidfile", pidfile.arg(), "60"];
    let failures = sigkill_with(&args, &script, ESCAPER_MEMBERS + 1, Some(&pidfile.0));
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn sigkill_of_run_after_its_report_leaves_nothing() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    // The timeout runs out at once: the report is written and TERM (then
    // CONT) sent, which the whole tree ignores; the kill-after delay is
    // far away.
    let report = TempFile::new("owner-dies-report");
    let script = format!("trap '' TERM INT HUP; {ESCAPERS} sleep 900");
    let args = ["--report-file", report.arg(), "-k", "60", "0.5"];
    let failures = sigkill_with(&args, &script, ESCAPER_MEMBERS + 2, Some(&report.0));
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn sigkill_of_run_reporting_leaks_leaves_nothing() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    let script = format!("{ESCAPERS} exec sleep 900");
    let failures = sigkill_with(
        &["--leaks=report", "60"],
        &script,
        ESCAPER_MEMBERS + 1,
        None,
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn sigkill_of_run_waiting_for_leaks_leaves_nothing() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    // CMD exits at once: run is waiting for the rest of the tree.
    let script = format!("{ESCAPERS} exit 0");
    let failures = sigkill_with(&["--leaks=wait", "60"], &script, ESCAPER_MEMBERS, None);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn sigkill_of_run_with_every_option_leaves_nothing() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    let pidfile = TempFile::new("owner-dies-all-pidfile");
    let report = TempFile::new("owner-dies-all-report");
    let script = format!("{ESCAPERS} exec sleep 900");
    let args = [
        "--pidfile",
        pidfile.arg(),
        "--report-file",
        report.arg(),
        "--leaks=wait",
        "60",
    ];
    let failures = sigkill_with(&args, &script, ESCAPER_MEMBERS + 1, Some(&pidfile.0));
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The keeper: `run`'s one child, a fork of it (`prochandle`).
fn keeper_of(run: &MarkedRun) -> Option<prochandle::Process> {
    let children = run.process.children().ok()?;
    children.into_iter().find(|child| {
        std::fs::read_to_string(format!("/proc/{}/comm", child.pid()))
            .is_ok_and(|comm| comm.trim() == "prochandle")
    })
}

/// Kills `run`'s keeper once the tree is alive; returns what went wrong.
fn kill_the_keeper(options: &[&str]) -> Vec<String> {
    const TIMEOUT: Duration = Duration::from_secs(3);
    let script = format!("{ESCAPERS} exec sleep 900");
    let mut argv = options.to_vec();
    argv.extend(["3", "sh", "-c", &script]);
    let run = MarkedRun::start(&binary(), User::Nobody, &argv);
    let what = format!("run {options:?}");
    if !run.wait_members(ESCAPER_MEMBERS + 1, ALIVE) {
        return vec![format!("{what}: only {} members came alive", run.members())];
    }
    let Some(keeper) = keeper_of(&run) else {
        return vec![format!("{what}: no keeper")];
    };
    let killed_at = Instant::now();
    keeper.signal(Signal::KILL).expect("kill the keeper");
    // The orphans go to run, its tree's subreaper; CMD dies of its death
    // signal, and run, seeing it, ends them all, by its timeout at the
    // latest.
    let status = run.wait(TIMEOUT + GONE);
    let survivors = run.mark.wait_gone(GONE);
    eprintln!(
        "{what}, keeper killed: run ended with {status:?} after {:?}, survivors {survivors:?}",
        killed_at.elapsed()
    );
    let mut failures = Vec::new();
    // Without its keeper run cannot know CMD's status: 125.
    if status != Some(125) {
        failures.push(format!("{what}: run ended with {status:?}, not 125"));
    }
    if !survivors.is_empty() {
        failures.push(format!("{what}: survivors {survivors:?}"));
    }
    failures
}

#[test]
fn a_killed_keeper_leaves_nothing_and_run_ends() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    let mut failures = kill_the_keeper(&[]);
    failures.extend(kill_the_keeper(&["--leaks=report"]));
    assert!(failures.is_empty(), "{failures:#?}");
}
