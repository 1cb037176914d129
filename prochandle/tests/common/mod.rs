//! Portable helpers for the behaviour tests: child commands that do the
//! same on Unix and on Windows (also under Wine's builtin `cmd`), and a
//! guard that kills and waits for every process a test starts.

#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::Duration;

use prochandle::Process;

/// A command that runs for about `secs` seconds and then exits 0.
///
/// Unix: `sleep`. Windows: `ping -n <secs+1> 127.0.0.1`, which waits one
/// second between echoes and, unlike `timeout.exe`, exists under Wine.
pub fn sleeper(secs: u32) -> Command {
    #[cfg(unix)]
    {
        let mut cmd = Command::new("sleep");
        cmd.arg(secs.to_string());
        cmd
    }
    #[cfg(windows)]
    {
        let mut cmd = Command::new("ping");
        cmd.args(["-n", &(secs + 1).to_string(), "127.0.0.1"])
            .stdout(Stdio::null());
        cmd
    }
}

/// A command that exits at once with `code` (0..=255).
pub fn exit_with(code: u8) -> Command {
    #[cfg(unix)]
    {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &format!("exit {code}")]);
        cmd
    }
    #[cfg(windows)]
    {
        let mut cmd = Command::new("cmd");
        cmd.args(["/c", &format!("exit {code}")]);
        cmd
    }
}

/// A PID no process has: Linux caps PIDs at 2^22, Windows hands out
/// multiples of 4 from small numbers up.
pub const NO_SUCH_PID: u32 = 0x7fff_fff0;

/// The exit code a process killed with `Process::kill` shows on Windows.
#[cfg(windows)]
pub const WINDOWS_KILL_CODE: i32 = 1;

/// Whether the tests run in CI, where missing features are failures.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Long enough for any wait in these tests, short enough that a hang fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Holds a spawned `Process` and, on drop (also when a test panics), kills
/// and waits for it so that no test leaves a process behind.
pub struct Reaped(pub Process);

impl Reaped {
    pub fn spawn(mut cmd: Command) -> Reaped {
        cmd.stdin(Stdio::null());
        Reaped(Process::spawn(&mut cmd).expect("spawn"))
    }
}

impl std::ops::Deref for Reaped {
    type Target = Process;
    fn deref(&self) -> &Process {
        &self.0
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait_timeout(PATIENCE);
    }
}
