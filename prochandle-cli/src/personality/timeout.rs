//! The `timeout` personality: GNU timeout(1)'s command line, statuses and
//! messages, over `run`'s machinery (CMD held by its handle, its whole
//! tree in a scope; `--foreground` holds CMD alone, as GNU's leaves the
//! children untimed).
//!
//! Exit statuses are GNU's: 124 timed out, 125 timeout's own failure
//! (usage errors included), 126 CMD not executable, 127 not found, else
//! CMD's (128+N for a signal, 137 for a `SIGKILL` after the timeout).

use std::ffi::OsString;
use std::time::Duration;

use prochandle::Signal;

use super::getopt::{self, Item, Spec, Value};
use super::signals;
use super::strtod;
use crate::commands::run::{self, Job, Voice};
use crate::exit_codes;
use crate::output;

const SPEC: Spec = Spec {
    shorts: "k:s:v",
    longs: &[
        ("foreground", Value::None, 'f'),
        ("kill-after", Value::Required, 'k'),
        ("preserve-status", Value::None, 'p'),
        ("signal", Value::Required, 's'),
        ("verbose", Value::None, 'v'),
        ("help", Value::None, 'h'),
        ("version", Value::None, 'V'),
    ],
    // What follows DURATION is the command's, its options included.
    stop_at_operand: true,
    negative_numbers: false,
};

const HELP: &str = "\
Usage: timeout [OPTION] DURATION COMMAND [ARG]...
  or:  timeout [OPTION]
Runs COMMAND; if it still runs after DURATION, signals it and everything it
started (prochandle holds the whole tree, each process by its handle).

  -s, --signal=SIGNAL      the signal sent at the timeout (a name or number;
                             TERM by default)
  -k, --kill-after=DURATION  also send KILL if COMMAND still runs DURATION
                             after the first signal
      --preserve-status    exit with COMMAND's status even after a timeout
      --foreground         leave COMMAND in timeout's process group, able to
                             read the terminal; only COMMAND is signalled
  -v, --verbose            say on stderr each signal sent
      --help               show this help and exit
      --version            show the version and exit

DURATION is a floating point number (as strtod reads it) with an optional
unit: s (seconds, the default), m, h or d. 0 disables that timeout.

Exit status: 124 timed out (unless --preserve-status), 125 timeout failed,
126 COMMAND not executable, 127 COMMAND not found, 137 COMMAND was killed
(KILL); otherwise COMMAND's status.";

/// Runs `timeout ARGS...` (without the program name); `program` is the
/// name it was called by, for the hint.
pub fn main(program: &str, args: &[OsString]) -> u8 {
    match plan(args) {
        Ok(Some(job)) => run::execute(&job),
        Ok(None) => exit_codes::SUCCESS,
        Err(message) => {
            if let Some(message) = message {
                output::error(message);
            }
            eprintln!("Try '{program} --help' for more information.");
            exit_codes::CANNOT_PREPARE
        }
    }
}

/// The job, `None` after `--help` or `--version`, or the usage error
/// (`None`: only the "Try" line, as for missing operands).
fn plan(args: &[OsString]) -> Result<Option<Job>, Option<String>> {
    let items = getopt::parse(&SPEC, args).map_err(|refused| Some(refused.message))?;
    let mut job = Job {
        command: Vec::new(),
        timeout: None,
        kill_after: None,
        signal: Signal::TERM,
        preserve_status: false,
        foreground: false,
        child_only: false,
        // GNU's model: CMD is our child, with the death signal only. The
        // guardian's fork (a keeper's, making CMD our grandchild) is
        // `run`'s default, not a drop-in's (docs/trees.md).
        guardian: false,
        verbose: false,
        time: false,
        control: Default::default(),
        voice: Voice::Timeout,
        pidfile: None,
        leaks: crate::cli::Leaks::Kill,
        report: None,
    };
    let mut operands = Vec::new();
    // In order, as GNU reads them: a bad value stops the reading there.
    for item in items {
        match item {
            Item::Opt('f', _) => job.foreground = true,
            Item::Opt('k', value) => job.kill_after = duration(&value.unwrap_or_default())?,
            Item::Opt('p', _) => job.preserve_status = true,
            Item::Opt('s', value) => job.signal = signal(&value.unwrap_or_default())?,
            Item::Opt('v', _) => job.verbose = true,
            Item::Opt('h', _) => {
                output::line(HELP);
                return Ok(None);
            }
            Item::Opt('V', _) => {
                output::line(format_args!(
                    "timeout (prochandle) {}",
                    env!("CARGO_PKG_VERSION")
                ));
                return Ok(None);
            }
            Item::Opt(..) => return Err(None),
            Item::Operand(word) => operands.push(word),
        }
    }
    if operands.len() < 2 {
        return Err(None);
    }
    job.timeout = duration(&operands[0].to_string_lossy())?;
    job.command = operands.split_off(1);
    Ok(Some(job))
}

