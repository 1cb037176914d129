//! Concurrency under PID reuse: 16 threads, 100,000 mixed operations on
//! shared `Arc<Process>`es whose processes exit at random times, while the
//! PIDs of the dead are handed straight to new, innocent processes.
//!
//! Runs as the init of a fresh PID namespace (root only), where
//! `ns_last_pid` lets us put a bystander on each reaped target's PID while
//! worker threads may still hold, and act on, the target's `Process`.
//! Checked: no panic; no deadlock (the parent's watchdog kills the scenario
//! after two minutes); no descriptor leaked; every bystander alive with
//! nothing pending (they block `SIGCONT`, the signal the workers send; a
//! stray `SIGKILL` would kill them).
//!
//! The crate has no hand-written atomics (a `Mutex` and a `OnceLock` per
//! `Process`, a `OnceLock` for the probe), so there is nothing for loom to
//! model-check; this stress test covers the locking as used.
#![cfg(target_os = "linux")]

mod attack_support;

use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attack_support::*;
use prochandle::{capabilities, ErrorKind, Process, Signal};
use prochandle_test_support::{is_root, open_fds, skip};

const THREADS: usize = 16;
const OPERATIONS: usize = 100_000;
/// Live targets, and recently reaped ones still being poked at.
const LIVE: usize = 8;
const GRAVEYARD: usize = 8;
/// Bystanders spawned on recycled PIDs, at most.
const MAX_BYSTANDERS: usize = 400;

const TEST: &str = "sixteen_threads_never_hit_a_recycled_pid";

#[test]
fn sixteen_threads_never_hit_a_recycled_pid() {
    if scenario().is_some() {
        return stress();
    }
    if !is_root() {
        return skip("the stress test recycles PIDs in a new PID namespace: needs root");
    }
    let mut cmd = reexec(TEST, "stress");
    in_new_pid_namespace(&mut cmd);
    let out = match run_with_watchdog(&mut cmd, Duration::from_secs(120)) {
        Ok(out) => out,
        Err(e) => return skip(&format!("cannot start a PID namespace: {e}")),
    };
    out.assert_success("stress");
    for line in out.report_lines() {
        println!("{line}");
    }
    assert_eq!(out.report("operations").as_deref(), Some("100000"));
    let recycled: usize = out.report("recycled_pids").unwrap().parse().unwrap();
    assert!(recycled > 0, "no PID was recycled: the test proved nothing");
}

fn target(rng: &mut Rng) -> Arc<Process> {
    let ms = 1 + rng.below(40);
    let mut cmd = Command::new("sleep");
    cmd.arg(format!("0.{ms:03}"));
    Arc::new(Process::spawn(&mut cmd).expect("spawn target"))
}

struct Pool {
    live: Vec<Arc<Process>>,
    dead: Vec<Arc<Process>>,
}

impl Pool {
    /// Any target, live or reaped, with equal chance.
    fn pick(&self, rng: &mut Rng) -> Arc<Process> {
        let i = rng.below((self.live.len() + self.dead.len()) as u64) as usize;
        match self.live.get(i) {
            Some(p) => p.clone(),
            None => self.dead[i - self.live.len()].clone(),
        }
    }

    /// Puts `new` in live slot `i` and `old` among the dead, which keep the
    /// last `GRAVEYARD` only.
    fn retire(&mut self, i: usize, old: Arc<Process>, new: Arc<Process>) {
        self.live[i] = new;
        self.dead.push(old);
        if self.dead.len() > GRAVEYARD {
            self.dead.remove(0);
        }
    }
}

fn stress() {
    assert_eq!(std::process::id(), 1, "not the init of a new PID namespace");
    let handles = capabilities().handles();
    let (mut rng, seed) = Rng::seeded_from_clock();
    println!("seed {seed}");
    // Warm up everything that opens a descriptor once (the probe).
    Process::spawn(&mut Command::new("true"))
        .unwrap()
        .wait()
        .unwrap();
    let fds_before = open_fds();
    let started = Instant::now();

    let pool = Arc::new(Mutex::new(Pool {
        live: (0..LIVE).map(|_| target(&mut rng)).collect(),
        dead: Vec::new(),
    }));
    let done = Arc::new(AtomicUsize::new(0));
    let workers = start_workers(&pool, &done, seed, handles);
    let recycling = recycle_until_done(&pool, &done, &mut rng);
    for w in workers {
        w.join().expect("a worker panicked");
    }
    let elapsed = started.elapsed();

    let pool = Arc::try_unwrap(pool)
        .ok()
        .expect("workers are gone")
        .into_inner()
        .unwrap();
    for p in pool.live.iter().chain(&pool.dead) {
        let _ = p.kill();
        p.wait().unwrap();
    }
    drop(pool);
    check_bystanders(recycling.bystanders);
    let fds_after = open_fds();
    assert_eq!(fds_before, fds_after, "descriptors leaked");
    println!(
        "\nREPORT operations={OPERATIONS} threads={THREADS} targets={} \
         recycled_pids={} fds_before={fds_before} fds_after={fds_after} seconds={:.1} mode={}",
        recycling.spawned,
        recycling.recycled,
        elapsed.as_secs_f64(),
        if handles { "pidfd" } else { "guarded-pid" }
    );
}

