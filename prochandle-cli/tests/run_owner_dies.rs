//! Nothing outlives `prochandle run`: killed with `SIGKILL` (which it
//! cannot catch), `run` still takes CMD's whole tree with it, every tree
//! shape (background grandchildren, a `setsid` double fork, a new process
//! group, twenty members, a stopped member, a shell that ignores the
//! forwarded signals, a fork loop), as root (a cgroup and its guardian) and
//! as `nobody` (no cgroup: the keeper), and no cgroup directory is left.
//! The soak runs 500 `run`s, ten at a time, with random shapes, users and
//! fates, and checks each status against GNU timeout's rules.
#![cfg(target_os = "linux")]

mod common;
#[path = "owner_dies/shapes.rs"]
mod shapes;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prochandle::{Scope, Signal};
use prochandle_test_support::{require_root, trees::cgroups_named, CgroupCleanup};
use shapes::{MarkedRun, Rng, Shape, User};

/// How long a killed tree, its guardian or keeper and its cgroup may take
/// to be gone (they usually are within milliseconds).
const GONE: Duration = Duration::from_secs(5);
/// How long a shape may take to be in place on a loaded machine.
const ALIVE: Duration = Duration::from_secs(15);

fn binary() -> PathBuf {
    PathBuf::from(common::prochandle().get_program())
}

/// Where `run`'s cgroups go: beside a scope made here (as root, `run` is
/// our child, in our cgroup).
fn cgroup_parent() -> Option<PathBuf> {
    let probe = Scope::new().ok()?;
    Some(probe.mechanism().cgroup_path()?.parent()?.to_owned())
}

/// Waits up to [`GONE`] for the cgroups of `run_pid` to be removed; those
/// still there are returned (and then removed, so the test leaves none).
fn cgroups_left(parent: Option<&Path>, run_pid: u32) -> Vec<PathBuf> {
    let Some(parent) = parent else {
        return Vec::new();
    };
    let prefix = format!("prochandle-{run_pid}-");
    prochandle_test_support::within(GONE, || {
        cgroups_named(parent, &prefix).is_empty().then_some(())
    });
    let left = cgroups_named(parent, &prefix);
    for dir in &left {
        drop(CgroupCleanup(dir.clone()));
    }
    left
}

/// Each PID with its command name, state and parent, for a failure.
fn describe(pids: &[u32]) -> Vec<String> {
    pids.iter()
        .map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            format!(
                "{pid}: {}",
                stat.split(' ').take(4).collect::<Vec<_>>().join(" ")
            )
        })
        .collect()
}

/// Kills `run` as `user` with each shape; returns one line per failure.
fn sigkill_every_shape(user: User) -> Vec<String> {
    let parent = cgroup_parent();
    let mut failures = Vec::new();
    for shape in Shape::ALL {
        let script = shape.script("exec sleep 900");
        let run = MarkedRun::start(&binary(), user, &["60", "sh", "-c", &script]);
        if !run.wait_members(shape.members(), ALIVE) {
            failures.push(format!(
                "{shape:?}: only {} members came alive",
                run.members()
            ));
            continue;
        }
        let members = run.members();
        run.signal(Signal::KILL);
        assert_eq!(run.wait(GONE), Some(128 + 9), "{shape:?}: run killed");
        let survivors = run.mark.wait_gone(GONE);
        let dirs = cgroups_left(parent.as_deref(), run.pid());
        eprintln!(
            "{user:?} {shape:?}: {members} members alive before the kill, {} survivors, {} cgroups left",
            survivors.len(),
            dirs.len()
        );
        if !survivors.is_empty() || !dirs.is_empty() {
            failures.push(format!(
                "{shape:?}: survivors {survivors:?}, cgroups {dirs:?}"
            ));
        }
    }
    failures
}

