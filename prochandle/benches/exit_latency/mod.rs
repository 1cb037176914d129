//! The Linux measurements (see the header of `exit_latency.rs`).
//!
//! One binary, three roles, chosen by its first argument:
//! - none: the orchestrator, which runs every (method, N) in a fresh
//!   process of this binary and prints the tables;
//! - `--measure METHOD N SAMPLES IDLE_SECS`: one measurement, printed as a
//!   `RESULT` line;
//! - `--spawn-sleepers COUNT`: the helper that starts the sleeping
//!   processes, prints their PIDs, reaps them as they die, and kills them
//!   all when its standard input closes.

mod methods;
mod report;
mod sleepers;

use std::collections::VecDeque;
use std::io::Write;
use std::sync::mpsc::channel;
use std::thread;
use std::time::{Duration, Instant};

use methods::*;
use prochandle::raise_fd_limit;
use report::{orchestrate, percentile};
use rustix::process::Signal;
use rustix::time::{clock_gettime, ClockId};
use sleepers::{helper, Sleepers};

const NON_CHILD_METHODS: &[&str] = &["watcher", "raw-epoll", "kill-poll", "thread-per"];
const CHILD_METHODS: &[&str] = &["child-watcher", "child-async", "child-tokio"];
/// Methods whose idle CPU is measured (the issue asks for these two).
const IDLE_METHODS: &[&str] = &["watcher", "kill-poll"];

pub fn main() {
    // `cargo bench` passes `--bench`; ignore it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("--spawn-sleepers") => helper(args[1].parse().expect("COUNT")),
        Some("--measure") => measure(
            &args[1],
            args[2].parse().expect("N"),
            args[3].parse().expect("SAMPLES"),
            args[4].parse().expect("IDLE_SECS"),
        ),
        _ => orchestrate(),
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_bytes() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: i64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

fn process_cpu() -> Duration {
    let t = clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The method called `method`, watching processes from `pool` (the
/// methods that watch children spawn their own).
fn method_named(method: &str, pool: VecDeque<u32>) -> Box<dyn Method> {
    match method {
        "watcher" | "child-watcher" => Box::new(WatcherMethod::new(pool)),
        "raw-epoll" => Box::new(RawEpoll::new(pool)),
        "kill-poll" => Box::new(KillPoll::new(pool)),
        "thread-per" => {
            let (tx, rx) = channel();
            Box::new(ThreadPer { pool, tx, rx })
        }
        "child-async" => Box::new(TokioChildren::new(true)),
        "child-tokio" => Box::new(TokioChildren::new(false)),
        other => panic!("unknown method {other}"),
    }
}

/// `samples` times: one more process watched, the oldest of `watched`
/// killed, and the time until `m` saw it exit; sorted.
fn exit_latencies(
    m: &mut dyn Method,
    watched: &mut VecDeque<u32>,
    samples: usize,
    method: &str,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        watched.push_back(m.add_one());
        // Let the registration settle (a thread to start, a list to grow).
        thread::sleep(Duration::from_millis(3));
        let victim = watched.pop_front().expect("a watched process");
        let start = Instant::now();
        rustix::process::kill_process(pid(victim), Signal::KILL).expect("kill");
        let (seen_pid, seen) = m.recv();
        assert_eq!(seen_pid, victim, "{method}: an exit nobody caused");
        m.done(seen_pid);
        latencies.push(seen.saturating_duration_since(start));
    }
    latencies.sort();
    latencies
}

fn measure(method: &str, n: usize, samples: usize, idle_secs: u64) {
    raise_fd_limit().expect("raise RLIMIT_NOFILE");
    let children = CHILD_METHODS.contains(&method);
    let sleepers = (!children).then(|| Sleepers::start(n + samples));
    let pool: VecDeque<u32> = sleepers
        .as_ref()
        .map(|s| s.pids.iter().copied().collect())
        .unwrap_or_default();
    let mut m = method_named(method, pool);
    thread::sleep(Duration::from_millis(50));

    let rss_before = rss_bytes();
    let mut watched: VecDeque<u32> = (0..n).map(|_| m.add_one()).collect();
    thread::sleep(Duration::from_millis(200));
    let bytes_per_process = if children {
        i64::MIN // spawning children grows RSS for reasons of its own
    } else {
        (rss_bytes() - rss_before) / n as i64
    };

    let idle_cpu = if idle_secs > 0 {
        let before = process_cpu();
        thread::sleep(Duration::from_secs(idle_secs));
        (process_cpu() - before).as_nanos() as i64
    } else {
        -1
    };

    let latencies = exit_latencies(m.as_mut(), &mut watched, samples, method);
    println!(
        "RESULT {} {} {idle_cpu} {bytes_per_process}",
        percentile(&latencies, 50).as_nanos(),
        percentile(&latencies, 99).as_nanos()
    );
    let all: Vec<String> = latencies.iter().map(|d| d.as_nanos().to_string()).collect();
    println!("SAMPLES {}", all.join(" "));
    std::io::stdout().flush().unwrap();

    if children {
        // Our own unreaped children: their PIDs are still theirs.
        for raw in watched {
            let _ = rustix::process::kill_process(pid(raw), Signal::KILL);
        }
    }
    drop(sleepers);
    std::process::exit(0);
}
