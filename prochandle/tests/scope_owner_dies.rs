//! A `Scope`'s tree dies with its owner by default, `SIGKILL` of the owner
//! included: the owner (this test binary, re-executed) makes a scope,
//! spawns a tree of each shape into it and is killed.
//!
//! As root the default scope is a cgroup and its guardian (on by default
//! with `kill_on_drop`) kills the whole tree, every shape, and removes the
//! cgroup. As `nobody` (no cgroup) the default is the keeper: the member,
//! spawned with `spawn_command` or with std's `Command`, is a keeper's
//! child, the keeper is its tree's subreaper and kills all of it, `setsid`
//! escapers included. The keeper is also forced as root. Where the kernel gives no handle (the
//! tiers without pidfds) the default falls to the process group, whose
//! guardian kills the first child's group: the shapes that stay in it
//! die. The subreaper opted into, with std's `Command`, holds the same.
#![cfg(target_os = "linux")]

use std::io::BufRead;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use prochandle::{ChildStdio, MechanismKind, Scope, ScopeCommand, ScopeOptions};
use prochandle_test_support::{eventually, require_root, within, CgroupCleanup, TreeMark};

const OWNER_ENV: &str = "PROCHANDLE_OWNER_DIES_SHAPE";
const MARK_ENV: &str = "PROCHANDLE_OWNER_DIES_MARK";
const MODE_ENV: &str = "PROCHANDLE_OWNER_DIES_MODE";

/// How the owner makes its scope and spawns.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// `Scope::new()` and `spawn_command`.
    Default,
    /// `Scope::new()` and `spawn` with std's `Command`.
    DefaultStd,
    /// The keeper forced, and `spawn_command`.
    Keeper,
    /// The subreaper opted into, and std's `Command`.
    Subreaper,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::DefaultStd => "default-std",
            Mode::Keeper => "keeper",
            Mode::Subreaper => "subreaper",
        }
    }

    fn parse(name: &str) -> Mode {
        match name {
            "keeper" => Mode::Keeper,
            "default-std" => Mode::DefaultStd,
            "subreaper" => Mode::Subreaper,
            _ => Mode::Default,
        }
    }
}

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

