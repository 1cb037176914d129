//! Reading `/proc/<pid>/stat`, the identity check of the guarded-PID mode.
//!
//! The second field, the command name, is wrapped in parentheses and may
//! itself contain spaces, parentheses, newlines and bytes that are not
//! UTF-8 (a process picks its own name with `prctl(PR_SET_NAME)`). The only
//! safe way to split the line is after the *last* `)`: every field after it
//! is a number or a one-letter state.

use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::BorrowedFd;
use std::sync::OnceLock;

use rustix::fs::{Mode, OFlags};

/// The fields of `/proc/<pid>/stat` this crate uses (proc(5) numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    /// Field 3: `R`, `S`, `D`, `Z`, `T`, `t`, `X`, `I`…
    pub state: u8,
    /// Field 4.
    pub ppid: i32,
    /// Field 5: the process group.
    pub pgrp: i32,
    /// Field 20.
    pub num_threads: i64,
    /// Field 22: clock ticks since boot when the process started.
    pub start_time: u64,
}

impl Stat {
    /// Whether the process has exited: a zombie (`Z`) waiting to be reaped,
    /// or dead (`X`, `x` before Linux 3.13) and being reaped.
    pub(crate) fn exited(&self) -> bool {
        matches!(self.state, b'Z' | b'X' | b'x')
    }
}

