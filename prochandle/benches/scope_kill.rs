//! Killing a whole tree, per mechanism, against `kill(-pgid)`:
//!
//! - the time from the kill until the last process of a tree of N = 10,
//!   100, 1,000 is reaped, for `cgroup.kill`, freeze + signal + thaw, the
//!   subreaper's sweeps, and a process group (`kill(-pgid)`), with the
//!   survivors of each (one leaf in ten escapes with `setsid`: only the
//!   process group leaves them alive);
//! - spawning into a scope against a plain spawn + wait (target: at most
//!   1.1x), in alternating pairs compared by median: `Scope::spawn` with a
//!   std `Command` (pre-exec hooks, so std forks), `Scope::spawn_command`
//!   (`clone3`, vfork-like; in a cgroup scope straight into the cgroup),
//!   and a new scope per spawn (adds the cgroup's `mkdir` and `rmdir`).
//!
//! Only the spawn table, without the kill trees: `cargo bench -p
//! prochandle --bench scope_kill -- no-such-bench` (the filter skips
//! every criterion cell).
//!
//! This bench process is the child subreaper, so every orphan comes back
//! to it and "reaped" means reaped here, not by init in its own time.
//! Linux, as root (the cgroup modes); `cargo bench -p prochandle --bench
//! scope_kill`. A few minutes.

