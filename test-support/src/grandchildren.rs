//! Processes that are not the test's children: started by a shell that
//! stays their parent and reaps them, as any parent would.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use prochandle::Process;

use crate::commands::PATIENCE;
use crate::poll::{eventually, within};
use crate::reaped::{KillGroup, Reap, Reaped};

/// Processes started by a `sh` (our child) that stays their parent and
/// reaps them as they die; on Linux 6.15+ their exit status then becomes
/// readable to others.
///
/// Each is opened as a [`Process`] at once, while it surely runs. Ended by
/// its guard, it kills them all through those; the shell reaps them and
/// exits, and is reaped in turn. A shell that does not exit is killed with
/// whatever is left in its process group.
pub struct Grandchildren {
    /// The PIDs, in the order they were started.
    pub pids: Vec<u32>,
    members: Vec<Process>,
    /// Leads its own process group.
    shell: Child,
}

impl Grandchildren {
    /// `count` `sleep 300`s, returned once each runs `sleep` itself (past
    /// the shell's fork).
    pub fn sleeping(count: usize) -> Reaped<Grandchildren> {
        let family = Grandchildren::start(count, "sleep 300");
        for &pid in &family.pids {
            let comm = format!("/proc/{pid}/comm");
            eventually("the grandchild to exec sleep", || {
                let name = std::fs::read_to_string(&comm);
                // Gone already counts too: the test will see why.
                name.map_or(true, |n| n.trim() == "sleep").then_some(())
            });
        }
        family
    }

    /// One `sh -c SCRIPT` (the script must not exit at once: it is opened
    /// after it started).
    pub fn running(script: &str) -> Reaped<Grandchildren> {
        Grandchildren::start(1, &format!("sh -c '{script}'"))
    }

    /// The PID of the shell, their parent.
    pub fn shell_pid(&self) -> u32 {
        self.shell.id()
    }

    /// The members, as opened when they started.
    pub fn members(&self) -> &[Process] {
        &self.members
    }

    /// `count` background jobs of `job` (a shell command, without `&`).
    fn start(count: usize, job: &str) -> Reaped<Grandchildren> {
        // The shell prints each PID, then stops writing to the pipe and
        // waits, reaping each job as it exits.
        let script = format!(
            "i=0; while [ $i -lt {count} ]; do {job} >/dev/null & echo $!; i=$((i+1)); done; \
             exec >/dev/null; wait"
        );
        // Guarded until the members are opened, then handed to the family.
        let mut shell = Reaped::leading_group(
            Command::new("sh")
                .args(["-c", &script])
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start sh"),
        );
        let out = BufReader::new(shell.stdout.take().expect("piped stdout"));
        let pids: Vec<u32> = out
            .lines()
            .take(count)
            .map(|l| l.expect("read a PID").trim().parse().expect("a PID"))
            .collect();
        assert_eq!(pids.len(), count, "sh printed too few PIDs");
        let members: Vec<Process> = pids
            .iter()
            .map(|&pid| Process::open(pid).expect("open a grandchild"))
            .collect();
        for member in &members {
            assert!(!member.is_child(), "{} is the shell's child", member.pid());
        }
        Reaped::new(Grandchildren {
            pids,
            members,
            shell: shell.into_inner(),
        })
    }
}

impl Reap for Grandchildren {
    fn stop(&mut self) {
        // Through their handles: never a PID that is someone else's now.
        self.members.stop();
    }

    fn reap(&mut self) {
        // The shell's `wait` returns once it has reaped every member; then
        // it exits.
        if within(PATIENCE, || self.shell.try_wait().ok().flatten()).is_none() {
            self.shell.kill_group();
            self.shell.stop();
            self.shell.reap();
        }
    }
}