/// `THREADS` workers, each doing random operations on random targets of
/// the pool, live or reaped, until `OPERATIONS` have been done in all.
fn start_workers(
    pool: &Arc<Mutex<Pool>>,
    done: &Arc<AtomicUsize>,
    seed: u64,
    handles: bool,
) -> Vec<std::thread::JoinHandle<()>> {
    let ops = Arc::new(AtomicUsize::new(0));
    (0..THREADS)
        .map(|t| {
            let (pool, ops, done) = (pool.clone(), ops.clone(), done.clone());
            let mut rng = Rng::new(seed ^ ((t as u64 + 1) * 0x9E37_79B9));
            std::thread::spawn(move || {
                while ops.fetch_add(1, Ordering::Relaxed) < OPERATIONS {
                    let p = pool.lock().unwrap().pick(&mut rng);
                    operate(&p, &mut rng, handles);
                    // Hold the clone a little: the run then lasts a few
                    // seconds, long enough for hundreds of targets to exit
                    // and their PIDs to be recycled under the workers.
                    std::thread::sleep(Duration::from_micros(rng.below(600)));
                    drop(p);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect()
}

/// What the recycling thread did: targets started in all, bystanders
/// that got a reaped target's PID, and the bystanders themselves.
struct Recycling {
    spawned: usize,
    recycled: usize,
    bystanders: Vec<Child>,
}

/// Replaces targets as they exit, and gives each reaped target's PID to a
/// bystander at once. (A worker may have reaped a target earlier, and a new
/// target may already sit on its PID: then the bystander gets another PID,
/// and it is the new target that holds the recycled one.)
fn recycle_until_done(pool: &Mutex<Pool>, done: &AtomicUsize, rng: &mut Rng) -> Recycling {
    let mut r = Recycling {
        spawned: LIVE,
        recycled: 0,
        bystanders: Vec::new(),
    };
    while done.load(Ordering::Relaxed) < OPERATIONS {
        for i in 0..LIVE {
            let old = pool.lock().unwrap().live[i].clone();
            if old.try_wait().expect("try_wait").is_none() {
                continue;
            }
            if r.bystanders.len() < MAX_BYSTANDERS {
                next_pid_will_be(old.pid()).expect("ns_last_pid");
                let b = sleeper_blocking(&[libc::SIGCONT], "1000")
                    .spawn()
                    .expect("spawn bystander");
                r.recycled += usize::from(b.id() == old.pid());
                r.bystanders.push(b);
            }
            let new = target(rng);
            r.spawned += 1;
            pool.lock().unwrap().retire(i, old, new);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    r
}

/// Every bystander is alive with no signal pending; then it is killed and
/// reaped.
fn check_bystanders(bystanders: Vec<Child>) {
    std::thread::sleep(Duration::from_millis(20));
    for mut b in bystanders {
        let pid = b.id();
        assert_eq!(
            pending_signals(pid),
            Some(0),
            "bystander {pid} received a signal"
        );
        assert!(
            b.try_wait().unwrap().is_none(),
            "bystander {pid} was killed"
        );
        b.kill().unwrap();
        b.wait().unwrap();
    }
}

fn operate(p: &Process, rng: &mut Rng, handles: bool) {
    match rng.below(5) {
        0 => {
            let sig = if rng.below(50) == 0 {
                Signal::KILL
            } else {
                Signal::CONT
            };
            match p.signal(sig) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Done => {}
                Err(e) => panic!("signal: {e}"),
            }
        }
        1 => {
            p.try_wait().expect("try_wait");
        }
        2 => {
            let d = Duration::from_micros(rng.below(1000));
            p.wait_timeout(d).expect("wait_timeout");
        }
        3 => match p.with_handle(|fd| {
            use std::os::fd::AsRawFd;
            // SAFETY: F_GETFD on the lent descriptor.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) }
        }) {
            Ok(flags) => assert!(handles && flags >= 0, "lent a closed descriptor"),
            Err(e) => assert!(!handles && e.kind() == ErrorKind::NoHandle, "{e}"),
        },
        _ => {
            // Only a clone to drop (below, in the caller), plus the pid.
            let _ = p.pid();
        }
    }
}