#![allow(missing_docs)] // criterion's macros generate undocumented items

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::BTreeMap;
    use std::process::Command;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use criterion::{BenchmarkId, Criterion, SamplingMode};
    use prochandle::{MechanismKind, Process, Scope, ScopeCommand, ScopeOptions};
    use prochandle_test_support::TreeMark;

    /// Survivors seen after each kill, by (mechanism, N).
    static SURVIVORS: Mutex<BTreeMap<(String, usize), Vec<usize>>> = Mutex::new(BTreeMap::new());

    const KINDS: [MechanismKind; 4] = [
        MechanismKind::Cgroup,
        MechanismKind::CgroupFreeze,
        MechanismKind::Subreaper,
        MechanismKind::ProcessGroup,
    ];

    fn options(kind: MechanismKind) -> ScopeOptions {
        ScopeOptions::new().mechanism(kind).allow_subreaper(true)
    }

    fn scope(kind: MechanismKind) -> Option<Scope> {
        options(kind).create().ok()
    }

    /// A tree of `n` processes: a shell and `n - 1` sleeping leaves, one
    /// in ten of them in a session of its own. Returns the shell's PID
    /// (the group's ID in the process-group mode) and how many escape.
    fn grow(scope: &Scope, mark: &TreeMark, n: usize) -> (i32, usize) {
        let script = format!(
            "i=1; while [ $i -lt {n} ]; do \
               if [ $((i % 10)) -eq 0 ]; then setsid sleep 1000 & else sleep 1000 & fi; \
               i=$((i+1)); done; wait"
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script]);
        mark.apply(&mut cmd);
        let shell = scope.spawn(&mut cmd).expect("spawn the tree");
        let pid = shell.pid() as i32;
        shell.release();
        while mark.live().len() < n {
            std::thread::sleep(Duration::from_millis(2));
        }
        (pid, (n - 1) / 10)
    }

    /// Reaps `count` children (blocking), or all of them with `None`.
    fn reap(count: Option<usize>) {
        let mut reaped = 0;
        while count.is_none_or(|c| reaped < c) {
            // SAFETY: waitpid with a valid status pointer; this bench owns
            // every child of its process.
            let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) };
            if r < 0 {
                break;
            }
            reaped += 1;
        }
    }

    /// One measured kill: the kill and the reaping of the whole tree.
    fn kill_once(kind: MechanismKind, n: usize) -> Duration {
        let scope = scope(kind).expect("mechanism");
        let mark = TreeMark::new();
        let (pgid, escapers) = grow(&scope, &mark, n);
        let start = Instant::now();
        if kind == MechanismKind::ProcessGroup {
            // The peer: a plain kill(-pgid) (the shell, unreaped, keeps the
            // group's ID), then everyone but the escapers is reaped.
            // SAFETY: kill with a negative PID signals that group only.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            reap(Some(n - escapers));
        } else {
            scope.kill().expect("kill");
            reap(None);
        }
        let elapsed = start.elapsed();
        let survivors = mark.live().len();
        SURVIVORS
            .lock()
            .unwrap()
            .entry((
                match kind {
                    MechanismKind::ProcessGroup => "kill(-pgid) (peer)".to_string(),
                    other => other.to_string(),
                },
                n,
            ))
            .or_default()
            .push(survivors);
        drop(mark); // kills the escapers
        reap(None);
        elapsed
    }

    pub fn kill_trees(c: &mut Criterion) {
        // SAFETY: prctl with an option and an integer; this bench owns its
        // process.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
        let mut group = c.benchmark_group("kill tree until reaped");
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_millis(100));
        for kind in KINDS {
            if scope(kind).is_none() {
                println!("{kind}: not available here, not measured");
                continue;
            }
            for n in [10, 100, 1000] {
                let name = match kind {
                    MechanismKind::ProcessGroup => "kill(-pgid) (peer)".to_string(),
                    other => other.to_string(),
                };
                group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                    b.iter_custom(|iters| (0..iters).map(|_| kill_once(kind, n)).sum())
                });
            }
        }
        group.finish();
    }

    pub fn print_survivors() {
        println!("survivors after each kill (one leaf in ten escapes with setsid):");
        for ((kind, n), seen) in SURVIVORS.lock().unwrap().iter() {
            let max = seen.iter().max().copied().unwrap_or(0);
            println!(
                "  {kind:<32} N={n:<5} survivors: max {max} over {} kills",
                seen.len()
            );
        }
    }

    fn plain_spawn_wait() {
        let p = Process::spawn(&mut Command::new("/bin/true")).unwrap();
        assert!(p.wait().unwrap().success());
    }

    /// How a row of the spawn table spawns `/bin/true` into its scope.
    #[derive(Clone, Copy)]
    enum Via {
        /// `Scope::spawn` with a std `Command` (pre-exec hooks, so `fork`).
        Command,
        /// `Scope::spawn_command` (cgroup: `clone3` into the cgroup).
        ScopeCommand,
        /// A new scope per spawn, dropped after the wait (what a tool that
        /// runs one command per scope pays: `mkdir`, `rmdir`).
        ScopePerSpawn,
    }

    fn scoped_spawn_wait(scope: &Scope, via: Via) {
        let p = match via {
            Via::Command => scope.spawn(&mut Command::new("/bin/true")).unwrap(),
            _ => scope
                .spawn_command(&ScopeCommand::new("/bin/true"))
                .unwrap(),
        };
        assert!(p.wait().unwrap().success());
    }

    /// Median of `ours` and of the plain peer over 1,000 alternating pairs.
    fn pairs(ours: &dyn Fn()) -> (Duration, Duration) {
        let time = |f: &dyn Fn()| {
            let start = Instant::now();
            f();
            start.elapsed()
        };
        let (mut peer, mut mine) = (Vec::new(), Vec::new());
        for i in 0..1000 {
            if i % 2 == 0 {
                peer.push(time(&plain_spawn_wait));
                mine.push(time(ours));
            } else {
                mine.push(time(ours));
                peer.push(time(&plain_spawn_wait));
            }
        }
        peer.sort();
        mine.sort();
        (peer[peer.len() / 2], mine[mine.len() / 2])
    }

    /// Spawn + wait of `/bin/true` into a scope against a plain one, in
    /// alternating pairs, by median (fork and exec swing with the machine).
    pub fn spawn_cost() {
        let no_death_signal = ScopeOptions::new()
            .mechanism(MechanismKind::Subreaper)
            .allow_subreaper(true)
            .death_signal(None);
        let rows: [(&str, Option<ScopeOptions>, Via); 9] = [
            (
                "cgroup, Scope::spawn(Command)",
                Some(options(MechanismKind::Cgroup)),
                Via::Command,
            ),
            (
                "cgroup, spawn_command",
                Some(options(MechanismKind::Cgroup)),
                Via::ScopeCommand,
            ),
            (
                "cgroup, a new scope per spawn_command",
                Some(options(MechanismKind::Cgroup)),
                Via::ScopePerSpawn,
            ),
            (
                "subreaper, spawn_command",
                Some(options(MechanismKind::Subreaper)),
                Via::ScopeCommand,
            ),
            (
                "process group, spawn_command (no owner-death protection beyond the group)",
                Some(options(MechanismKind::ProcessGroup)),
                Via::ScopeCommand,
            ),
            (
                "keeper, spawn_command (a keeper forked per member)",
                Some(options(MechanismKind::Keeper)),
                Via::ScopeCommand,
            ),
            (
                "keeper, Scope::spawn(Command) (std's child is the keeper)",
                Some(options(MechanismKind::Keeper)),
                Via::Command,
            ),
            (
                "subreaper, Scope::spawn(Command)",
                Some(options(MechanismKind::Subreaper)),
                Via::Command,
            ),
            (
                "subreaper, no death signal, Scope::spawn(Command)",
                Some(no_death_signal),
                Via::Command,
            ),
        ];
        for (row, options, via) in rows {
            let Some(scope) = options.as_ref().and_then(|o| o.create().ok()) else {
                println!("{row}: not available here, not measured");
                continue;
            };
            let (p, o) = match via {
                Via::ScopePerSpawn => {
                    drop(scope);
                    let options = options.as_ref().unwrap();
                    pairs(&|| scoped_spawn_wait(&options.create().unwrap(), via))
                }
                _ => pairs(&|| scoped_spawn_wait(&scope, via)),
            };
            println!(
                "spawn+wait /bin/true, 1000 pairs: plain {p:.3?}, {row} {o:.3?}, \
                 ratio {:.3} (target: at most 1.1)",
                o.as_secs_f64() / p.as_secs_f64()
            );
        }
    }
}

#[cfg(target_os = "linux")]
fn main() {
    let mut c = criterion::Criterion::default().configure_from_args();
    linux::kill_trees(&mut c);
    c.final_summary();
    linux::print_survivors();
    linux::spawn_cost();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("this benchmark measures the Linux mechanisms");
}
