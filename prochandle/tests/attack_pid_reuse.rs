//! PID reuse, forced: the kernel is made to give an old PID to a new
//! process, and a `Process` for the old one must never reach the new one.
//!
//! The scenario runs as the init of a fresh PID namespace (root only), where
//! writing `/proc/sys/kernel/ns_last_pid` chooses the next PID. The tier
//! follows the suite: pidfds normally, `/proc/<pid>` directories (signals
//! through `pidfd_send_signal`) under `PROCHANDLE_FORCE_PID=1`, guarded
//! PIDs under `PROCHANDLE_FORCE_PID=bare`. A second test runs the
//! directory tier as a kernel before 5.1 leaves it, `pidfd_send_signal`
//! removed by a seccomp filter: signals by `kill(2)` after the exact check.
//!
//! - Case A, a process that is not ours: a shell (the "reaper") starts
//!   `sleep`s, we `open` them, the shell kills and reaps them, and new
//!   `sleep`s of ours are started on the same PIDs.
//! - Case B, our own child after `wait`.
//! - Case C, back to back: one process at a time, the new one started as soon
//!   as the old is reaped, often within the same clock tick. With pidfds,
//!   and with directories that `pidfd_send_signal` takes, this must never
//!   misfire. In the guarded-PID mode it shows the limit of the start-time
//!   check: a misfire is allowed only when both processes have the same
//!   start time, and the test counts them. With directories and `kill`, a
//!   misfire would need the reuse to land between the exact check and the
//!   `kill` (microseconds); the test counts those too.
//!
//! - Case D, racing: a thread signals the old process over and over while it
//!   is killed, reaped and its PID taken, until `signal` says `Done` (or
//!   once more after the new process is in place). The old processes ignore
//!   `SIGTERM`, so the race lasts; this is where the directory tier's
//!   window between its exact check and `kill` would show.
//!
//! The new processes block `SIGTERM`, so a stray one stays visible as
//! pending; a stray `SIGKILL` would kill them, which shows too.
#![cfg(target_os = "linux")]

mod attack_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use attack_support::seccomp::{install, rule, Action};
use attack_support::*;
use prochandle::{capabilities, ErrorKind, Feature, PinMode, Process, Signal};
use prochandle_test_support::{expect_pin_mode, is_root, skip, Reaped};

/// Case A and case B each run `BATCHES * BATCH` reuse iterations.
const BATCHES: usize = 10;
const BATCH: usize = 100;
/// Case C iterations.
const BACK_TO_BACK: usize = 300;
/// Case D iterations.
const RACES: usize = 300;
/// USER_HZ: `/proc/<pid>/stat` start times count in 1/100 s.
const TICK: Duration = Duration::from_millis(10);

const TEST: &str = "reused_pids_are_never_signalled";
const TEST_KILL: &str = "reused_pids_in_the_directory_tier_with_kill";

#[test]
fn reused_pids_are_never_signalled() {
    if let Some(s) = scenario() {
        assert_eq!(s, "reuse");
        expect_pin_mode();
        return reuse_scenario();
    }
    run_scenario(TEST, "reuse", None);
}

/// The directory tier where `pidfd_send_signal` is missing (kernels before
/// 5.1, or a filter that refuses it): identity exact, signals by `kill`.
#[test]
fn reused_pids_in_the_directory_tier_with_kill() {
    if let Some(s) = scenario() {
        assert_eq!(s, "reuse-kill");
        let rules = [
            rule(libc::SYS_pidfd_open, Action::Errno(libc::ENOSYS)),
            rule(libc::SYS_pidfd_send_signal, Action::Errno(libc::ENOSYS)),
        ];
        install(&rules, true).expect("install seccomp filter");
        assert_eq!(capabilities().pin_mode(), PinMode::ProcDir);
        assert!(!capabilities().is_available(Feature::ProcDirSignal));
        return reuse_scenario();
    }
    run_scenario(TEST_KILL, "reuse-kill", Some("1"));
}

