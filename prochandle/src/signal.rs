//! Signals by number and by name.
//!
//! [`Signal`] wraps the platform's signal number. On Windows only
//! [`Signal::KILL`] can be delivered (as `TerminateProcess`); the constants
//! still exist there, with their Linux numbers, so portable code compiles.

use std::fmt;
use std::str::FromStr;

/// A signal to send with [`Process::signal`](crate::Process::signal).
///
/// ```
/// use prochandle::Signal;
///
/// assert_eq!("TERM".parse::<Signal>().unwrap(), Signal::TERM);
/// assert_eq!("SIGKILL".parse::<Signal>().unwrap(), Signal::KILL);
/// assert_eq!(Signal::INT.to_string(), "SIGINT");
/// assert!("SIGBOGUS".parse::<Signal>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(i32);

macro_rules! signals {
    ($($name:ident = $unix:ident / $other:expr;)*) => {
        impl Signal {
            $(
                #[doc = concat!("`SIG", stringify!($name), "`.")]
                #[cfg(unix)]
                pub const $name: Signal = Signal(libc::$unix);
                #[doc = concat!("`SIG", stringify!($name), "` (Linux numbering; only `KILL` is deliverable here).")]
                #[cfg(not(unix))]
                pub const $name: Signal = Signal($other);
            )*
        }

        const TABLE: &[(&str, Signal)] = &[$((stringify!($name), Signal::$name)),*];
    };
}

signals! {
    HUP = SIGHUP / 1;
    INT = SIGINT / 2;
    QUIT = SIGQUIT / 3;
    ILL = SIGILL / 4;
    TRAP = SIGTRAP / 5;
    ABRT = SIGABRT / 6;
    BUS = SIGBUS / 7;
    FPE = SIGFPE / 8;
    KILL = SIGKILL / 9;
    USR1 = SIGUSR1 / 10;
    SEGV = SIGSEGV / 11;
    USR2 = SIGUSR2 / 12;
    PIPE = SIGPIPE / 13;
    ALRM = SIGALRM / 14;
    TERM = SIGTERM / 15;
    CHLD = SIGCHLD / 17;
    CONT = SIGCONT / 18;
    STOP = SIGSTOP / 19;
    TSTP = SIGTSTP / 20;
    TTIN = SIGTTIN / 21;
    TTOU = SIGTTOU / 22;
    URG = SIGURG / 23;
    XCPU = SIGXCPU / 24;
    XFSZ = SIGXFSZ / 25;
    VTALRM = SIGVTALRM / 26;
    PROF = SIGPROF / 27;
    WINCH = SIGWINCH / 28;
    IO = SIGIO / 29;
    SYS = SIGSYS / 31;
}

impl Signal {
    /// A signal from its raw number. Numbers that are not valid signals on
    /// this platform are refused when the signal is sent, not here.
    pub const fn from_raw(number: i32) -> Signal {
        Signal(number)
    }

    /// The raw signal number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// The conventional name (`"SIGTERM"`), for the signals this crate knows.
    pub fn name(self) -> Option<&'static str> {
        name(self.0)
    }
}

/// The `SIG…` name of a signal number, if it has one we know.
pub(crate) fn name(number: i32) -> Option<&'static str> {
    // The table holds bare names; keep a parallel table of prefixed ones so
    // that `Display` never allocates.
    macro_rules! prefixed {
        ($($n:literal),*) => { &[$(concat!("SIG", $n)),*] };
    }
    const PREFIXED: &[&str] = prefixed!(
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
        "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "SYS"
    );
    TABLE
        .iter()
        .position(|(_, s)| s.0 == number)
        .map(|i| PREFIXED[i])
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signal({self})")
    }
}

/// The error of parsing a [`Signal`] from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSignalError {
    input: String,
}

impl fmt::Display for ParseSignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown signal {:?}: use a name such as TERM, SIGKILL or a number",
            self.input
        )
    }
}

impl std::error::Error for ParseSignalError {}

impl FromStr for Signal {
    type Err = ParseSignalError;

    /// Accepts `TERM`, `SIGTERM`, `sigterm` or a number (`15`). Number `0`
    /// (the existence check) is accepted too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseSignalError {
            input: s.to_owned(),
        };
        if let Ok(n) = s.parse::<i32>() {
            return if (0..=64).contains(&n) {
                Ok(Signal(n))
            } else {
                Err(err())
            };
        }
        let upper = s.to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        TABLE
            .iter()
            .find(|(name, _)| *name == bare)
            .map(|(_, sig)| *sig)
            .ok_or_else(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (bare, sig) in TABLE {
            let full = sig.name().unwrap();
            assert_eq!(&full[3..], *bare);
            assert_eq!(full.parse::<Signal>().unwrap(), *sig);
            assert_eq!(bare.to_lowercase().parse::<Signal>().unwrap(), *sig);
        }
    }

    #[test]
    fn numbers_parse_and_bad_input_is_refused() {
        assert_eq!("9".parse::<Signal>().unwrap(), Signal::from_raw(9));
        assert_eq!("0".parse::<Signal>().unwrap().as_raw(), 0);
        for bad in ["", "-1", "65", "SIG", "TERMINATE", "9x"] {
            let e = bad.parse::<Signal>().unwrap_err();
            assert!(e.to_string().contains("unknown signal"), "{bad}");
        }
    }

    #[test]
    fn unknown_number_displays_plainly() {
        assert_eq!(Signal::from_raw(40).to_string(), "signal 40");
    }
}
