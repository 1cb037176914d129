//! Child commands that do the same on Unix and on Windows (also under
//! Wine's builtin `cmd`), and constants for the tests around them.

use std::process::Command;
#[cfg(windows)]
use std::process::Stdio;
use std::time::Duration;

/// Long enough for any wait in the tests, short enough that a hang fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A PID no process has: Linux caps PIDs at 2^22, Windows hands out
/// multiples of 4 from small numbers up (and ignores the low two bits of a
/// PID, hence not `i32::MAX`).
pub const NO_SUCH_PID: u32 = 0x7fff_fff0;

/// The exit code a process killed with `Process::kill` shows on Windows.
#[cfg(windows)]
pub const WINDOWS_KILL_CODE: i32 = 1;

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

/// A command that exits at once with `code`.
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
