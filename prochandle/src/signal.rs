//! Signals by number and by name.
//!
//! [`Signal`] wraps the platform's signal number. On Windows only
//! [`Signal::KILL`] can be delivered (as `TerminateProcess`); the constants
//! still exist there, with their Linux numbers, so portable code compiles.
//!
//! On Linux the real-time signals are named as `kill(1)` and the shells
//! name them, relative to the C library's bounds (`SIGRTMIN()` and
//! `SIGRTMAX()`, read at run time because glibc keeps a few for itself):
//! `RTMIN`, `RTMIN+3`, `RTMAX-2`, `RTMAX`.

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
///
/// Real-time signals (Linux):
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// use prochandle::Signal;
///
/// let rtmin = Signal::rtmin().unwrap();
/// let second = "RTMIN+1".parse::<Signal>().unwrap();
/// assert_eq!(second.as_raw(), rtmin.as_raw() + 1);
/// assert_eq!(second.to_string(), "SIGRTMIN+1");
/// assert_eq!("SIGRTMAX-0".parse::<Signal>().unwrap(), Signal::rtmax().unwrap());
/// # }
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
    /// Real-time signals have no fixed name: their [`Display`](fmt::Display)
    /// form is relative (`SIGRTMIN+1`).
    pub fn name(self) -> Option<&'static str> {
        name(self.0)
    }

    /// Sets this signal's action in this process back to the default
    /// (`SIG_DFL`), as a C program starts with it.
    ///
    /// Rust starts programs with `SIGPIPE` ignored, so that a write to a
    /// closed pipe fails with `EPIPE`; a command-line tool that should end
    /// quietly when its reader goes away (`tool | head -1`), as C tools
    /// do, restores the default early in `main`. The action is the
    /// process's, for every thread; a signal a [`Relay`](crate::relay::Relay)
    /// receives on macOS or FreeBSD is fatal again after this. `KILL` and
    /// `STOP` are refused (`InvalidInput`).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)]
    /// prochandle::Signal::PIPE.restore_default_action()?;
    /// # Ok(()) }
    /// ```
    #[cfg(unix)]
    pub fn restore_default_action(self) -> crate::Result<()> {
        crate::sys::unix::disposition::set_default(self.0)
            .map_err(|e| crate::Error::os("sigaction", e))
    }

    /// `SIGRTMIN` as the C library reports it at run time (34 with glibc,
    /// which keeps 32 and 33); `None` where there are no real-time signals
    /// (anywhere but Linux).
    pub fn rtmin() -> Option<Signal> {
        realtime().map(|(min, _)| Signal(min))
    }

    /// `SIGRTMAX` as the C library reports it; `None` where there are no
    /// real-time signals.
    pub fn rtmax() -> Option<Signal> {
        realtime().map(|(_, max)| Signal(max))
    }

    /// Every signal of this system that has a name, in number order: the
    /// named ones, then the real-time range (as `kill -L` lists them).
    ///
    /// ```
    /// use prochandle::Signal;
    ///
    /// let all = Signal::all();
    /// assert!(all.contains(&Signal::KILL));
    /// assert!(all.windows(2).all(|w| w[0] < w[1]));
    /// ```
    pub fn all() -> Vec<Signal> {
        let mut all: Vec<Signal> = TABLE
            .iter()
            .map(|(_, s)| *s)
            .chain(EXTRA.iter().map(|(_, _, n)| Signal(*n)))
            .collect();
        if let Some((min, max)) = realtime() {
            all.extend((min..=max).map(Signal));
        }
        all.sort();
        all.dedup();
        all
    }

    /// The name without `SIG`, as `kill -l` prints it: `TERM`, `RTMIN+1`;
    /// `None` for a number with no name.
    pub fn bare_name(self) -> Option<String> {
        if let Some(full) = self.name() {
            return Some(full[3..].to_owned());
        }
        let (min, max) = realtime()?;
        if !(min..=max).contains(&self.0) {
            return None;
        }
        // The shells' split: the lower half counts up from RTMIN, the upper
        // half down from RTMAX.
        let up = self.0 - min;
        Some(match up {
            0 => "RTMIN".to_owned(),
            _ if self.0 == max => "RTMAX".to_owned(),
            _ if up <= (max - min) / 2 => format!("RTMIN+{up}"),
            _ => format!("RTMAX-{}", max - self.0),
        })
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
        .or_else(|| {
            EXTRA
                .iter()
                .find(|(_, _, n)| *n == number)
                .map(|(_, full, _)| *full)
        })
}

/// Signals only Linux has, as (bare name, `SIG` name, number).
#[cfg(target_os = "linux")]
const EXTRA: &[(&str, &str, i32)] = &[
    ("STKFLT", "SIGSTKFLT", libc::SIGSTKFLT),
    ("PWR", "SIGPWR", libc::SIGPWR),
];
#[cfg(not(target_os = "linux"))]
const EXTRA: &[(&str, &str, i32)] = &[];

/// Other names `kill(1)` accepts for the same numbers: procps prints
/// `POLL` for `IO`; `IOT` and `CLD` are the System V spellings.
const ALIASES: &[(&str, Signal)] = &[
    ("POLL", Signal::IO),
    ("IOT", Signal::ABRT),
    ("CLD", Signal::CHLD),
];

