//! The tree shapes a command may take, the fates a `run` may meet, and a
//! `run` whose whole tree is marked and counted.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prochandle::{Process, Signal};
use prochandle_test_support::TreeMark;

/// What CMD leaves in the background before its main process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A background grandchild.
    Background,
    /// A `setsid` double fork: a session of its own, orphaned.
    SetsidDoubleFork,
    /// A member in a new process group.
    NewGroup,
    /// Twenty background members.
    Twenty,
    /// A stopped member.
    Stopped,
    /// A shell that ignores TERM, INT and HUP (its children too).
    IgnoresSignals,
    /// A loop that keeps forking orphans.
    ForkLoop,
}

impl Shape {
    pub const ALL: [Shape; 7] = [
        Shape::Background,
        Shape::SetsidDoubleFork,
        Shape::NewGroup,
        Shape::Twenty,
        Shape::Stopped,
        Shape::IgnoresSignals,
        Shape::ForkLoop,
    ];

    /// The shell text that starts the background part.
    fn prefix(self) -> &'static str {
        match self {
            Shape::Background => "sleep 900 &",
            Shape::SetsidDoubleFork => "(setsid sh -c 'sleep 900 & exec sleep 900' </dev/null &);",
            Shape::NewGroup => {
                "python3 -c 'import os; os.setpgid(0, 0); os.execvp(\"sleep\", [\"sleep\", \"900\"])' &"
            }
            Shape::Twenty => "for i in $(seq 20); do sleep 900 & done;",
            Shape::Stopped => "sleep 900 & kill -STOP $!;",
            Shape::IgnoresSignals => "trap '' TERM INT HUP; sleep 900 &",
            Shape::ForkLoop => "(while :; do (sleep 900 &); sleep 0.02; done) &",
        }
    }

    /// How many processes besides prochandle's own are alive once the
    /// shape is in place with a main `sleep`.
    pub fn members(self) -> usize {
        match self {
            Shape::Background | Shape::NewGroup | Shape::Stopped | Shape::IgnoresSignals => 2,
            Shape::SetsidDoubleFork => 3,
            Shape::Twenty => 21,
            Shape::ForkLoop => 6,
        }
    }

    /// Whether CMD's main process ignores the signals `run` forwards.
    pub fn ignores_signals(self) -> bool {
        self == Shape::IgnoresSignals
    }

    /// The script: the shape, then `main`.
    pub fn script(self, main: &str) -> String {
        format!("{} {main}", self.prefix())
    }
}

/// Who runs `prochandle run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    Root,
    Nobody,
}

/// One `prochandle run` with a marked tree.
pub struct MarkedRun {
    pub child: Child,
    pub process: Process,
    pub mark: TreeMark,
}

impl MarkedRun {
    /// Starts `prochandle run ARGS...` as `user`, its tree marked.
    pub fn start(binary: &std::path::Path, user: User, args: &[&str]) -> MarkedRun {
        let mut command = match user {
            User::Root => Command::new(binary),
            User::Nobody => {
                let mut c = Command::new("setpriv");
                c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
                    .arg(binary);
                c
            }
        };
        command
            .arg("run")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .env("PATH", "/usr/bin:/bin")
            .current_dir("/");
        let mark = TreeMark::new();
        mark.apply(&mut command);
        let child = command.spawn().expect("spawn prochandle run");
        let process = Process::from_child(&child).expect("hold run");
        MarkedRun {
            child,
            process,
            mark,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The live marked processes that are not prochandle's own (`run`, its
    /// guardian or keeper, `setpriv` before its exec).
    pub fn members(&self) -> usize {
        self.mark
            .live()
            .into_iter()
            .filter(|pid| {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                !matches!(comm.trim(), "prochandle" | "setpriv")
            })
            .count()
    }

    /// Waits up to `limit` for at least `n` members; whether they came.
    pub fn wait_members(&self, n: usize, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if self.members() >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Sends `signal` to `run` itself.
    pub fn signal(&self, signal: Signal) {
        self.process.signal(signal).expect("signal run");
    }

    /// Waits up to `limit` for `run` to end; its exit code, or 128+N for
    /// a signal N that ended it; `None` if it did not end in time.
    pub fn wait(&self, limit: Duration) -> Option<i32> {
        let state = self.process.wait_timeout(limit).ok()??;
        Some(
            state
                .exit_code()
                .or_else(|| state.signal().map(|s| 128 + s.as_raw()))
                .unwrap_or(-1),
        )
    }
}

impl Drop for MarkedRun {
    fn drop(&mut self) {
        // A failed test leaves nothing: run killed and reaped, then every
        // marked process (the mark's own drop).
        let _ = self.process.signal(Signal::KILL);
        let _ = self.process.wait();
    }
}

/// A small random number generator (xorshift), seeded from the clock and
/// printed so that a failure can be replayed with `OWNER_DIES_SEED`.
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Rng {
        let seed = std::env::var("OWNER_DIES_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        eprintln!("OWNER_DIES_SEED={seed}");
        Rng(seed)
    }

    pub fn seeded(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
