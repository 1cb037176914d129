//! Guarded `std::process::Child`ren, for tests that need what std gives
//! (the raw exit status, pipes) rather than a `Process`.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::poll::{eventually, within};
use crate::procfs::proc_state;
use crate::reaped::Reaped;

impl Reaped<Child> {
    /// `sh -c SCRIPT`, returned once it has exec'd (see [`Reaped::settle`]).
    pub fn sh(script: &str) -> Self {
        let p = Reaped::child(Command::new("sh").args(["-c", script]).stdin(Stdio::null()));
        p.settle();
        p
    }

    /// `sleep SECS`, returned once it has exec'd.
    pub fn sleeping_child(secs: u32) -> Self {
        let p = Reaped::child(
            Command::new("sleep")
                .arg(secs.to_string())
                .stdin(Stdio::null()),
        );
        p.settle();
        p
    }

    /// A shell that ignores SIGTERM, returned once the kernel shows the
    /// signal as ignored (`SigIgn` in `/proc/PID/status`).
    pub fn ignoring_term() -> Self {
        let p = Reaped::sh("trap '' TERM; while :; do sleep 0.05; done");
        let status = format!("/proc/{}/status", p.pid());
        eventually("the shell to ignore SIGTERM", || {
            let text = std::fs::read_to_string(&status).unwrap_or_default();
            let ignored = text
                .lines()
                .find_map(|l| l.strip_prefix("SigIgn:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
                .unwrap_or(0);
            (ignored & (1 << (libc::SIGTERM - 1)) != 0).then_some(())
        });
        p
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.id()
    }

    /// Its PID as a command-line argument.
    pub fn pid_arg(&self) -> String {
        self.id().to_string()
    }

    /// Waits (up to 5 s, then gives up quietly) until the child runs its
    /// own program, so that what is read about it is not the test binary's
    /// pre-exec copy.
    pub fn settle(&self) {
        let me = std::fs::read_link("/proc/self/exe").ok();
        let exe_link = format!("/proc/{}/exe", self.pid());
        within(Duration::from_secs(5), || {
            let exe = std::fs::read_link(&exe_link).ok();
            // A program that already exited has no exe link left to read.
            let settled = (exe.is_some() && exe != me) || proc_state(self.pid()) == Some('Z');
            settled.then_some(())
        });
    }

    /// Whether it is still running (not exited); does not reap.
    pub fn alive(&mut self) -> bool {
        matches!(self.try_wait(), Ok(None))
    }

    /// Reaps it and returns the raw status.
    pub fn wait_status(&mut self) -> ExitStatus {
        self.wait().expect("wait for test process")
    }
}
