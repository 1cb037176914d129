//! `run --report` freezes the tree for its snapshot and lets it go before
//! the timeout's signals: as root by the cgroup freezer, as `nobody` by
//! `SIGSTOP` sweeps (the keeper's, over the tree it holds). A forking tree is listed whole; a
//! blocked member shows where it waits, not the freezer; a `TERM` trap
//! still runs; a member stopped by someone else is said stopped and ended;
//! a member that cannot stop (a `vfork` parent, in `D`) makes the report
//! say the tree was not frozen whole, without holding the timeout up.
#![cfg(target_os = "linux")]

mod common;

use std::collections::HashSet;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use prochandle_test_support::{require_root, stat_fields, ExeForOthers};
use serde_json::Value;

/// Who runs `prochandle`, and what freezes its tree then.
#[derive(Clone, Copy)]
enum As {
    /// Root: a cgroup, frozen by the cgroup freezer.
    Root,
    /// `nobody`: the keeper, which freezes by `SIGSTOP` sweeps.
    Nobody,
}

impl As {
    /// `None` (a failure under `CI=true`) where this user cannot be had.
    fn runner(self) -> Option<Command> {
        if !require_root("a cgroup, and setpriv to the user nobody") {
            return None;
        }
        let mut command = match self {
            As::Root => Command::new(prochandle().get_program()),
            As::Nobody => {
                let mut setpriv = as_nobody();
                setpriv.arg(prochandle().get_program());
                setpriv
            }
        };
        command.stdin(Stdio::null());
        Some(command)
    }

    fn means(self) -> &'static str {
        match self {
            As::Root => "the cgroup freezer",
            As::Nobody => "SIGSTOP sweeps",
        }
    }
}

/// What one `run --report --json` said: its output, its PID, the
/// report's header and members (from stderr), and how long it took.
struct Report {
    out: Output,
    run_pid: u32,
    header: Value,
    members: Vec<Value>,
    took: Duration,
}

fn report(who: As, args: &[&str]) -> Option<Report> {
    let mut command = who.runner()?;
    command
        .args(["run", "--report", "--json"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let began = Instant::now();
    let child = command.spawn().expect("start prochandle");
    // setpriv execs prochandle: the PID is run's.
    let run_pid = child.id();
    let out = child.wait_with_output().expect("wait for prochandle");
    let took = began.elapsed();
    let text = stderr(&out);
    let mut lines = text.lines().map(|line| {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line:?} in {text}"))
    });
    let header = lines.next().unwrap_or_else(|| panic!("no report: {text}"));
    Some(Report {
        run_pid,
        header,
        members: lines.collect(),
        out,
        took,
    })
}

impl Report {
    fn text(&self) -> String {
        stderr(&self.out)
    }

    /// The header says the tree was frozen whole, by `who`'s means.
    fn frozen_whole(&self, who: As) {
        assert_eq!(self.header["frozen"], "whole", "{}", self.text());
        assert_eq!(self.header["frozen_by"], who.means(), "{}", self.text());
        assert_eq!(
            self.header["members"],
            self.members.len(),
            "{}",
            self.text()
        );
    }

    fn member(&self, command: &str) -> &Value {
        self.members
            .iter()
            .find(|m| m["command"] == command)
            .unwrap_or_else(|| panic!("no {command:?} in {}", self.text()))
    }
}

/// A shell forking short subtrees as fast as it can (bounded): the list
/// is one instant's, each member's parent listed, or CMD's parent (`run`,
/// or as `nobody` its keeper, to which orphans are re-parented too).
fn a_forking_tree_is_listed_whole(who: As) {
    let script =
        "i=0; while [ $i -lt 300 ]; do sh -c 'sleep 9 & wait' & sleep 0.01; i=$((i+1)); done; wait";
    let Some(report) = report(who, &["300ms", "sh", "-c", script]) else {
        return;
    };
    assert_eq!(code(&report.out), 124, "{}", report.text());
    report.frozen_whole(who);
    assert!(report.members.len() > 3, "{}", report.text());
    let pids: HashSet<u64> = report
        .members
        .iter()
        .map(|m| m["pid"].as_u64().unwrap())
        .collect();
    // CMD: the member running the script whose parent is not listed.
    let parent_of_cmd = report
        .members
        .iter()
        .filter(|m| m["command"].as_str().is_some_and(|c| c.contains("while [")))
        .map(|m| m["ppid"].as_u64().expect("a parent"))
        .find(|parent| !pids.contains(parent))
        .unwrap_or_else(|| panic!("no CMD in {}", report.text()));
    assert!(
        parent_of_cmd == u64::from(report.run_pid) || matches!(who, As::Nobody),
        "CMD's parent {parent_of_cmd} is not run: {}",
        report.text()
    );
    for member in &report.members {
        let parent = member["ppid"].as_u64().expect("a parent");
        assert!(
            pids.contains(&parent) || parent == parent_of_cmd,
            "{member} has a parent outside the list: {}",
            report.text()
        );
    }
}

#[test]
fn a_forking_tree_is_listed_whole_in_the_cgroup() {
    a_forking_tree_is_listed_whole(As::Root);
}

#[test]
fn a_forking_tree_is_listed_whole_by_sweeps() {
    a_forking_tree_is_listed_whole(As::Nobody);
}

/// `sleep` in its timed sleep, `cat` reading an empty pipe: each shows
/// that wait, read before the freeze, not the freezer's trap.
fn a_blocked_member_shows_its_wait(who: As) {
    let Some(report) = report(who, &["500ms", "sh", "-c", "sleep 30 | cat & wait"]) else {
        return;
    };
    assert_eq!(code(&report.out), 124, "{}", report.text());
    report.frozen_whole(who);
    let text = report.text();
    for (command, wchan, syscall) in [
        ("sleep 30", "nanosleep", "nanosleep"),
        ("cat", "pipe", "read("),
    ] {
        let member = report.member(command);
        assert_eq!(member["state"], "sleeping", "{text}");
        assert_eq!(member["read_frozen"], false, "{text}");
        let seen = member["wchan"]
            .as_str()
            .unwrap_or_else(|| panic!("no wchan: {text}"));
        assert!(seen.contains(wchan), "{command}: {seen} in {text}");
        if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            let call = member["syscall"]
                .as_str()
                .unwrap_or_else(|| panic!("no syscall: {text}"));
            assert!(call.contains(syscall), "{command}: {call} in {text}");
        }
    }
    for member in &report.members {
        let seen = member["wchan"].as_str().unwrap_or_default();
        assert!(
            !seen.contains("freezer") && !seen.contains("signal_stop"),
            "{text}"
        );
    }
}

