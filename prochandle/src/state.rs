//! What is known about a process once it has exited: Go's `ProcessState`.

use std::fmt;
use std::time::Duration;

use crate::signal::Signal;

/// How a process ended, as far as the OS told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExitStatus {
    /// It called `exit` (or returned from `main`) with this code. On Unix the
    /// code is the low 8 bits the parent sees; on Windows the full 32-bit
    /// exit code.
    Exited(i32),
    /// It was terminated by this signal (Unix).
    Signaled {
        /// The signal.
        signal: Signal,
        /// Whether the kernel wrote a core dump.
        core_dumped: bool,
    },
    /// It has exited, but its status could not be learnt. Never a made-up
    /// `0`: the reason says why.
    Unknown(UnknownReason),
}

/// Why an exit status is [`ExitStatus::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnknownReason {
    /// Not our child, and this kernel cannot report the exit status of other
    /// processes (Linux before 6.15 lacks `PIDFD_INFO_EXIT`), or the process
    /// is tracked by a guarded PID.
    NotOurChild,
    /// Not our child and its parent had not reaped it yet when we looked:
    /// Linux records the status for others only at reaping time.
    NotReapedYet,
    /// Our child, but something else in this process reaped it first (a
    /// `waitpid(-1)` elsewhere, or `SIGCHLD` set to `SIG_IGN`), and the kernel
    /// could not give the status back.
    ReapedElsewhere,
}

impl UnknownReason {
    /// One line for people.
    pub fn describe(self) -> &'static str {
        match self {
            UnknownReason::NotOurChild => {
                "not our child and the kernel does not report its status (needs Linux 6.15+ and a pidfd)"
            }
            UnknownReason::NotReapedYet => "exited, but its parent has not reaped it yet",
            UnknownReason::ReapedElsewhere => "reaped by someone else in this process",
        }
    }
}

/// What the kernel recorded about the core dump of a process that died by
/// a signal (Linux 6.16, `PIDFD_INFO_COREDUMP`), for any process held by a
/// pidfd, not only our children.
///
/// The kernel records it for dumps it hands to a helper (a `|program` or
/// `@socket` `core_pattern`), and for dumps it skipped; a dump to a plain
/// file shows only as [`ExitStatus::Signaled`]'s `core_dumped`.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// # #[cfg(unix)] {
/// let child = prochandle::Process::spawn(&mut std::process::Command::new("sleep").arg("10"))?;
/// child.kill()?;
/// let state = child.wait()?;
/// if let Some(dump) = state.coredump() {
///     println!("dumped: {}, skipped: {}, as {:?}", dump.dumped, dump.skipped, dump.owner);
/// }
/// # }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Coredump {
    /// The kernel produced a core dump.
    pub dumped: bool,
    /// The dump was skipped: the process was not dumpable.
    pub skipped: bool,
    /// As whom the dump was made (or would have been), where said.
    pub owner: Option<CoredumpOwner>,
}

impl Coredump {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn new(dumped: bool, skipped: bool, owner: Option<CoredumpOwner>) -> Coredump {
        Coredump {
            dumped,
            skipped,
            owner,
        }
    }
}

impl fmt::Display for Coredump {
    /// `dumped as user`, `dumped as root`, `skipped` or `not dumped`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (self.dumped, self.skipped) {
            (true, _) => "dumped",
            (false, true) => "skipped",
            (false, false) => "not dumped",
        };
        f.write_str(what)?;
        match self.owner {
            Some(CoredumpOwner::User) => f.write_str(" as user"),
            Some(CoredumpOwner::Root) => f.write_str(" as root"),
            None => Ok(()),
        }
    }
}

/// As whom a core dump is written (the kernel's `suid_dumpable` rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CoredumpOwner {
    /// As the process's own user.
    User,
    /// As root, readable by root only (`suid_dumpable=2`).
    Root,
}

impl CoredumpOwner {
    /// `"user"` or `"root"`.
    pub fn name(self) -> &'static str {
        match self {
            CoredumpOwner::User => "user",
            CoredumpOwner::Root => "root",
        }
    }
}

/// CPU time and memory a process used, as the kernel accounted it at exit.
///
/// Only available when we reaped the process ourselves (Unix) or hold a
/// handle to it (Windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ResourceUsage {
    /// Time spent running user code.
    pub user_time: Duration,
    /// Time spent in the kernel on its behalf.
    pub system_time: Duration,
    /// Peak resident set size in bytes (`None` where the OS does not say).
    pub max_rss_bytes: Option<u64>,
}

/// What is known about a process that has exited: Go's `os.ProcessState`.
///
/// Returned by [`Process::wait`](crate::Process::wait) and friends. Once a
/// process has been waited for, every later wait returns an equal state.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// # #[cfg(unix)] {
/// use std::process::Command;
///
/// let mut cmd = Command::new("sh");
/// cmd.args(["-c", "exit 3"]);
/// let process = prochandle::Process::spawn(&mut cmd)?;
/// let state = process.wait()?;
/// assert!(state.exited());
/// assert_eq!(state.exit_code(), Some(3));
/// assert!(!state.success());
/// # }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessState {
    pid: u32,
    status: ExitStatus,
    usage: Option<ResourceUsage>,
    coredump: Option<Coredump>,
}

