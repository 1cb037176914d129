//! A `Scope`'s tree dies with its owner by default, `SIGKILL` of the owner
//! included: the owner (this test binary, re-executed) makes a scope with
//! the default options, spawns a tree of each shape into it and is killed.
//!
//! As root the scope is a cgroup and its guardian (on by default with
//! `kill_on_drop`) kills the whole tree, every shape, and removes the
//! cgroup. As `nobody` (no cgroup; the subreaper opted in) the guardian
//! kills the first child's process group: the shapes that stay in it die,
//! and the members that left it (`setsid`, a new group) survive, as
//! documented; `prochandle run` holds those too, with its keeper.
#![cfg(target_os = "linux")]

use std::io::BufRead;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use prochandle::ScopeOptions;
use prochandle_test_support::{eventually, require_root, within, CgroupCleanup, TreeMark};

const OWNER_ENV: &str = "PROCHANDLE_OWNER_DIES_SHAPE";
const MARK_ENV: &str = "PROCHANDLE_OWNER_DIES_MARK";

/// Shapes: (name, script, live members once in place, stays in the first
/// child's process group).
const SHAPES: [(&str, &str, usize, bool); 7] = [
    ("background", "sleep 900 & exec sleep 900", 2, true),
    (
        "setsid double fork",
        "(setsid sh -c 'sleep 900 & exec sleep 900' </dev/null &); exec sleep 900",
        3,
        false,
    ),
    (
        "new process group",
        "python3 -c 'import os; os.setpgid(0, 0); os.execvp(\"sleep\", [\"sleep\", \"900\"])' & exec sleep 900",
        2,
        false,
    ),
    ("twenty members", "for i in $(seq 20); do sleep 900 & done; exec sleep 900", 21, true),
    ("a stopped member", "sleep 900 & kill -STOP $!; exec sleep 900", 2, true),
    ("ignores signals", "trap '' TERM INT HUP; sleep 900 & exec sleep 900", 2, true),
    (
        "fork loop",
        "(while :; do (sleep 900 &); sleep 0.02; done) & exec sleep 900",
        6,
        true,
    ),
];

/// The owner's part: a default scope (the subreaper allowed), the shape
/// spawned into it, a report, then sleep until killed.
fn play_owner(shape: usize, mark: &str) -> ! {
    let scope = ScopeOptions::new().allow_subreaper(true).create().unwrap();
    let mut sh = Command::new("sh");
    sh.args(["-c", SHAPES[shape].1])
        .env("PATH", "/usr/bin:/bin")
        .env(prochandle_test_support::TREE_MARK_ENV, mark)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    scope.spawn(&mut sh).unwrap();
    let cgroup = scope.mechanism().cgroup_path().map(|p| p.to_owned());
    println!(
        "REPORT cgroup={cgroup:?} kind={:?}",
        scope.mechanism().kind()
    );
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Kills an owner of each shape; returns (shape, members before, survivors
/// after, whether a cgroup was left) for each.
fn kill_owners(as_nobody: bool) -> Vec<(&'static str, usize, usize, bool)> {
    let exe = prochandle_test_support::ExeForOthers::new();
    let test = if as_nobody {
        "sigkill_of_a_scopes_owner_as_nobody"
    } else {
        "sigkill_of_a_scopes_owner_as_root_leaves_nothing"
    };
    let mut results = Vec::new();
    for (i, (name, _, members, _)) in SHAPES.iter().enumerate() {
        let mark = TreeMark::new();
        let mut command = exe.reexec(test, OWNER_ENV, &i.to_string());
        command
            .env(MARK_ENV, mark.value())
            .stdout(Stdio::piped())
            .current_dir("/");
        if as_nobody {
            command.uid(65534).gid(65534);
        }
        let mut owner = command.spawn().unwrap();
        let report = std::io::BufReader::new(owner.stdout.take().unwrap())
            .lines()
            .find_map(|l| Some(l.ok()?.split_once("REPORT ")?.1.to_owned()))
            .expect("the owner's report");
        let cgroup = report
            .split_once("cgroup=Some(\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(path, _)| std::path::PathBuf::from(path));
        let _cleanup = cgroup.clone().map(CgroupCleanup);
        eventually("the tree to be in place", || {
            (mark.live().len() >= *members).then_some(())
        });
        let before = mark.live().len();
        owner.kill().unwrap();
        owner.wait().unwrap();
        let survivors = mark.wait_gone(Duration::from_secs(5)).len();
        let left = cgroup.is_some_and(|path| {
            within(Duration::from_secs(5), || (!path.exists()).then_some(())).is_none()
        });
        eprintln!(
            "{report}: {name}: {before} alive before, {survivors} survivors, cgroup left: {left}"
        );
        results.push((*name, before, survivors, left));
    }
    results
}

fn owner_part() {
    if let (Ok(shape), Ok(mark)) = (std::env::var(OWNER_ENV), std::env::var(MARK_ENV)) {
        play_owner(shape.parse().unwrap(), &mark);
    }
}

#[test]
fn sigkill_of_a_scopes_owner_as_root_leaves_nothing() {
    owner_part();
    if !require_root("a cgroup scope") {
        return;
    }
    for (name, _, survivors, left) in kill_owners(false) {
        assert_eq!(survivors, 0, "{name}: survivors");
        assert!(!left, "{name}: the cgroup was left");
    }
}

#[test]
fn sigkill_of_a_scopes_owner_as_nobody() {
    owner_part();
    if !require_root("switching to the user nobody") {
        return;
    }
    for ((name, _, survivors, _), (_, _, _, in_group)) in kill_owners(true).into_iter().zip(SHAPES)
    {
        // What the process group holds dies; what left it is the
        // documented limit of a Scope without a cgroup.
        if in_group {
            assert_eq!(survivors, 0, "{name}: survivors");
        }
    }
}
