//! The helper that starts the sleeping processes (the parent of the
//! non-children being watched), and our side of it.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::Duration;

use rustix::process::Signal;

// The sleepers are reaped by the reaper thread below, with `wait(-1)`.
#[allow(clippy::zombie_processes)]
pub(super) fn helper(count: usize) {
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
pub(super) struct Sleepers {
    pub(super) helper: Child,
    pub(super) stdin: Option<ChildStdin>,
    pub(super) pids: Vec<u32>,
}

impl Sleepers {
    pub(super) fn start(count: usize) -> Sleepers {
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
