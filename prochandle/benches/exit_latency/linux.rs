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

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use prochandle::{asyncio, raise_fd_limit, Process, Watcher};
use rustix::event::{epoll, poll, PollFd, PollFlags};
use rustix::process::{pidfd_open, Pid, PidfdFlags, Signal};
use rustix::time::{clock_gettime, ClockId};

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

// ---------------------------------------------------------------------------
// Orchestrator

/// One measurement, as printed by `--measure`.
#[derive(Clone, Copy, Default)]
struct Outcome {
    median: Duration,
    p99: Duration,
    idle_cpu: Option<Duration>,
    bytes_per_process: Option<i64>,
}

fn orchestrate() {
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
                let out = Command::new(&me)
                    .args(["--measure", method, &n.to_string(), &per_round.to_string()])
                    .arg(idle.to_string())
                    .stderr(Stdio::inherit())
                    .output()
                    .expect("run a measurement");
                let text = String::from_utf8_lossy(&out.stdout);
                let outcome = text.lines().find_map(parse_result);
                let latencies = text.lines().find_map(parse_samples);
                match (outcome, latencies) {
                    (Some(outcome), Some(latencies)) => {
                        eprintln!("median {:?}", outcome.median);
                        let entry = pooled.entry(method).or_insert((Vec::new(), outcome));
                        entry.0.extend(latencies);
                    }
                    _ => eprintln!("failed: {}", out.status),
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

fn parse_result(line: &str) -> Option<Outcome> {
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

fn parse_samples(line: &str) -> Option<Vec<Duration>> {
    line.strip_prefix("SAMPLES ")?
        .split_whitespace()
        .map(|f| f.parse().ok().map(Duration::from_nanos))
        .collect()
}

/// The `pct`-th percentile of sorted samples (nearest rank).
fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn us(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        "-".into()
    } else {
        format!("{:.2}", a.as_secs_f64() / b.as_secs_f64())
    }
}

fn print_tables(
    ns: &[usize],
    samples: usize,
    idle_secs: u64,
    results: &HashMap<(&str, usize), Outcome>,
) {
    let get = |m: &str, n: usize| results.get(&(m, n)).copied();
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

// ---------------------------------------------------------------------------
// Helper: the parent of the sleeping processes

// The sleepers are reaped by the reaper thread below, with `wait(-1)`.
#[allow(clippy::zombie_processes)]
fn helper(count: usize) {
    let mut out = std::io::stdout().lock();
    for _ in 0..count {
        let child = Command::new("sleep")
            .arg("100000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sleep");
        writeln!(out, "{}", child.id()).expect("write PID");
    }
    out.flush().expect("flush PIDs");
    drop(out);
    // Reap each sleeper as it dies, as a real parent would: only then does
    // `kill(pid, 0)` fail, and the kernel keep the exit status for pidfds.
    thread::spawn(|| loop {
        if rustix::process::wait(rustix::process::WaitOptions::empty()).is_err() {
            thread::sleep(Duration::from_millis(10));
        }
    });
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    // Our process group holds us and the sleepers only.
    let _ = rustix::process::kill_current_process_group(Signal::KILL);
}

/// The helper and its sleepers; dropping it kills them all.
struct Sleepers {
    helper: Child,
    stdin: Option<ChildStdin>,
    pids: Vec<u32>,
}

impl Sleepers {
    fn start(count: usize) -> Sleepers {
        let mut helper = Command::new(std::env::current_exe().unwrap())
            .args(["--spawn-sleepers", &count.to_string()])
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the helper");
        let stdin = helper.stdin.take();
        let lines = BufReader::new(helper.stdout.take().unwrap()).lines();
        let pids: Vec<u32> = lines
            .take(count)
            .map(|l| l.unwrap().parse().unwrap())
            .collect();
        assert_eq!(pids.len(), count, "the helper started too few sleepers");
        Sleepers {
            helper,
            stdin,
            pids,
        }
    }
}

impl Drop for Sleepers {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.helper.wait();
    }
}

// ---------------------------------------------------------------------------
// The methods

type Events = (Sender<(u32, Instant)>, Receiver<(u32, Instant)>);

trait Method {
    /// Starts watching one more process; returns its PID.
    fn add_one(&mut self) -> u32;
    /// The next exit seen, and when.
    fn recv(&self) -> (u32, Instant);
    /// The caller has seen the exit of `pid`: release what it held.
    fn done(&mut self, _pid: u32) {}
}

fn pid(raw: u32) -> Pid {
    Pid::from_raw(raw as i32).expect("a PID")
}

fn recv(rx: &Receiver<(u32, Instant)>) -> (u32, Instant) {
    rx.recv_timeout(Duration::from_secs(60))
        .expect("an exit within a minute")
}

/// `prochandle::Watcher`, one thread in `next`.
struct WatcherMethod {
    watcher: Arc<Watcher>,
    pool: VecDeque<u32>,
    rx: Receiver<(u32, Instant)>,
}

impl WatcherMethod {
    fn new(pool: VecDeque<u32>) -> Self {
        let watcher = Arc::new(Watcher::new().expect("Watcher::new"));
        let (tx, rx): Events = channel();
        let w = Arc::clone(&watcher);
        thread::spawn(move || loop {
            match w.next(None) {
                Ok(Some(event)) => {
                    let seen = Instant::now();
                    let _ = tx.send((event.process.pid(), seen));
                }
                Ok(None) => thread::sleep(Duration::from_millis(1)),
                Err(e) => panic!("watcher: {e}"),
            }
        });
        WatcherMethod { watcher, pool, rx }
    }
}

impl Method for WatcherMethod {
    fn add_one(&mut self) -> u32 {
        let pid = match self.pool.pop_front() {
            Some(pid) => {
                let p = Process::open(pid).expect("Process::open");
                self.watcher.add(p).expect("Watcher::add");
                pid
            }
            None => {
                let p = Process::spawn(Command::new("sleep").arg("100000")).expect("spawn");
                let pid = p.pid();
                self.watcher.add(p).expect("Watcher::add");
                pid
            }
        };
        pid
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
}

/// The floor: epoll over pidfds, one-shot, nothing else.
struct RawEpoll {
    epoll: Arc<OwnedFd>,
    fds: HashMap<u32, OwnedFd>,
    pool: VecDeque<u32>,
    rx: Receiver<(u32, Instant)>,
}

impl RawEpoll {
    fn new(pool: VecDeque<u32>) -> Self {
        let epoll = Arc::new(epoll::create(epoll::CreateFlags::CLOEXEC).expect("epoll_create1"));
        let (tx, rx): Events = channel();
        let ep = Arc::clone(&epoll);
        thread::spawn(move || {
            let mut events = Vec::with_capacity(256);
            loop {
                events.clear();
                if epoll::wait(&*ep, rustix::buffer::spare_capacity(&mut events), None).is_err() {
                    continue;
                }
                let seen = Instant::now();
                for e in &events {
                    let _ = tx.send((e.data.u64() as u32, seen));
                }
            }
        });
        RawEpoll {
            epoll,
            fds: HashMap::new(),
            pool,
            rx,
        }
    }
}

impl Method for RawEpoll {
    fn add_one(&mut self) -> u32 {
        let raw = self.pool.pop_front().expect("a spare sleeper");
        let fd = pidfd_open(pid(raw), PidfdFlags::empty()).expect("pidfd_open");
        epoll::add(
            &*self.epoll,
            &fd,
            epoll::EventData::new_u64(raw.into()),
            epoll::EventFlags::IN | epoll::EventFlags::ONESHOT,
        )
        .expect("epoll_ctl");
        self.fds.insert(raw, fd);
        raw
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
    fn done(&mut self, pid: u32) {
        self.fds.remove(&pid);
    }
}

/// sysinfo's way: `kill(pid, 0)` on every PID every 10 ms.
struct KillPoll {
    pids: Arc<Mutex<Vec<u32>>>,
    pool: VecDeque<u32>,
    rx: Receiver<(u32, Instant)>,
}

impl KillPoll {
    fn new(pool: VecDeque<u32>) -> Self {
        let pids = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx): Events = channel();
        let list = Arc::clone(&pids);
        thread::spawn(move || loop {
            thread::sleep(Duration::from_millis(10));
            let mut list = list.lock().unwrap();
            list.retain(|&raw| match rustix::process::test_kill_process(pid(raw)) {
                Err(rustix::io::Errno::SRCH) => {
                    let _ = tx.send((raw, Instant::now()));
                    false
                }
                _ => true,
            });
        });
        KillPoll { pids, pool, rx }
    }
}

impl Method for KillPoll {
    fn add_one(&mut self) -> u32 {
        let raw = self.pool.pop_front().expect("a spare sleeper");
        self.pids.lock().unwrap().push(raw);
        raw
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
}

/// One thread per process, each blocking in `poll` on its pidfd.
struct ThreadPer {
    pool: VecDeque<u32>,
    tx: Sender<(u32, Instant)>,
    rx: Receiver<(u32, Instant)>,
}

impl Method for ThreadPer {
    fn add_one(&mut self) -> u32 {
        let raw = self.pool.pop_front().expect("a spare sleeper");
        let fd = pidfd_open(pid(raw), PidfdFlags::empty()).expect("pidfd_open");
        let tx = self.tx.clone();
        thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                let mut fds = [PollFd::new(&fd, PollFlags::IN)];
                while poll(&mut fds, None).is_err() {}
                let _ = tx.send((raw, Instant::now()));
            })
            .expect("spawn a thread");
        raw
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
}

/// Our children on a tokio runtime: the exit future, or tokio's own
/// `Child::wait`.
struct TokioChildren {
    runtime: tokio::runtime::Handle,
    ours: bool,
    tx: Sender<(u32, Instant)>,
    rx: Receiver<(u32, Instant)>,
}

impl TokioChildren {
    fn new(ours: bool) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let runtime = rt.handle().clone();
        thread::spawn(move || rt.block_on(std::future::pending::<()>()));
        let (tx, rx) = channel();
        TokioChildren {
            runtime,
            ours,
            tx,
            rx,
        }
    }
}

impl Method for TokioChildren {
    fn add_one(&mut self) -> u32 {
        let tx = self.tx.clone();
        if self.ours {
            let p = Process::spawn(Command::new("sleep").arg("100000")).expect("spawn");
            let pid = p.pid();
            self.runtime.spawn(async move {
                asyncio::tokio::wait(&p).await.expect("exit future");
                let _ = tx.send((pid, Instant::now()));
            });
            pid
        } else {
            let _guard = self.runtime.enter();
            let mut child = tokio::process::Command::new("sleep")
                .arg("100000")
                .spawn()
                .expect("spawn");
            let pid = child.id().expect("a PID");
            self.runtime.spawn(async move {
                child.wait().await.expect("Child::wait");
                let _ = tx.send((pid, Instant::now()));
            });
            pid
        }
    }
    fn recv(&self) -> (u32, Instant) {
        recv(&self.rx)
    }
}

// ---------------------------------------------------------------------------
// One measurement

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

fn measure(method: &str, n: usize, samples: usize, idle_secs: u64) {
    raise_fd_limit().expect("raise RLIMIT_NOFILE");
    let children = CHILD_METHODS.contains(&method);
    let sleepers = (!children).then(|| Sleepers::start(n + samples));
    let pool: VecDeque<u32> = sleepers
        .as_ref()
        .map(|s| s.pids.iter().copied().collect())
        .unwrap_or_default();
    let mut m: Box<dyn Method> = match method {
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
    };
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