/// The owner's part: a scope made as `mode` says, the shape spawned into
/// it, a report, then sleep until killed.
fn play_owner(shape: usize, mark: &str, mode: Mode) -> ! {
    let script = SHAPES[shape].1;
    let scope = match mode {
        Mode::Default | Mode::DefaultStd => Scope::new(),
        Mode::Keeper => ScopeOptions::new()
            .mechanism(MechanismKind::Keeper)
            .create(),
        Mode::Subreaper => ScopeOptions::new().allow_subreaper(true).create(),
    }
    .unwrap();
    if matches!(mode, Mode::Subreaper | Mode::DefaultStd) {
        let mut sh = Command::new("sh");
        sh.args(["-c", script])
            .env("PATH", "/usr/bin:/bin")
            .env(prochandle_test_support::TREE_MARK_ENV, mark)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        scope.spawn(&mut sh).unwrap();
    } else {
        let mut sh = ScopeCommand::new("sh");
        sh.args(["-c", script])
            .env("PATH", "/usr/bin:/bin")
            .env(prochandle_test_support::TREE_MARK_ENV, mark)
            .stdin(ChildStdio::Null)
            .stdout(ChildStdio::Null);
        scope.spawn_command(&sh).unwrap();
    }
    let cgroup = scope.mechanism().cgroup_path().map(|p| p.to_owned());
    println!(
        "REPORT cgroup={cgroup:?} kind={:?}",
        scope.mechanism().kind()
    );
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Kills an owner of each shape, run by `test` in `mode`; returns the
/// scope's kind, and (shape, members before, survivors after, whether a
/// cgroup was left) for each shape.
fn kill_owners(test: &str, as_nobody: bool, mode: Mode) -> (String, Vec<Outcome>) {
    let exe = prochandle_test_support::ExeForOthers::new();
    let mut kind = String::new();
    let mut results = Vec::new();
    for (i, (name, _, members, _)) in SHAPES.iter().enumerate() {
        let mark = TreeMark::new();
        let mut command = exe.reexec(test, OWNER_ENV, &i.to_string());
        command
            .env(MARK_ENV, mark.value())
            .env(MODE_ENV, mode.name())
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
        kind = report.split_once("kind=").map_or("", |(_, k)| k).to_owned();
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
    (kind, results)
}

type Outcome = (&'static str, usize, usize, bool);

fn owner_part() {
    if let (Ok(shape), Ok(mark)) = (std::env::var(OWNER_ENV), std::env::var(MARK_ENV)) {
        let mode = Mode::parse(&std::env::var(MODE_ENV).unwrap_or_default());
        play_owner(shape.parse().unwrap(), &mark, mode);
    }
}

/// Every shape died, and no cgroup was left.
fn assert_nothing_left(kind: &str, outcomes: &[Outcome]) {
    for (name, before, survivors, left) in outcomes {
        assert_eq!(*survivors, 0, "{kind}: {name}: survivors of {before}");
        assert!(!left, "{kind}: {name}: the cgroup was left");
    }
}

#[test]
fn sigkill_of_a_scopes_owner_as_root_leaves_nothing() {
    owner_part();
    if !require_root("a cgroup scope") {
        return;
    }
    let test = "sigkill_of_a_scopes_owner_as_root_leaves_nothing";
    let (kind, outcomes) = kill_owners(test, false, Mode::Default);
    assert_eq!(kind, "Cgroup");
    assert_nothing_left(&kind, &outcomes);
}

#[test]
fn sigkill_of_a_kept_scopes_owner_leaves_nothing() {
    owner_part();
    if !require_root("running owners as root and as nobody") {
        return;
    }
    if prochandle_test_support::forced_pid_mode() {
        // No handles: the keeper is refused (its members' exit statuses
        // would be lost); what the default falls to is tested below.
        return;
    }
    let test = "sigkill_of_a_kept_scopes_owner_leaves_nothing";
    let (kind, outcomes) = kill_owners(test, false, Mode::Keeper);
    assert_eq!(kind, "Keeper");
    assert_nothing_left(&kind, &outcomes);
}

/// Owners run by `test` as `nobody` with the default scope, spawning as
/// `mode` says: the keeper holds every shape (the process group, where
/// the tier has no handles, what stayed in it).
fn default_scope_as_nobody(test: &str, mode: Mode) {
    owner_part();
    if !require_root("switching to the user nobody") {
        return;
    }
    let (kind, outcomes) = kill_owners(test, true, mode);
    if prochandle_test_support::forced_pid_mode() {
        assert_eq!(kind, "ProcessGroup");
        group_holds(&outcomes);
    } else {
        assert_eq!(kind, "Keeper", "the unprivileged default");
        assert_nothing_left(&kind, &outcomes);
    }
}

#[test]
fn sigkill_of_a_scopes_owner_as_nobody() {
    default_scope_as_nobody("sigkill_of_a_scopes_owner_as_nobody", Mode::Default);
}

#[test]
fn sigkill_of_a_scopes_owner_as_nobody_with_a_std_command() {
    default_scope_as_nobody(
        "sigkill_of_a_scopes_owner_as_nobody_with_a_std_command",
        Mode::DefaultStd,
    );
}

#[test]
fn sigkill_of_a_subreaper_scopes_owner_as_nobody_kills_the_group() {
    owner_part();
    if !require_root("switching to the user nobody") {
        return;
    }
    let test = "sigkill_of_a_subreaper_scopes_owner_as_nobody_kills_the_group";
    let (kind, outcomes) = kill_owners(test, true, Mode::Subreaper);
    assert_eq!(kind, "Subreaper");
    group_holds(&outcomes);
}

/// What the first child's process group holds dies; what left it is the
/// documented limit of those modes.
fn group_holds(outcomes: &[Outcome]) {
    for ((name, before, survivors, _), (_, _, _, in_group)) in outcomes.iter().zip(SHAPES) {
        if in_group {
            assert_eq!(*survivors, 0, "{name}: survivors of {before}");
        }
    }
}
