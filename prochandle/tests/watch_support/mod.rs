//! Shared by the watcher tests: processes that are not our children, and a
//! guard that kills and reaps them whatever the test does.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

/// `count` `sleep` processes started by a `sh` that stays their parent and
/// reaps them (so on Linux 6.15+ their exit status becomes readable).
/// Dropping it kills the sleeps and the shell and reaps the shell.
pub struct Grandchildren {
    shell: Child,
    pub pids: Vec<u32>,
}

impl Grandchildren {
    pub fn start(count: usize) -> Grandchildren {
        let script = format!(
            "i=0; while [ $i -lt {count} ]; do sleep 300 & echo $!; i=$((i+1)); done; wait"
        );
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(script)
            .process_group(0)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start sh");
        let out = BufReader::new(shell.stdout.take().unwrap());
        let pids: Vec<u32> = out
            .lines()
            .take(count)
            .map(|l| l.unwrap().trim().parse().unwrap())
            .collect();
        assert_eq!(pids.len(), count, "sh printed too few PIDs");
        Grandchildren { shell, pids }
    }
}

impl Drop for Grandchildren {
    fn drop(&mut self) {
        // SAFETY: kill takes two integers. The shell leads its own process
        // group, and as we have not reaped it, that group ID cannot have
        // been reused: this reaches the shell and its sleeps only.
        unsafe { libc::kill(-(self.shell.id() as i32), libc::SIGKILL) };
        let _ = self.shell.wait();
    }
}

/// Our own children, killed and reaped on drop unless already waited.
pub fn sleeping_child(secs: &str) -> prochandle::Process {
    prochandle::Process::spawn(Command::new("sleep").arg(secs)).expect("spawn sleep")
}

/// Whether tests must fail rather than skip when something is missing.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Number of open descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Whether `SIGCHLD` still has its default disposition (no handler).
pub fn sigchld_is_default() -> bool {
    let mut old = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current one into `old`.
    let ret = unsafe { libc::sigaction(libc::SIGCHLD, std::ptr::null(), old.as_mut_ptr()) };
    assert_eq!(ret, 0);
    // SAFETY: zero-initialised and filled in by the kernel.
    let old = unsafe { old.assume_init() };
    old.sa_sigaction == libc::SIG_DFL
}