/// Runs `scenario` of `test` as the init of a new PID namespace, with
/// `PROCHANDLE_FORCE_PID` set to `force` (or as the suite has it).
fn run_scenario(test: &str, scenario: &str, force: Option<&str>) {
    if !is_root() {
        return skip("forcing PID reuse needs root (a new PID namespace)");
    }
    let mut cmd = reexec(test, scenario);
    if let Some(force) = force {
        cmd.env(prochandle::FORCE_PID_ENV, force);
    }
    in_new_pid_namespace(&mut cmd);
    let out = match run_with_watchdog(&mut cmd, Duration::from_secs(300)) {
        Ok(out) => out,
        Err(e) => return skip(&format!("cannot start a PID namespace: {e}")),
    };
    out.assert_success("PID reuse scenario");
    for line in out.report_lines() {
        println!("{line}");
    }
    println!("scenario took {:?}", out.elapsed);
    let total: usize = ["case_a", "case_b", "case_c"]
        .iter()
        .map(|k| out.report(k).expect(k).parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, 2 * BATCHES * BATCH + BACK_TO_BACK);
}

/// A `sh` that starts and reaps processes for us, so that they are not our
/// children. Killed and reaped itself when dropped.
struct ReapingShell {
    _shell: Reaped<Child>,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl ReapingShell {
    fn start() -> ReapingShell {
        let mut shell = Reaped::child(
            Command::new("sh")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        );
        let stdin = shell.stdin.take().unwrap();
        let stdout = BufReader::new(shell.stdout.take().unwrap());
        ReapingShell {
            _shell: shell,
            stdin,
            stdout,
        }
    }

    fn line(&mut self) -> String {
        let mut s = String::new();
        self.stdout.read_line(&mut s).expect("read from sh");
        assert!(!s.is_empty(), "the reaper shell went away");
        s.trim().to_owned()
    }

    fn spawn_sleepers(&mut self, n: usize) -> Vec<u32> {
        writeln!(
            self.stdin,
            "i=0; while [ $i -lt {n} ]; do sleep 1000 </dev/null & echo $!; i=$((i+1)); done"
        )
        .unwrap();
        (0..n).map(|_| self.line().parse().unwrap()).collect()
    }

    fn kill_and_reap(&mut self, pids: &[u32]) {
        let list: Vec<String> = pids.iter().map(u32::to_string).collect();
        let list = list.join(" ");
        writeln!(self.stdin, "kill -9 {list}; wait {list}; echo reaped").unwrap();
        assert_eq!(self.line(), "reaped");
    }
}

fn start_time(pid: u32) -> u64 {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).expect("read stat");
    let close = stat.iter().rposition(|&b| b == b')').unwrap();
    let rest = String::from_utf8_lossy(&stat[close + 2..]).into_owned();
    rest.split_whitespace().nth(19).unwrap().parse().unwrap()
}

/// Starts a new process of ours on `pid`, which must be free.
fn occupy(pid: u32) -> Child {
    next_pid_will_be(pid).expect("write ns_last_pid");
    let child = sleeper_blocking(&[libc::SIGTERM], "1000")
        .spawn()
        .expect("spawn sleep");
    assert_eq!(child.id(), pid, "the kernel did not hand out the old PID");
    child
}

fn assert_done(what: &str, result: prochandle::Result<()>) {
    match result {
        Err(e) if e.kind() == ErrorKind::Done => {}
        other => panic!("{what}: expected Done, got {other:?}"),
    }
}

/// The new owners of the PIDs are alive and got nothing; then they go.
fn assert_untouched_and_stop(news: Vec<Child>) {
    // A stray SIGKILL takes a moment to turn its victim into a zombie.
    std::thread::sleep(Duration::from_millis(20));
    for mut n in news {
        let pid = n.id();
        assert_eq!(
            pending_signals(pid),
            Some(0),
            "PID {pid}: the new process received a signal meant for the old one"
        );
        assert!(
            n.try_wait().unwrap().is_none(),
            "PID {pid}: the new process was killed by a signal meant for the old one"
        );
        n.kill().unwrap();
        n.wait().unwrap();
    }
}

