//! Helpers shared by the Unix behaviour tests.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prochandle::{capabilities, Process};

/// Whether this run is CI (`CI=true`): missing capabilities fail there.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether the suite runs in forced guarded-PID mode.
pub fn forced_pid_mode() -> bool {
    std::env::var("PROCHANDLE_FORCE_PID").is_ok_and(|v| v == "1")
}

/// Whether `Process`es should hold pidfds in this run. On this project's
/// CI kernel (6.18) they must, unless the PID mode is forced: a CI machine
/// that lost pidfds fails here rather than quietly testing the fallback.
pub fn expect_handles() -> bool {
    let handles = capabilities().handles();
    if forced_pid_mode() {
        assert!(!handles, "PROCHANDLE_FORCE_PID=1 must turn handles off");
    } else if in_ci() {
        assert!(
            handles,
            "CI runs on Linux 6.18: pidfds must be available: {:?}",
            capabilities()
        );
    }
    handles
}

/// A child that sleeps for `secs` seconds.
pub fn sleeper(secs: u32) -> Command {
    let mut cmd = Command::new("sleep");
    cmd.arg(secs.to_string());
    cmd
}

/// A child that exits with `code` at once.
pub fn exiter(code: i32) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", &format!("exit {code}")]);
    cmd
}

/// The number of descriptors this process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A process that is *not* our child: a grandchild started by `sh`, which
/// stays its parent and reaps it. Returns the intermediate shell (our child,
/// to be reaped by the caller) and the grandchild's PID.
///
/// The grandchild runs `script` (a shell command line).
pub struct Grandchild {
    pub parent: Child,
    pub pid: u32,
    /// Opened at once (the script must not exit immediately), and used to
    /// kill the grandchild in `finish`: never a bare PID.
    pub keeper: Process,
}

impl Grandchild {
    pub fn start(script: &str) -> Grandchild {
        // The parent shell prints the grandchild's PID, waits for it (so it
        // reaps it promptly when it exits), then exits itself.
        let parent_script = format!("sh -c '{script}' >/dev/null & echo $!; wait");
        let mut parent = Command::new("sh")
            .args(["-c", &parent_script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let mut line = String::new();
        use std::io::BufRead;
        let mut out = std::io::BufReader::new(parent.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        let pid = line.trim().parse().expect("grandchild pid");
        let keeper = Process::open(pid).expect("open grandchild");
        assert!(!keeper.is_child());
        Grandchild {
            parent,
            pid,
            keeper,
        }
    }

    /// Kills the grandchild (if it still runs) and reaps the shell.
    pub fn finish(mut self) {
        let _ = self.keeper.kill();
        let _ = self.parent.wait();
    }
}

/// Polls `f` until it returns true or `limit` passes.
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    f()
}

/// Spawns a sleeper and returns both the `Process` and the `Child` (kept so
/// its PID cannot be confused), for tests that need the std side too.
pub fn spawn_sleeper(secs: u32) -> Process {
    Process::spawn(&mut sleeper(secs)).expect("spawn sleeper")
}