/// timeout(1)'s signal operand; the error is its message.
fn signal(text: &str) -> Result<Signal, Option<String>> {
    signals::from_operand(text)
        .ok_or_else(|| Some(format!("{}: invalid signal", output::quoted(text))))
}

/// A DURATION as GNU reads it: `strtod`, then at most one unit letter;
/// negative or NaN refused; an overflow saturates (a timeout beyond
/// reach is none); a non-zero value too small for a double is 1 ns (as
/// coreutils 9.5 rounds it, rather than disabling the timeout). `None`
/// is zero: no timeout.
fn duration(text: &str) -> Result<Option<Duration>, Option<String>> {
    let bad = || Some(format!("invalid time interval {}", output::quoted(text)));
    let number = strtod::read(text).ok_or_else(bad)?;
    let unit = &text[number.len..];
    let scale = match unit {
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return Err(bad()),
    };
    let seconds = number.value * scale;
    if number.underflowed && text.trim_start().starts_with('-') {
        return Err(bad());
    }
    if seconds.is_nan() || seconds < 0.0 {
        return Err(bad());
    }
    if number.underflowed {
        return Ok(Some(Duration::from_nanos(1)));
    }
    if seconds == 0.0 {
        return Ok(None);
    }
    Ok(Some(
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn durations_as_gnu_reads_them() {
        assert_eq!(duration("10.34"), Ok(Some(Duration::from_millis(10340))));
        assert_eq!(duration("2m"), Ok(Some(Duration::from_secs(120))));
        assert_eq!(duration("0"), Ok(None));
        assert_eq!(duration("1e-10000"), Ok(Some(Duration::from_nanos(1))));
        assert_eq!(
            duration("2.34e+5d").unwrap().unwrap().as_secs(),
            20_217_600_000
        );
        for huge in [
            "9223372036854775808d",
            "1.18973149535723176502e+4932",
            "inf",
        ] {
            assert_eq!(duration(huge), Ok(Some(Duration::MAX)), "{huge}");
        }
        for bad in [
            "invalid",
            " -0.1",
            " -1e-10000",
            "42D",
            "1ss",
            "nan",
            ".s",
            "",
        ] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attached_values_are_values() {
        let job = plan(&args("-sKILL -k1 -v 5 sleep 1")).unwrap().unwrap();
        assert_eq!(job.signal, Signal::KILL);
        assert_eq!(job.kill_after, Some(Duration::from_secs(1)));
        assert!(job.verbose);
        assert_eq!(job.timeout, Some(Duration::from_secs(5)));
        assert_eq!(job.command, args("sleep 1"));
        let job = plan(&args("-s0 1 sleep -s 2")).unwrap().unwrap();
        assert_eq!(job.signal.as_raw(), 0);
        assert_eq!(job.command, args("sleep -s 2"));
    }

    #[test]
    fn usage_errors() {
        assert_eq!(plan(&args("1")).unwrap_err(), None);
        assert!(plan(&args("-s BOGUS 1 true"))
            .unwrap_err()
            .unwrap()
            .contains("invalid signal"));
        assert!(plan(&args("--bogus 1 true")).unwrap_err().is_some());
    }
}
