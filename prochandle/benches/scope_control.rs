//! Controlling 1,000 members of a cgroup scope (Linux, as root; `sleep`s
//! spawned straight into it):
//!
//! - `Scope::stats()` per call;
//! - `Scope::freeze()` + `Scope::thaw()` against the raw writes (`1` to
//!   `cgroup.freeze`, a poll of `cgroup.events` until `frozen 1`, `0`),
//!   in alternating pairs compared by median (target: at most 1.2x);
//! - `Scope::stop(TERM, 10 s)` of 1,000 members that all exit on TERM,
//!   from the call until the report (the kill step finds nobody).
//!
//! `cargo bench -p prochandle --bench scope_control`; a minute or two on
//! two cores (each stop grows a new tree).

#![allow(missing_docs)] // criterion's macros generate undocumented items

#[cfg(target_os = "linux")]
mod linux {
    use std::io::{Read, Seek, Write};
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use criterion::{Criterion, SamplingMode};
    use prochandle::{
        Mechanism, MechanismKind, Process, Scope, ScopeCommand, ScopeOptions, Signal,
    };

    pub const MEMBERS: usize = 1000;

    /// A cgroup scope holding `n` sleeps, all of which exit on TERM,
    /// spawned straight into it (`clone3`: cheap, so that a stop can be
    /// measured on a fresh tree each time); their handles, to reap them.
    pub fn tree(n: usize) -> Option<(Scope, Vec<Process>)> {
        let scope = ScopeOptions::new()
            .mechanism(MechanismKind::Cgroup)
            .create()
            .ok()?;
        let mut sleep = ScopeCommand::new("sleep");
        sleep.arg("1000");
        let members = (0..n)
            .map(|_| scope.spawn_command(&sleep).expect("spawn a member"))
            .collect();
        Some((scope, members))
    }

    /// Kills and reaps what `tree` made.
    fn reap(scope: &Scope, members: Vec<Process>) {
        scope.kill().unwrap();
        for m in members {
            m.wait().unwrap();
        }
    }

    fn cgroup_dir(scope: &Scope) -> PathBuf {
        match scope.mechanism() {
            Mechanism::Cgroup { path, .. } => path.clone(),
            other => panic!("not a cgroup scope: {other:?}"),
        }
    }

    /// The peer: what a program does by hand.
    fn raw_freeze_thaw(dir: &Path) {
        let mut freeze = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("cgroup.freeze"))
            .unwrap();
        let mut events = std::fs::File::open(dir.join("cgroup.events")).unwrap();
        freeze.write_all(b"1").unwrap();
        let mut text = String::new();
        loop {
            text.clear();
            events.rewind().unwrap();
            events.read_to_string(&mut text).unwrap();
            if text.contains("frozen 1") {
                break;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        freeze.write_all(b"0").unwrap();
    }

    fn median(mut v: Vec<Duration>) -> Duration {
        v.sort();
        v[v.len() / 2]
    }

    pub fn stats_and_freeze(c: &mut Criterion) {
        let Some((scope, members)) = tree(MEMBERS) else {
            println!("no cgroup scope here (root needed): not measured");
            return;
        };
        let mut group = c.benchmark_group("control 1000 members");
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_secs(1));
        group.bench_function("stats()", |b| b.iter(|| scope.stats().unwrap()));
        group.bench_function("freeze()+thaw()", |b| {
            b.iter(|| {
                scope.freeze().unwrap();
                scope.thaw().unwrap();
            })
        });
        let dir = cgroup_dir(&scope);
        group.bench_function("raw cgroup.freeze (peer)", |b| {
            b.iter(|| raw_freeze_thaw(&dir))
        });
        group.finish();
        let time = |f: &dyn Fn()| {
            let start = Instant::now();
            f();
            start.elapsed()
        };
        let (mut ours, mut peer) = (Vec::new(), Vec::new());
        for _ in 0..50 {
            peer.push(time(&|| raw_freeze_thaw(&dir)));
            ours.push(time(&|| {
                scope.freeze().unwrap();
                scope.thaw().unwrap();
            }));
        }
        let (o, p) = (median(ours), median(peer));
        println!(
            "freeze+thaw of {MEMBERS} members, 50 pairs: raw {p:.3?}, Scope {o:.3?}, \
             ratio {:.3} (target: at most 1.2)",
            o.as_secs_f64() / p.as_secs_f64()
        );
        let stats: Vec<Duration> = (0..50).map(|_| time(&|| drop(scope.stats()))).collect();
        println!("stats() at {MEMBERS} members: median {:.3?}", median(stats));
        reap(&scope, members);
    }

    pub fn stop(c: &mut Criterion) {
        match tree(1) {
            Some((scope, members)) => reap(&scope, members),
            None => return,
        }
        let mut group = c.benchmark_group("stop");
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_millis(100));
        group.bench_function("stop(TERM) of 1000 members", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let (scope, members) = tree(MEMBERS).unwrap();
                        let start = Instant::now();
                        let report = scope.stop(Signal::TERM, Duration::from_secs(10)).unwrap();
                        let elapsed = start.elapsed();
                        assert_eq!(report.members.len(), MEMBERS);
                        reap(&scope, members);
                        elapsed
                    })
                    .sum()
            })
        });
        group.finish();
    }
}

#[cfg(target_os = "linux")]
fn main() {
    let mut c = criterion::Criterion::default().configure_from_args();
    linux::stats_and_freeze(&mut c);
    linux::stop(&mut c);
    c.final_summary();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("this benchmark measures the Linux cgroup scope");
}
