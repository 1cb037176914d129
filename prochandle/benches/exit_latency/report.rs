//! The orchestrator: runs every (method, N) in a fresh process of this
//! binary and prints the tables.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{env_or, CHILD_METHODS, IDLE_METHODS, NON_CHILD_METHODS};

/// One measurement, as printed by `--measure`.
#[derive(Clone, Copy, Default)]
pub(super) struct Outcome {
    pub(super) median: Duration,
    pub(super) p99: Duration,
    pub(super) idle_cpu: Option<Duration>,
    pub(super) bytes_per_process: Option<i64>,
}

pub(super) fn orchestrate() {
    let ns: Vec<usize> = std::env::var("PROCHANDLE_BENCH_NS")
        .unwrap_or_else(|_| "1,100,1000,10000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("PROCHANDLE_BENCH_NS: numbers"))
        .collect();
    let samples: usize = env_or("PROCHANDLE_BENCH_SAMPLES", 100);
    let idle_secs: u64 = env_or("PROCHANDLE_BENCH_IDLE_SECS", 10);
    let me = std::env::current_exe().expect("current_exe");

    let rounds: usize = env_or("PROCHANDLE_BENCH_ROUNDS", 4).max(1);
    let methods: Vec<&str> = NON_CHILD_METHODS
        .iter()
        .chain(CHILD_METHODS)
        .copied()
        .collect();

    let mut results: HashMap<(&str, usize), Outcome> = HashMap::new();
    let started = Instant::now();
    for &n in &ns {
        // Several rounds, each method once per round in a rotating order,
        // so that a burst of load elsewhere on the machine is shared out
        // rather than landing on one method. Spawning 10,000 sleepers per
        // run is slow: that size gets one round.
        let rounds = if n >= 10_000 { 1 } else { rounds };
        let per_round = samples.div_ceil(rounds);
        let mut pooled: HashMap<&str, (Vec<Duration>, Outcome)> = HashMap::new();
        for round in 0..rounds {
            for i in 0..methods.len() {
                let method = methods[(i + round) % methods.len()];
                let idle = if round == 0 && IDLE_METHODS.contains(&method) {
                    idle_secs
                } else {
                    0
                };
                eprint!("{method:>14} N={n:<6} round {round} ... ");
                if let Some((outcome, latencies)) = measured(&me, method, n, per_round, idle) {
                    let entry = pooled.entry(method).or_insert((Vec::new(), outcome));
                    entry.0.extend(latencies);
                }
            }
        }
        for (method, (mut latencies, first)) in pooled {
            latencies.sort();
            results.insert(
                (method, n),
                Outcome {
                    median: percentile(&latencies, 50),
                    p99: percentile(&latencies, 99),
                    ..first
                },
            );
        }
    }
    eprintln!("total time {:?}", started.elapsed());
    print_tables(&ns, samples, idle_secs, &results);
}

/// One measurement, in a child (this bench re-run with `--measure`): its
/// outcome and every latency sampled, or `None` (said) if it failed.
fn measured(
    me: &Path,
    method: &str,
    n: usize,
    samples: usize,
    idle_secs: u64,
) -> Option<(Outcome, Vec<Duration>)> {
    let out = Command::new(me)
        .args(["--measure", method, &n.to_string(), &samples.to_string()])
        .arg(idle_secs.to_string())
        .stderr(Stdio::inherit())
        .output()
        .expect("run a measurement");
    let text = String::from_utf8_lossy(&out.stdout);
    let outcome = text.lines().find_map(parse_result);
    let latencies = text.lines().find_map(parse_samples);
    match (outcome, latencies) {
        (Some(outcome), Some(latencies)) => {
            eprintln!("median {:?}", outcome.median);
            Some((outcome, latencies))
        }
        _ => {
            eprintln!("failed: {}", out.status);
            None
        }
    }
}

pub(super) fn parse_result(line: &str) -> Option<Outcome> {
    let mut fields = line.strip_prefix("RESULT ")?.split_whitespace();
    let mut next = || fields.next().and_then(|f| f.parse::<i64>().ok());
    let median = Duration::from_nanos(next()? as u64);
    let p99 = Duration::from_nanos(next()? as u64);
    let idle = next()?;
    let bytes = next()?;
    Some(Outcome {
        median,
        p99,
        idle_cpu: (idle >= 0).then(|| Duration::from_nanos(idle as u64)),
        bytes_per_process: (bytes != i64::MIN).then_some(bytes),
    })
}

pub(super) fn parse_samples(line: &str) -> Option<Vec<Duration>> {
    line.strip_prefix("SAMPLES ")?
        .split_whitespace()
        .map(|f| f.parse().ok().map(Duration::from_nanos))
        .collect()
}

/// The `pct`-th percentile of sorted samples (nearest rank).
pub(super) fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted[rank - 1]
}