#[test]
fn a_blocked_member_shows_its_wait_in_the_cgroup() {
    a_blocked_member_shows_its_wait(As::Root);
}

#[test]
fn a_blocked_member_shows_its_wait_by_sweeps() {
    a_blocked_member_shows_its_wait(As::Nobody);
}

/// After the report the tree runs again: CMD's `TERM` trap runs, and the
/// status is timeout(1)'s (124, or CMD's own with `--preserve-status`).
fn a_term_trap_runs_after_the_report(who: As) {
    let script = "trap 'echo got; exit 3' TERM; sleep 30 & wait";
    for (preserve, status) in [(false, 124), (true, 3)] {
        let mut args = vec!["500ms", "sh", "-c", script];
        if preserve {
            args.insert(0, "--preserve-status");
        }
        let Some(report) = report(who, &args) else {
            return;
        };
        assert_eq!(code(&report.out), status, "{}", report.text());
        // CMD is sent the signal alone, then with its tree (as timeout(1)
        // sends it to CMD, then to the group): the trap may run twice.
        let said = stdout(&report.out);
        assert!(
            !said.is_empty() && said.lines().all(|l| l == "got"),
            "{said:?}: {}",
            report.text()
        );
        report.frozen_whole(who);
        assert!(report.took < Duration::from_secs(5), "{:?}", report.took);
    }
}

#[test]
fn a_term_trap_runs_after_the_report_in_the_cgroup() {
    a_term_trap_runs_after_the_report(As::Root);
}

#[test]
fn a_term_trap_runs_after_the_report_by_sweeps() {
    a_term_trap_runs_after_the_report(As::Nobody);
}

