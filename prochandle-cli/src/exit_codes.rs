//! Exit codes, chosen to match the tools people already know: `kill(1)`
//! and `pidwait` (0 / 1), clap and the shells (2 for usage), `timeout(1)`
//! (124, 125, 126, 127, 128+N), `env(1)` and `nsenter(1)` (126, 127).

use prochandle::Signal;

/// Everything asked for was done.
pub const SUCCESS: u8 = 0;
/// At least one target could not be handled: no such process, gone
/// (identity mismatch), permission denied, not supported here; or, with
/// `--match` and `list`, nothing matched.
pub const FAILURE: u8 = 1;
/// Bad command line: unknown option, bad target, signal name or duration.
pub const USAGE: u8 = 2;
/// `run --leaks=fail`: CMD succeeded but left processes behind. Below
/// timeout(1)'s 124-127 and clear of xargs's 123.
pub const LEAKED: u8 = 122;
/// `--timeout` ran out (as `timeout(1)`).
pub const TIMEOUT: u8 = 124;
/// `run`, `getfd`, `nsenter`: prochandle failed before CMD could run.
pub const CANNOT_PREPARE: u8 = 125;
/// CMD was found but could not be executed.
pub const CANNOT_EXECUTE: u8 = 126;
/// CMD was not found.
pub const NOT_FOUND: u8 = 127;
/// `wait --exit-status`: the target exited but its status is unknown.
pub const STATUS_UNKNOWN: u8 = 255;

/// The code a shell gives for a command killed by signal `signal`.
pub fn for_signal(signal: Signal) -> u8 {
    (128 + signal.as_raw().clamp(0, 127)) as u8
}

/// The text shown under `--help`, and mirrored in `docs/cli.md`.
pub const HELP: &str = "\
Exit status:
  0    success
  1    a target failed: no such process, gone (identity mismatch),
       permission denied, not supported by this kernel;
       --match and list: nothing matched (as pkill, pgrep, pidwait)
  2    usage error: bad option, target, signal name or duration
  122  run --leaks=fail: CMD succeeded but left processes behind
  124  --timeout ran out (wait, kill, run), as timeout(1)
  125  run/getfd/nsenter: prochandle failed before CMD ran
  126  CMD found but not executable; 127  CMD not found
  N    run/getfd/nsenter, wait --exit-status: the exit code of CMD/TARGET
  128+N  ... or killed by signal N (137 for SIGKILL)
  255  wait --exit-status: the target's status is unknown";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_codes_follow_the_shell() {
        assert_eq!(for_signal(Signal::KILL), 137);
        assert_eq!(for_signal(Signal::TERM), 143);
        assert_eq!(for_signal(Signal::from_raw(500)), 255);
    }
}