pub(super) fn us(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

pub(super) fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        "-".into()
    } else {
        format!("{:.2}", a.as_secs_f64() / b.as_secs_f64())
    }
}

pub(super) fn print_tables(
    ns: &[usize],
    samples: usize,
    idle_secs: u64,
    results: &HashMap<(&str, usize), Outcome>,
) {
    let get = |m: &str, n: usize| results.get(&(m, n)).copied();
    print_non_child_latency(ns, samples, &get);
    print_idle_cpu(ns, idle_secs, &get);
    print_memory(ns, &get);
    print_child_latency(ns, &get);
}

/// One measurement, if it was made.
type Get<'a> = dyn Fn(&str, usize) -> Option<Outcome> + 'a;

fn print_non_child_latency(ns: &[usize], samples: usize, get: &Get<'_>) {
    println!(
        "\n### Exit-notification latency, non-children (µs, median / p99 of {samples} kills)\n"
    );
    println!("| N | watcher | raw epoll (floor) | kill(pid,0) every 10 ms | thread per process | watcher / floor, median | watcher / floor, p99 |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &n in ns {
        let cell =
            |m| get(m, n).map_or("-".into(), |o| format!("{} / {}", us(o.median), us(o.p99)));
        let (w, f) = (get("watcher", n), get("raw-epoll", n));
        let (rm, rp) = match (w, f) {
            (Some(w), Some(f)) => (ratio(w.median, f.median), ratio(w.p99, f.p99)),
            _ => ("-".into(), "-".into()),
        };
        println!(
            "| {n} | {} | {} | {} | {} | {rm} | {rp} |",
            cell("watcher"),
            cell("raw-epoll"),
            cell("kill-poll"),
            cell("thread-per")
        );
    }
}

fn print_idle_cpu(ns: &[usize], idle_secs: u64, get: &Get<'_>) {
    println!("\n### CPU time burnt in {idle_secs} s while nothing exits\n");
    println!("| N | watcher | kill(pid,0) every 10 ms | polling / watcher |");
    println!("| ---: | ---: | ---: | ---: |");
    for &n in ns {
        let idle = |m| get(m, n).and_then(|o| o.idle_cpu);
        let show = |d: Option<Duration>| {
            d.map_or("-".into(), |d| format!("{:.3} ms", d.as_secs_f64() * 1e3))
        };
        let r = match (idle("kill-poll"), idle("watcher")) {
            (Some(p), Some(w)) if !w.is_zero() => {
                format!("{:.0}x", p.as_secs_f64() / w.as_secs_f64())
            }
            (Some(_), Some(_)) => "∞ (watcher: 0)".into(),
            _ => "-".into(),
        };
        println!(
            "| {n} | {} | {} | {r} |",
            show(idle("watcher")),
            show(idle("kill-poll"))
        );
    }
}

fn print_memory(ns: &[usize], get: &Get<'_>) {
    println!("\n### Memory per watched process (RSS growth / N, bytes)\n");
    println!("| N | watcher | raw epoll | kill(pid,0) polling | thread per process |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for &n in ns {
        let mem = |m| {
            get(m, n)
                .and_then(|o| o.bytes_per_process)
                .map_or("-".into(), |b| b.to_string())
        };
        println!(
            "| {n} | {} | {} | {} | {} |",
            mem("watcher"),
            mem("raw-epoll"),
            mem("kill-poll"),
            mem("thread-per")
        );
    }
}

fn print_child_latency(ns: &[usize], get: &Get<'_>) {
    println!("\n### Our own children: exit latency (µs, median / p99)\n");
    println!("| N | watcher | tokio exit future | `tokio::process::Child::wait` | watcher / tokio, median | future / tokio, median |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for &n in ns {
        let cell =
            |m| get(m, n).map_or("-".into(), |o| format!("{} / {}", us(o.median), us(o.p99)));
        let r = |a: &str, b: &str| match (get(a, n), get(b, n)) {
            (Some(a), Some(b)) => ratio(a.median, b.median),
            _ => "-".into(),
        };
        println!(
            "| {n} | {} | {} | {} | {} | {} |",
            cell("child-watcher"),
            cell("child-async"),
            cell("child-tokio"),
            r("child-watcher", "child-tokio"),
            r("child-async", "child-tokio")
        );
    }
}