/// The real-time signal range of this system's C library, if it has one.
#[cfg(target_os = "linux")]
fn realtime() -> Option<(i32, i32)> {
    Some((libc::SIGRTMIN(), libc::SIGRTMAX()))
}
#[cfg(not(target_os = "linux"))]
fn realtime() -> Option<(i32, i32)> {
    None
}

/// The highest signal number accepted from text: `SIGRTMAX` on Linux, 64
/// elsewhere (the kernel refuses what it does not know when sent).
fn max_number() -> i32 {
    realtime().map_or(64, |(_, max)| max)
}

/// `RTMIN`, `RTMIN+n`, `RTMAX`, `RTMAX-n` (upper case, no `SIG`), within
/// the range.
fn parse_realtime(bare: &str) -> Option<Signal> {
    let (min, max) = realtime()?;
    let offset = |rest: &str, sign: char| -> Option<i32> {
        match rest.strip_prefix(sign) {
            None if rest.is_empty() => Some(0),
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse::<i32>().ok()
            }
            _ => None,
        }
    };
    let number = if let Some(rest) = bare.strip_prefix("RTMIN") {
        min.checked_add(offset(rest, '+')?)?
    } else {
        max.checked_sub(offset(bare.strip_prefix("RTMAX")?, '-')?)?
    };
    (min..=max).contains(&number).then_some(Signal(number))
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.bare_name()) {
            (Some(name), _) => f.write_str(name),
            (None, Some(bare)) => write!(f, "SIG{bare}"),
            (None, None) => write!(f, "signal {}", self.0),
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

    /// Accepts `TERM`, `SIGTERM`, `sigterm`, the aliases `POLL`, `IOT` and
    /// `CLD`, on Linux `STKFLT`, `PWR` and `RTMIN+n` / `RTMAX-n`, or a
    /// number (`15`) up to `SIGRTMAX` (64 off Linux). Number `0` (the
    /// existence check) is accepted too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseSignalError {
            input: s.to_owned(),
        };
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<i32>() {
                Ok(n) if n <= max_number() => Ok(Signal(n)),
                _ => Err(err()),
            };
        }
        let upper = s.to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        TABLE
            .iter()
            .chain(ALIASES)
            .find(|(name, _)| *name == bare)
            .map(|(_, sig)| *sig)
            .or_else(|| {
                EXTRA
                    .iter()
                    .find(|(name, _, _)| *name == bare)
                    .map(|(_, _, n)| Signal(*n))
            })
            .or_else(|| parse_realtime(bare))
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
        for bad in [
            "",
            "-1",
            "+9",
            "65",
            "99999999999",
            "SIG",
            "TERMINATE",
            "9x",
        ] {
            let e = bad.parse::<Signal>().unwrap_err();
            assert!(e.to_string().contains("unknown signal"), "{bad}");
        }
    }

    #[test]
    fn unknown_number_displays_plainly() {
        assert_eq!(Signal::from_raw(70).to_string(), "signal 70");
        assert_eq!(Signal::from_raw(-3).to_string(), "signal -3");
        assert_eq!(Signal::from_raw(-3).bare_name(), None);
    }

    #[test]
    fn aliases_parse_to_their_signal() {
        assert_eq!("POLL".parse::<Signal>().unwrap(), Signal::IO);
        assert_eq!("sigiot".parse::<Signal>().unwrap(), Signal::ABRT);
        assert_eq!("CLD".parse::<Signal>().unwrap(), Signal::CHLD);
    }

    #[test]
    fn every_listed_signal_round_trips_through_its_bare_name() {
        for signal in Signal::all() {
            let bare = signal.bare_name().unwrap();
            assert_eq!(bare.parse::<Signal>().unwrap(), signal, "{bare}");
            assert_eq!(signal.to_string(), format!("SIG{bare}"));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn realtime_signals_come_from_the_c_library() {
        let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
        assert_eq!(Signal::rtmin(), Some(Signal(min)));
        assert_eq!("RTMIN".parse::<Signal>().unwrap().as_raw(), min);
        assert_eq!("rtmin+2".parse::<Signal>().unwrap().as_raw(), min + 2);
        assert_eq!("SIGRTMAX-1".parse::<Signal>().unwrap().as_raw(), max - 1);
        assert_eq!(max.to_string().parse::<Signal>().unwrap().as_raw(), max);
        assert_eq!(Signal(min + 1).to_string(), "SIGRTMIN+1");
        assert_eq!(Signal(max - 1).to_string(), "SIGRTMAX-1");
        assert_eq!(Signal(max).to_string(), "SIGRTMAX");
        assert_eq!(
            "STKFLT".parse::<Signal>().unwrap().as_raw(),
            libc::SIGSTKFLT
        );
        assert_eq!(Signal(libc::SIGPWR).to_string(), "SIGPWR");
        let span = max - min;
        for bad in [
            "RTMIN+".to_owned(),
            "RTMIN-1".to_owned(),
            "RTMAX+1".to_owned(),
            "RTMIN++1".to_owned(),
            format!("RTMIN+{}", span + 1),
            format!("RTMAX-{}", span + 1),
            "RTMIN+99999999999".to_owned(),
            (max + 1).to_string(),
        ] {
            assert!(bad.parse::<Signal>().is_err(), "{bad}");
        }
    }
}