fn reuse_scenario() {
    assert_eq!(std::process::id(), 1, "not the init of a new PID namespace");
    let caps = capabilities();
    let handles = caps.handles();
    let mode = caps.pin_mode();
    let exact_signals = handles || caps.is_available(Feature::ProcDirSignal);
    let started = Instant::now();
    let mut reaper = ReapingShell::start();

    let (case_a, min_gap) = case_a(&mut reaper, handles);
    let case_b = case_b();
    let (same_tick, misfired) = case_c(&mut reaper, mode, exact_signals);
    let (raced, race_misfired) = racing(mode, exact_signals);
    println!(
        "\nREPORT mode={mode} signals={} case_a={case_a} case_b={case_b} \
         case_c={BACK_TO_BACK} case_c_same_tick={same_tick} case_c_misfired={misfired} \
         min_gap_ticks={min_gap} case_d={RACES} case_d_sends={raced} \
         case_d_misfired={race_misfired} seconds={:.1}",
        if exact_signals {
            "exact"
        } else {
            "kill-after-check"
        },
        started.elapsed().as_secs_f64()
    );
}

/// Case A: somebody else's process, reaped by its parent. Returns the
/// processes checked and the smallest start-time gap (in ticks) between
/// an old process and the one on its PID.
fn case_a(reaper: &mut ReapingShell, handles: bool) -> (usize, u64) {
    let mut case_a = 0;
    let mut min_gap = u64::MAX;
    for _ in 0..BATCHES {
        let pids = reaper.spawn_sleepers(BATCH);
        let olds: Vec<Process> = pids.iter().map(|&p| Process::open(p).unwrap()).collect();
        let starts: Vec<u64> = pids.iter().map(|&p| start_time(p)).collect();
        for old in &olds {
            assert!(!old.is_child());
            assert_eq!(old.has_handle(), handles);
            assert!(old.try_wait().unwrap().is_none());
        }
        // The guarded-PID mode needs the two processes at least two clock
        // ticks apart (see case C for what happens otherwise).
        std::thread::sleep(2 * TICK + Duration::from_millis(5));
        reaper.kill_and_reap(&pids);
        let news: Vec<Child> = pids.iter().map(|&p| occupy(p)).collect();
        for ((old, new), start) in olds.iter().zip(&news).zip(&starts) {
            min_gap = min_gap.min(start_time(new.id()) - start);
            assert_done("signal after reuse", old.signal(Signal::TERM));
            assert_done("kill after reuse", old.kill());
            assert!(old.try_wait().unwrap().is_some(), "the old process is gone");
            assert_eq!(old.with_handle(|_| ()).is_ok(), handles);
            case_a += 1;
        }
        assert_untouched_and_stop(news);
    }
    assert!(min_gap >= 2, "case A wanted start times two ticks apart");
    (case_a, min_gap)
}

/// Case B: our own child, after wait. Returns the processes checked.
fn case_b() -> usize {
    let mut case_b = 0;
    for _ in 0..BATCHES {
        let olds: Vec<Process> = (0..BATCH)
            .map(|_| Process::spawn(Command::new("sleep").arg("1000")).unwrap())
            .collect();
        for old in &olds {
            old.kill().unwrap();
        }
        let states: Vec<_> = olds.iter().map(|o| o.wait().unwrap()).collect();
        std::thread::sleep(2 * TICK + Duration::from_millis(5));
        let news: Vec<Child> = olds.iter().map(|o| occupy(o.pid())).collect();
        for (old, state) in olds.iter().zip(&states) {
            assert_eq!(state.signal(), Some(prochandle::Signal::KILL));
            assert_done("signal after wait", old.signal(Signal::TERM));
            assert_done("kill after wait", old.kill());
            assert_eq!(
                old.wait().unwrap(),
                *state,
                "a second wait changed its answer"
            );
            case_b += 1;
        }
        assert_untouched_and_stop(news);
    }
    case_b
}

