//! Windows: `PID@CREATED`, a PID with its process's creation time, in
//! FILETIME ticks (100 ns since 1601-01-01 UTC, as `GetProcessTimes`
//! gives it). Windows keeps a PID from reuse only while a handle to its
//! process is open; with the creation time the pair names one process for
//! the life of the system, so a file written by `run --pidfile` cannot
//! lead to a process that took the PID later.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use prochandle::windows::ProcessExt;
use prochandle::{ErrorKind, Process};

/// FILETIME ticks from 1601-01-01 to the Unix epoch.
const UNIX_EPOCH_TICKS: u64 = 11_644_473_600 * 10_000_000;

/// A PID and the creation time of its process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Created {
    pub pid: u32,
    ticks: u64,
}

/// Why [`Created::open`] opened nothing.
pub enum Gone {
    /// No process has the PID.
    NoProcess,
    /// The PID belongs to a process created at another time.
    Recycled,
    /// The process could not be opened or asked.
    Failed(prochandle::Error),
}

impl Created {
    /// The identity of an opened process.
    pub fn of(process: &Process) -> prochandle::Result<Created> {
        Ok(Created {
            pid: process.pid(),
            ticks: ticks(process.creation_time()?),
        })
    }

    /// Opens the process, if the PID still names the one created then.
    /// The handle pins it, so the check holds for as long as it is held.
    pub fn open(self) -> Result<Process, Gone> {
        let process = Process::open(self.pid).map_err(|e| match e.kind() {
            ErrorKind::NotFound => Gone::NoProcess,
            _ => Gone::Failed(e),
        })?;
        match Created::of(&process) {
            Ok(now) if now == self => Ok(process),
            Ok(_) => Err(Gone::Recycled),
            Err(e) => Err(Gone::Failed(e)),
        }
    }
}

/// A time as FILETIME ticks (times before 1601 are 0).
fn ticks(time: SystemTime) -> u64 {
    let hundreds = |d: std::time::Duration| (d.as_nanos() / 100) as u64;
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => UNIX_EPOCH_TICKS.saturating_add(hundreds(after)),
        Err(before) => UNIX_EPOCH_TICKS.saturating_sub(hundreds(before.duration())),
    }
}

impl fmt::Display for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.pid, self.ticks)
    }
}

impl FromStr for Created {
    type Err = ();

    fn from_str(text: &str) -> Result<Created, ()> {
        let (pid, ticks) = text.split_once('@').ok_or(())?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(pid) || !digits(ticks) {
            return Err(());
        }
        let pid: u32 = pid.parse().map_err(|_| ())?;
        if pid == 0 || pid > i32::MAX as u32 {
            return Err(());
        }
        Ok(Created {
            pid,
            ticks: ticks.parse().map_err(|_| ())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_round_trips_and_refuses_the_rest() {
        let id: Created = "42@133000000000000000".parse().unwrap();
        assert_eq!(id.pid, 42);
        assert_eq!(id.to_string(), "42@133000000000000000");
        for bad in ["42", "42@", "@5", "0@5", "42@x", "42@-1", "42@5:abc"] {
            assert!(bad.parse::<Created>().is_err(), "{bad}");
        }
        assert_eq!(ticks(UNIX_EPOCH), UNIX_EPOCH_TICKS);
    }

    #[test]
    fn this_process_is_named_and_a_changed_time_is_not() {
        let me = Process::current().unwrap();
        let id = Created::of(&me).unwrap();
        assert_eq!(id.open().ok().map(|p| p.pid()), Some(me.pid()));
        let other = Created {
            ticks: id.ticks - 1,
            ..id
        };
        assert!(matches!(other.open(), Err(Gone::Recycled)));
    }
}