/// A member CMD stopped itself is reported stopped (where it waits read
/// before the freeze, not flagged), and the timeout still ends it.
fn a_stopped_member_is_reported_and_ended(who: As) {
    let script = "sleep 30 & pid=$!; sleep 0.1; kill -STOP $pid; wait";
    let Some(report) = report(who, &["600ms", "sh", "-c", script]) else {
        return;
    };
    assert_eq!(code(&report.out), 124, "{}", report.text());
    report.frozen_whole(who);
    let stopped = report.member("sleep 30");
    assert_eq!(stopped["state"], "stopped", "{}", report.text());
    assert_eq!(stopped["read_frozen"], false, "{}", report.text());
    assert!(report.took < Duration::from_secs(5), "{:?}", report.took);
    let identity = stopped["identity"].as_str().unwrap();
    assert!(
        !still_there(identity),
        "{identity} outlived run: {}",
        report.text()
    );
}

/// Whether the process `PID:START` (start in clock ticks) still lives.
fn still_there(identity: &str) -> bool {
    let (pid, start) = identity.split_once(':').expect("PID:START");
    let Some(fields) = pid.parse().ok().and_then(stat_fields) else {
        return false;
    };
    fields[19] == start && fields[0] != "Z"
}

#[test]
fn a_stopped_member_is_reported_and_ended_in_the_cgroup() {
    a_stopped_member_is_reported_and_ended(As::Root);
}

#[test]
fn a_stopped_member_is_reported_and_ended_by_sweeps() {
    a_stopped_member_is_reported_and_ended(As::Nobody);
}

const VFORK: &str = "PROCHANDLE_TEST_VFORK_PARENT";

/// Run before `main` in every process of this test binary: with [`VFORK`]
/// set, this process becomes a `vfork` parent (`clone` with
/// `CLONE_VFORK`) on its main thread (what `/proc/PID/stat` shows),
/// waiting in `D` for a child that pauses until a signal ends it; then
/// it exits.
#[used]
#[link_section = ".init_array"]
static VFORK_PARENT: extern "C" fn() = vfork_parent;

extern "C" fn vfork_parent() {
    // SAFETY: getenv before main, with a NUL-terminated name; nothing
    // else runs yet.
    if unsafe { libc::getenv(c"PROCHANDLE_TEST_VFORK_PARENT".as_ptr()) }.is_null() {
        return;
    }
    extern "C" fn pause_until_killed(_: *mut libc::c_void) -> libc::c_int {
        // SAFETY: plain system calls; no handler is set, so only a
        // signal that ends the child ends the pause.
        unsafe {
            libc::pause();
            libc::_exit(0)
        }
    }
    let mut stack = vec![0u128; 4096];
    // SAFETY: `CLONE_VFORK` without `CLONE_VM`: the child runs in a copy
    // of this memory, on its copy of `stack` (the top, 16-byte aligned,
    // as the ABI wants), and the parent waits in the kernel until the
    // child exits; then the parent exits too.
    unsafe {
        let top = stack.as_mut_ptr().add(stack.len());
        let flags = libc::CLONE_VFORK | libc::SIGCHLD;
        libc::clone(pause_until_killed, top.cast(), flags, std::ptr::null_mut());
        libc::_exit(0);
    }
}

/// A `vfork` parent waits in `D` for its child, which pauses: `SIGSTOP`
/// cannot stop it, so the sweeps give up within their bound and the
/// report says so; the signals then end the tree as ever. (The cgroup
/// freezer counts a `vfork` parent as frozen: nothing to see there.)
#[test]
fn a_member_that_cannot_stop_is_said_and_does_not_hold_the_timeout() {
    let exe = ExeForOthers::new();
    let helper = exe.reexec(
        "a_member_that_cannot_stop_is_said_and_does_not_hold_the_timeout",
        VFORK,
        "1",
    );
    let mut args = vec!["500ms".to_owned(), "env".to_owned(), format!("{VFORK}=1")];
    args.push(helper.get_program().to_string_lossy().into_owned());
    args.extend(helper.get_args().map(|a| a.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let Some(report) = report(As::Nobody, &args) else {
        return;
    };
    let text = report.text();
    assert_eq!(code(&report.out), 124, "{text}");
    assert_eq!(report.header["frozen"], "partly", "{text}");
    let note = report.header["freeze_note"].as_str().unwrap();
    assert!(note.contains("uninterruptible"), "{text}");
    assert!(
        report
            .members
            .iter()
            .any(|m| m["state"] == "uninterruptible"),
        "{text}"
    );
    assert!(report.took < Duration::from_secs(5), "{:?}", report.took);
    for member in &report.members {
        let identity = member["identity"].as_str().unwrap();
        assert!(!still_there(identity), "{identity} outlived run: {text}");
    }
}