/// Case C: back to back, often within one clock tick. Returns how often
/// the new process started in the old one's tick, and how often a signal
/// meant for the old one reached it (allowed only where the mode says).
fn case_c(reaper: &mut ReapingShell, mode: PinMode, exact_signals: bool) -> (usize, usize) {
    let (mut same_tick, mut misfired) = (0, 0);
    for _ in 0..BACK_TO_BACK {
        let pid = reaper.spawn_sleepers(1)[0];
        let old = Process::open(pid).unwrap();
        let old_start = start_time(pid);
        reaper.kill_and_reap(&[pid]);
        let mut new = occupy(pid);
        let tick_shared = start_time(pid) == old_start;
        same_tick += usize::from(tick_shared);
        let sent = old.signal(Signal::TERM);
        let pending = pending_signals(pid).unwrap();
        let hit = pending & (1 << (libc::SIGTERM - 1)) != 0;
        assert_eq!(
            sent.is_ok(),
            hit,
            "signal() said {sent:?}, pending {pending:#x}"
        );
        if hit {
            misfired += 1;
            // Only the start-time guess may take a same-tick newcomer for
            // the old process; the directory tier with `kill` could only
            // through a reuse inside its microsecond window.
            let allowed = match mode {
                PinMode::GuardedPid => tick_shared,
                PinMode::ProcDir => !exact_signals,
                _ => false,
            };
            assert!(
                allowed,
                "a signal for the old process reached the new one (mode: {mode}, \
                 exact signals: {exact_signals}, same start tick: {tick_shared})"
            );
        } else {
            assert_done("back-to-back signal", sent);
        }
        new.kill().unwrap();
        new.wait().unwrap();
    }
    (same_tick, misfired)
}

/// Case D: signals racing the kill, the reap and the reuse. Returns how
/// many signals were sent in all and how many reached a new process.
fn racing(mode: PinMode, exact_signals: bool) -> (usize, usize) {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let mut reaper = ReapingShell::start();
    // The old processes ignore SIGTERM: they live until the SIGKILL.
    writeln!(reaper.stdin, "trap '' TERM").unwrap();
    let (mut sends, mut misfired) = (0, 0);
    for _ in 0..RACES {
        let pid = reaper.spawn_sleepers(1)[0];
        let old = Process::open(pid).unwrap();
        let old_start = start_time(pid);
        let placed = AtomicBool::new(false);
        let (mut new, sent) = std::thread::scope(|scope| {
            let signaller = scope.spawn(|| {
                let mut sent = 0;
                loop {
                    let last = placed.load(SeqCst);
                    match old.signal(Signal::TERM) {
                        Ok(()) => sent += 1,
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::Done, "{e}");
                            break;
                        }
                    }
                    if last {
                        break;
                    }
                }
                sent
            });
            reaper.kill_and_reap(&[pid]);
            let new = occupy(pid);
            placed.store(true, SeqCst);
            (new, signaller.join().unwrap())
        });
        sends += sent;
        let tick_shared = start_time(pid) == old_start;
        let pending = pending_signals(pid).unwrap();
        if pending & (1 << (libc::SIGTERM - 1)) != 0 {
            misfired += 1;
            // Both `kill` tiers have the window between check and kill
            // (the start-time guess, besides, a same-tick newcomer).
            let allowed = match mode {
                PinMode::GuardedPid => true,
                PinMode::ProcDir => !exact_signals,
                _ => false,
            };
            assert!(
                allowed,
                "a racing signal reached the new process (mode: {mode}, exact signals: \
                 {exact_signals}, same start tick: {tick_shared})"
            );
        }
        new.kill().unwrap();
        new.wait().unwrap();
    }
    (sends, misfired)
}
