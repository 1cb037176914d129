//! Helpers shared by the `linux_*` tests.
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

use prochandle::linux::ProcessExt;
use prochandle::{capabilities, Feature, Process};

/// Whether `Process`es hold pidfds in this run.
pub fn handles() -> bool {
    capabilities().handles()
}

pub fn has(feature: Feature) -> bool {
    capabilities().is_available(feature)
}

/// `true` if we are root; otherwise fails under CI=true, or prints
/// "skipped" and returns `false`.
pub fn require_root(test: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: needs root, and CI=true forbids skipping");
    }
    eprintln!("skipped: {test} needs root");
    false
}

/// Owns processes for a test and kills and reaps (or awaits) them on drop,
/// so that no run leaves strays, even when an assertion fails.
#[derive(Default)]
pub struct Reaper(pub Vec<Process>, Vec<usize>);

impl Reaper {
    pub fn keep(&mut self, p: Process) -> &Process {
        self.0.push(p);
        self.0.last().unwrap()
    }

    /// Keeps `p`, which leads its own process group: on drop the whole
    /// group is killed first, so grandchildren do not outlive the test.
    pub fn keep_group(&mut self, p: Process) -> &Process {
        self.1.push(self.0.len());
        self.keep(p)
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        for &leader in &self.1 {
            // Refused (Done) once the leader is reaped: its group ID
            // could then be someone else's.
            let _ = self.0[leader].signal_process_group(prochandle::Signal::KILL);
        }
        // Children last: the deepest processes were usually added last.
        for p in self.0.iter().rev() {
            let _ = p.kill();
            let _ = p.wait_timeout(Duration::from_secs(5));
        }
    }
}

pub fn sleeper() -> Process {
    Process::spawn(Command::new("sleep").arg("30")).expect("spawn sleep")
}

/// Polls `f` every 10 ms for up to 5 s until it returns `Some`.
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The state letter of `/proc/<pid>/stat`.
pub fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().next()?.chars().next()
}