/// Parses the contents of a `stat` file. `None` for anything malformed:
/// a missing `)`, too few fields, or a field that is not a number.
pub(crate) fn parse_stat(contents: &[u8]) -> Option<Stat> {
    let close = contents.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&contents[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    // `fields` now starts at field 3.
    let state = fields.next()?;
    if state.len() != 1 {
        return None;
    }
    let state = state.as_bytes()[0];
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    // Fields 6..=19 are skipped; 20 is num_threads, 21 itrealvalue, 22 start.
    let mut fields = fields.skip(14);
    let num_threads = fields.next()?.parse().ok()?;
    let start_time = fields.nth(1)?.parse().ok()?;
    // The kernel always prints dozens of fields after the start time. If none
    // follows, the file was cut short and the last number may be cut too.
    fields.next()?;
    Some(Stat {
        state,
        ppid,
        pgrp,
        num_threads,
        start_time,
    })
}

/// A `stat` file is a few hundred bytes; refuse anything absurd rather than
/// reading without bound from a file system that might lie.
const STAT_LIMIT: u64 = 64 * 1024;

/// Reads and parses `/proc/<pid>/stat`.
///
/// `NotFound` when there is no such process (or no `/proc`);
/// `InvalidData` when the file cannot be parsed.
pub(crate) fn read_stat(pid: i32) -> io::Result<Stat> {
    let open = || std::fs::File::open(format!("/proc/{pid}/stat"));
    read_stat_with(open, &format!("/proc/{pid}/stat"))
}

/// Our own start time (field 22), with the PID it was read for: the one
/// field of our `stat` that never changes, so the first read serves every
/// later ask. The probe reads our `stat` anyway (through our `/proc/<pid>`
/// directory), and a scope's cgroup is named with it.
static OWN_START: OnceLock<(u32, u64)> = OnceLock::new();

/// Keeps `start`, just read from our own `stat` (PID `pid`), for
/// [`own_start_time`].
pub(crate) fn remember_own_start(pid: u32, start: u64) {
    let _ = OWN_START.set((pid, start));
}

/// This process's start time, read once. A child forked without `exec`
/// inherits the kept one, which is its parent's: it reads its own.
pub(crate) fn own_start_time() -> io::Result<u64> {
    let pid = std::process::id();
    if let Some(start) = kept_for(OWN_START.get().copied(), pid) {
        return Ok(start);
    }
    let start = read_stat(pid as i32)?.start_time;
    remember_own_start(pid, start);
    Ok(start)
}

/// The kept start time if it was kept for `pid`.
fn kept_for(kept: Option<(u32, u64)>, pid: u32) -> Option<u64> {
    kept.filter(|&(for_pid, _)| for_pid == pid)
        .map(|(_, start)| start)
}

/// Reads and parses `stat` through an open `/proc/<pid>` directory: about
/// the process the directory was opened for, or `NotFound` once it has
/// been reaped (the directory never moves on to a new owner of the PID).
pub(crate) fn read_stat_at(dir: BorrowedFd<'_>) -> io::Result<Stat> {
    read_stat_with(|| open_in(dir, c"stat"), "/proc/<pid>/stat")
}

/// Opens a file of an open `/proc/<pid>` directory, close-on-exec.
pub(crate) fn open_in(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    Ok(File::from(rustix::fs::openat(
        dir,
        name,
        flags,
        Mode::empty(),
    )?))
}

fn read_stat_with(open: impl FnOnce() -> io::Result<File>, path: &str) -> io::Result<Stat> {
    let mut buf = Vec::with_capacity(512);
    let read =
        |buf: &mut Vec<u8>| -> io::Result<usize> { open()?.take(STAT_LIMIT).read_to_end(buf) };
    read(&mut buf).map_err(|e| {
        // ESRCH: the process was being reaped as we opened or read its
        // entry. Either way it is gone, which callers know as NotFound.
        if e.raw_os_error() == Some(libc::ESRCH) {
            io::Error::from(io::ErrorKind::NotFound)
        } else {
            e
        }
    })?;
    parse_stat(&buf).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{path}: unexpected format"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_is_read_after_the_last_parenthesis() {
        let line = b"42 (a) b) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 9 0";
        let stat = parse_stat(line).unwrap();
        assert_eq!((stat.state, stat.ppid, stat.pgrp), (b'S', 1, 77));
        assert_eq!((stat.num_threads, stat.start_time), (1, 9));
    }

    #[test]
    fn zombies_and_the_dead_have_exited() {
        let stat = |state: &str| parse_stat(&line(b"x", state, 1, 1, 1)).unwrap();
        assert!(["Z", "X", "x"].iter().all(|s| stat(s).exited()));
        assert!(["R", "S", "D", "T", "t", "I"]
            .iter()
            .all(|s| !stat(s).exited()));
    }

    fn line(comm: &[u8], state: &str, ppid: i32, threads: i64, start: u64) -> Vec<u8> {
        let mut v = b"1234 (".to_vec();
        v.extend_from_slice(comm);
        v.extend_from_slice(
            format!(
                ") {state} {ppid} 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 {threads} 0 {start} 1000 200 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
            )
            .as_bytes(),
        );
        v
    }

    #[test]
    fn plain_name() {
        let s = parse_stat(&line(b"sleep", "S", 42, 1, 987654)).unwrap();
        assert_eq!(
            s,
            Stat {
                state: b'S',
                ppid: 42,
                pgrp: 1,
                num_threads: 1,
                start_time: 987654
            }
        );
    }

    #[test]
    fn hostile_names() {
        for comm in [
            &b"a b"[..],
            b") R 1 2 3",
            b"((x))",
            b"new\nline",
            b"\xff\xfe bad utf8",
            b"",
        ] {
            let s = parse_stat(&line(comm, "Z", 7, 3, 55)).unwrap();
            assert_eq!(
                (s.state, s.ppid, s.num_threads, s.start_time),
                (b'Z', 7, 3, 55)
            );
        }
    }

    #[test]
    fn malformed_is_none() {
        assert_eq!(parse_stat(b""), None);
        assert_eq!(parse_stat(b"1 (x"), None);
        assert_eq!(parse_stat(b"1 (x) S 1 2 3"), None);
        let full = line(b"x", "S", 1, 1, 555_555);
        for cut in 0..full.len() {
            // Truncations must never yield a wrong start time.
            if let Some(s) = parse_stat(&full[..cut]) {
                assert_eq!(s.start_time, 555_555, "cut at {cut}");
            }
        }
    }

    #[test]
    fn reads_our_own_stat() {
        let me = read_stat(std::process::id() as i32).unwrap();
        assert!(me.start_time > 0);
        assert!(me.num_threads >= 1);
        assert_eq!(read_stat(-5).unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn our_start_time_is_kept_for_our_pid_only() {
        let me = read_stat(std::process::id() as i32).unwrap();
        assert_eq!(own_start_time().unwrap(), me.start_time);
        assert_eq!(
            *OWN_START.get().expect("kept by the first ask"),
            (std::process::id(), me.start_time)
        );
        // Kept for another PID (a parent's, which a forked child
        // inherits), it is not ours.
        assert_eq!(kept_for(Some((7, 99)), 7), Some(99));
        assert_eq!(kept_for(Some((7, 99)), 8), None);
        assert_eq!(kept_for(None, 7), None);
    }
}