#[test]
fn sigkill_of_run_as_root_leaves_no_process_and_no_cgroup() {
    if !require_root("a cgroup for run's tree") {
        return;
    }
    let failures = sigkill_every_shape(User::Root);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn sigkill_of_run_as_nobody_leaves_no_process() {
    if !require_root("setpriv to the user nobody") {
        return;
    }
    let failures = sigkill_every_shape(User::Nobody);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// How one `run` of the soak ends.
#[derive(Debug, Clone, Copy)]
enum Fate {
    /// CMD exits 7 by itself.
    Exits,
    /// The timeout runs out.
    TimesOut,
    /// `run` gets this signal and forwards it.
    Forwarded(Signal),
    /// `run` is killed with `SIGKILL`.
    RunKilled,
}

impl Fate {
    fn pick(rng: &mut Rng) -> Fate {
        match rng.below(6) {
            0 => Fate::Exits,
            1 => Fate::TimesOut,
            2 => Fate::Forwarded(Signal::TERM),
            3 => Fate::Forwarded(Signal::INT),
            4 => Fate::Forwarded(Signal::HUP),
            _ => Fate::RunKilled,
        }
    }

    /// GNU timeout's status for this fate and shape (`-k 2`): a CMD
    /// that ignores the signal is killed when the kill-after delay (started
    /// by the first signal sent) runs out, which counts as a timeout: 137.
    /// (The delay is long enough for `run` to see a CMD that does die of
    /// the signal before it runs out, even on a loaded machine: a CMD that
    /// died of a forwarded signal but was seen only after the delay would
    /// count as timed out, 124, as with GNU timeout.)
    fn status(self, shape: Shape) -> i32 {
        match self {
            Fate::Exits => 7,
            _ if shape.ignores_signals() && !matches!(self, Fate::RunKilled) => 137,
            Fate::TimesOut => 124,
            Fate::Forwarded(signal) => 128 + signal.as_raw(),
            Fate::RunKilled => 128 + 9,
        }
    }
}

/// One `run` of the soak; `Err` says what went wrong.
fn soak_one(rng: &mut Rng, parent: Option<&Path>) -> Result<(), String> {
    let shape = Shape::ALL[rng.below(Shape::ALL.len())];
    let fate = Fate::pick(rng);
    let user = if rng.below(2) == 0 {
        User::Root
    } else {
        User::Nobody
    };
    let (duration, main) = match fate {
        Fate::Exits => ("30", "sleep 0.2; exit 7"),
        Fate::TimesOut => ("0.5", "exec sleep 900"),
        _ => ("30", "exec sleep 900"),
    };
    let script = shape.script(main);
    let run = MarkedRun::start(&binary(), user, &["-k", "2", duration, "sh", "-c", &script]);
    let started = Instant::now();
    let what = format!("{user:?} {shape:?} {fate:?} (run {})", run.pid());
    match fate {
        Fate::Forwarded(_) | Fate::RunKilled if !run.wait_members(shape.members(), ALIVE) => {
            return Err(format!("{what}: the tree never came alive"));
        }
        Fate::Forwarded(signal) => {
            if std::env::var_os("OWNER_DIES_DEBUG").is_some() {
                eprintln!("{what}: signal after {:?}", started.elapsed());
            }
            run.signal(signal)
        }
        Fate::RunKilled => run.signal(Signal::KILL),
        _ => {}
    }
    let status = run.wait(Duration::from_secs(20));
    let survivors = describe(&run.mark.wait_gone(GONE));
    let dirs = cgroups_left(parent, run.pid());
    if status != Some(fate.status(shape)) || !survivors.is_empty() || !dirs.is_empty() {
        return Err(format!(
            "{what}: status {status:?} (want {}) after {:?}, survivors {survivors:?}, cgroups {dirs:?}",
            fate.status(shape),
            started.elapsed()
        ));
    }
    Ok(())
}

#[test]
fn soak_500_runs_ten_at_once_leave_nothing() {
    if !require_root("cgroups, and setpriv to the user nobody") {
        return;
    }
    const RUNS: usize = 500;
    const AT_ONCE: usize = 10;
    let parent = cgroup_parent();
    let mut seeds = Rng::new();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..AT_ONCE {
            let mut rng = Rng::seeded(seeds.below(usize::MAX) as u64 | 1);
            let (next, failures, parent) = (&next, &failures, parent.as_deref());
            s.spawn(move || {
                while next.fetch_add(1, Ordering::Relaxed) < RUNS {
                    if let Err(failure) = soak_one(&mut rng, parent) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    eprintln!("{RUNS} runs, {AT_ONCE} at once, in {elapsed:?}");
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
    assert!(
        elapsed < Duration::from_secs(240),
        "the soak took {elapsed:?}, far beyond its two minutes"
    );
}
