//! A supervisor under test, such as `timeout(1)` or `prochandle run`, with
//! everything it starts: the tests that compare such tools need to signal
//! the supervisor, learn its status, and end the whole tree whatever
//! happens to the test.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use prochandle::linux::ProcessExt;
use prochandle::{Process, Signal};

use crate::commands::PATIENCE;
use crate::poll::{eventually, within};
use crate::reaped::{KillGroup, Reap, Reaped};

/// A supervisor (our child, leading a process group of its own) and what
/// it starts.
///
/// Ended by its guard while it still runs, it kills, each through a
/// handle opened while it was surely the supervisor's descendant, every
/// process found below the supervisor, then the supervisor's group, then
/// the supervisor, and reaps it.
pub struct Supervised {
    child: Child,
    /// Everything seen below the supervisor so far, pinned.
    members: Vec<Process>,
}

impl Supervised {
    /// Starts `command` (stdin from `/dev/null`) in a new process group.
    pub fn start(command: &mut Command) -> Reaped<Supervised> {
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .expect("start the supervisor");
        Reaped::new(Supervised {
            child,
            members: Vec::new(),
        })
    }

    /// The supervisor's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The supervisor, opened by handle (it is our unreaped child, so its
    /// PID is its own).
    pub fn process(&self) -> Process {
        Process::from_child(&self.child).expect("open the supervisor")
    }

    /// Waits until `count` descendants of the supervisor run a program
    /// named `name` (their `comm`), that is, until the supervisor has
    /// started its command and set up its signal handling, and the
    /// command's own children have `exec`'d (with the dispositions they
    /// were given before), then pins them all.
    pub fn wait_for_command(&mut self, name: &str, count: usize) {
        let supervisor = self.process();
        eventually(&format!("the supervisor to run {count} {name}"), || {
            let below = supervisor.descendants().ok()?;
            let running = below
                .iter()
                .filter(|p| comm(p.pid()).as_deref() == Some(name))
                .count();
            (running >= count).then_some(())
        });
        self.pin_tree();
    }

    /// Pins every process now below the supervisor, for the guard to end
    /// even if the supervisor leaves them behind.
    pub fn pin_tree(&mut self) {
        let Ok(supervisor) = Process::from_child(&self.child) else {
            return;
        };
        for member in supervisor.descendants().unwrap_or_default() {
            if !self.members.iter().any(|m| m.pid() == member.pid()) {
                self.members.push(member);
            }
        }
    }

    /// Sends `signal` to the supervisor, through its handle, once what
    /// runs below it is pinned.
    pub fn signal(&mut self, signal: Signal) {
        self.pin_tree();
        self.process()
            .signal(signal)
            .expect("signal the supervisor");
    }

    /// Waits (up to [`PATIENCE`]) for the supervisor to exit, reaps it and
    /// returns its status.
    pub fn wait_status(&mut self) -> ExitStatus {
        within(PATIENCE, || self.child.try_wait().expect("try_wait"))
            .expect("the supervisor to exit in time")
    }
}

impl Reap for Supervised {
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // Pinned before they are signalled: nothing else is reached.
            self.pin_tree();
            self.members.stop();
            self.child.kill_group();
            self.child.stop();
        } else {
            self.members.stop();
        }
    }

    fn reap(&mut self) {
        self.child.reap();
        self.members.reap();
    }
}

/// The status as a shell shows it: the exit code, or 128+N for a death by
/// signal N (as GNU `timeout` re-raises its command's signal on itself,
/// where `prochandle run` exits with 128+N).
pub fn shell_status(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => panic!("neither an exit code nor a signal: {status:?}"),
    }
}

/// The PID a script wrote to `path` (waits up to ten seconds for it).
pub fn read_pid_file(path: &Path) -> u32 {
    eventually(&format!("a PID in {}", path.display()), || {
        let text = std::fs::read_to_string(path).ok()?;
        text.trim().parse().ok()
    })
}

/// Opens `pid` and guards it, for a process a test started indirectly
/// (a grandchild): from now on only this process can be reached through
/// it.
pub fn pinned(pid: u32) -> Reaped<Process> {
    Reaped::new(Process::open(pid).expect("open a process the test started"))
}

/// Whether `process` ends (exits; a zombie waiting for its reaper counts
/// as ended) within `limit`.
pub fn ends_within(process: &Process, limit: Duration) -> bool {
    matches!(process.wait_timeout(limit), Ok(Some(_)))
}

/// Stops the test process and what it starts from writing core files (a
/// test that makes a command die of `SIGQUIT` would leave one behind).
pub fn no_core_dumps() {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: reads into and from two rlimit values that outlive the calls.
    unsafe {
        libc::getrlimit(libc::RLIMIT_CORE, &mut old);
        let soft_only = libc::rlimit {
            rlim_cur: 0,
            rlim_max: old.rlim_max,
        };
        if libc::setrlimit(libc::RLIMIT_CORE, &soft_only) != 0 {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
}

/// How long a process sent `SIGKILL` may take to be seen as ended.
pub const KILL_PATIENCE: Duration = Duration::from_secs(5);

/// A path in the temporary directory, unique to this call, that does
/// not exist yet (for a script to write a PID to; plain characters only,
/// so that it can stand unquoted in a script).
pub fn temp_path(tag: &str) -> std::path::PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "prochandle-test-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    path
}

fn comm(pid: u32) -> Option<String> {
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(name.trim().to_owned())
}