impl ProcessState {
    pub(crate) fn new(pid: u32, status: ExitStatus, usage: Option<ResourceUsage>) -> Self {
        ProcessState {
            pid,
            status,
            usage,
            coredump: None,
        }
    }

    /// The same state with the kernel's core dump record attached.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn with_coredump(mut self, coredump: Option<Coredump>) -> Self {
        self.coredump = coredump;
        self
    }

    /// What the kernel recorded about a core dump, for a process that died
    /// by a signal: Linux 6.16+ with a pidfd, `None` elsewhere or when the
    /// kernel recorded nothing. See [`Coredump`].
    pub fn coredump(&self) -> Option<Coredump> {
        self.coredump
    }

    /// The process ID the process had. Go: `Pid()`.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How it ended.
    pub fn status(&self) -> ExitStatus {
        self.status
    }

    /// Whether it exited by itself (rather than by a signal or unknown).
    /// Go: `Exited()`.
    pub fn exited(&self) -> bool {
        matches!(self.status, ExitStatus::Exited(_))
    }

    /// Whether it exited with code 0. Go: `Success()`.
    pub fn success(&self) -> bool {
        self.status == ExitStatus::Exited(0)
    }

    /// The exit code, if it exited by itself. Go's `ExitCode()` returns -1
    /// where this returns `None`.
    pub fn exit_code(&self) -> Option<i32> {
        match self.status {
            ExitStatus::Exited(code) => Some(code),
            _ => None,
        }
    }

    /// The signal that terminated it, if one did.
    pub fn signal(&self) -> Option<Signal> {
        match self.status {
            ExitStatus::Signaled { signal, .. } => Some(signal),
            _ => None,
        }
    }

    /// Whether the exit status is known at all.
    pub fn status_known(&self) -> bool {
        !matches!(self.status, ExitStatus::Unknown(_))
    }

    /// Resource usage, when it could be had. Go: `SysUsage()`.
    pub fn usage(&self) -> Option<&ResourceUsage> {
        self.usage.as_ref()
    }

    /// User CPU time. Go: `UserTime()`.
    pub fn user_time(&self) -> Option<Duration> {
        self.usage.map(|u| u.user_time)
    }

    /// System CPU time. Go: `SystemTime()`.
    pub fn system_time(&self) -> Option<Duration> {
        self.usage.map(|u| u.system_time)
    }

    /// Peak resident set size in bytes.
    pub fn max_rss_bytes(&self) -> Option<u64> {
        self.usage.and_then(|u| u.max_rss_bytes)
    }
}

/// Decodes a Unix wait status word (`exit_code << 8 | signal | 0x80 core`),
/// the form both `wait4` and `PIDFD_INFO_EXIT` report.
#[cfg(unix)]
pub(crate) fn status_from_wait_word(word: i32) -> ExitStatus {
    let signal = word & 0x7f;
    if signal == 0 {
        ExitStatus::Exited((word >> 8) & 0xff)
    } else {
        ExitStatus::Signaled {
            signal: Signal::from_raw(signal),
            core_dumped: word & 0x80 != 0,
        }
    }
}

impl fmt::Display for ExitStatus {
    /// `exited 3`, `killed by SIGTERM`, `killed by SIGSEGV (core dumped)` or
    /// `status unknown: <reason>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ExitStatus::Exited(code) => write!(f, "exited {code}"),
            ExitStatus::Signaled {
                signal,
                core_dumped,
            } => {
                write!(f, "killed by {signal}")?;
                if core_dumped {
                    write!(f, " (core dumped)")?;
                }
                Ok(())
            }
            ExitStatus::Unknown(reason) => write!(f, "status unknown: {}", reason.describe()),
        }
    }
}

impl fmt::Display for ProcessState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.status, f)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn wait_word_decoding() {
        assert_eq!(status_from_wait_word(3 << 8), ExitStatus::Exited(3));
        assert_eq!(status_from_wait_word(0), ExitStatus::Exited(0));
        assert_eq!(
            status_from_wait_word(9),
            ExitStatus::Signaled {
                signal: Signal::from_raw(9),
                core_dumped: false
            }
        );
        assert_eq!(
            status_from_wait_word(11 | 0x80),
            ExitStatus::Signaled {
                signal: Signal::from_raw(11),
                core_dumped: true
            }
        );
    }

    #[test]
    fn display_forms() {
        assert_eq!(ExitStatus::Exited(3).to_string(), "exited 3");
        let term = ExitStatus::Signaled {
            signal: Signal::from_raw(15),
            core_dumped: false,
        };
        assert_eq!(term.to_string(), "killed by SIGTERM");
        let unknown = ExitStatus::Unknown(UnknownReason::NotOurChild);
        assert!(unknown.to_string().starts_with("status unknown: "));
    }

    #[test]
    fn accessors() {
        let s = ProcessState::new(7, ExitStatus::Exited(0), None);
        assert!(s.success() && s.exited() && s.status_known());
        assert_eq!(s.signal(), None);
        assert_eq!(s.user_time(), None);
        let k = ProcessState::new(
            7,
            ExitStatus::Signaled {
                signal: Signal::from_raw(2),
                core_dumped: false,
            },
            None,
        );
        assert_eq!((k.exit_code(), k.signal()), (None, Some(Signal::INT)));
    }
}
