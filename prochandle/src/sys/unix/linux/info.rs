//! What a process is: `PIDFD_GET_INFO` (Linux 6.13) where the kernel has
//! it, `/proc` otherwise, and `/proc` for what only it knows.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::time::Duration;

use super::recheck::{proc_error, still_owns_pid};
use super::{capabilities, procfs, syscalls, Process};
use crate::capabilities::Feature;
use crate::error::{Error, ErrorKind, Result};
use crate::state::Coredump;

/// Real, effective, saved and file-system user or group IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ids {
    /// Real ID: who owns the process.
    pub real: u32,
    /// Effective ID: what permission checks use.
    pub effective: u32,
    /// Saved set-ID.
    pub saved: u32,
    /// File-system ID.
    pub filesystem: u32,
}

impl Ids {
    pub(crate) fn new(real: u32, effective: u32, saved: u32, filesystem: u32) -> Ids {
        Ids {
            real,
            effective,
            saved,
            filesystem,
        }
    }
}

/// Where the credentials and parent of a [`ProcessInfo`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InfoSource {
    /// `ioctl(PIDFD_GET_INFO)` (Linux 6.13): read through the pidfd, about
    /// exactly this process.
    PidfdGetInfo,
    /// `/proc/<pid>/stat` and `status`, re-checked after reading.
    Procfs,
}

/// What [`ProcessExt::info`](crate::linux::ProcessExt::info) reports about a process.
///
/// Fields that only `/proc` knows are `None` where it would not tell (a
/// zombie has no command line or executable; another user's process hides
/// its executable).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// Process ID, in our PID namespace.
    pub pid: u32,
    /// Parent's PID; `None` for PID 1, or a parent outside our PID namespace.
    pub ppid: Option<u32>,
    /// User IDs.
    pub uids: Ids,
    /// Group IDs.
    pub gids: Ids,
    /// The cgroup v2 ID (the inode number of its cgroup directory), from
    /// `PIDFD_GET_INFO` only.
    pub cgroup_id: Option<u64>,
    /// The cgroup v2 path (the `0::` line of `/proc/<pid>/cgroup`).
    pub cgroup_path: Option<String>,
    /// The arguments, starting with the program name as it was invoked.
    pub cmdline: Option<Vec<OsString>>,
    /// The path of the executable.
    pub exe: Option<PathBuf>,
    /// When it started, as time since boot.
    pub start_time: Option<Duration>,
    /// The state letter of proc(5): `R` running, `S` sleeping, `D` disk
    /// sleep, `Z` zombie, `T` stopped, ...
    pub state: Option<char>,
    /// Number of threads.
    pub threads: Option<u32>,
    /// Where `ppid`, `uids` and `gids` came from.
    pub source: InfoSource,
    /// What the kernel recorded about a core dump (Linux 6.16,
    /// `PIDFD_INFO_COREDUMP`): for a process that has died by a signal and
    /// is not yet reaped, whether it dumped core, was skipped, and as whom.
    /// `None` without a pidfd, on older kernels, or when nothing was
    /// recorded (a live process, a dump to a plain file).
    pub coredump: Option<Coredump>,
}

impl ProcessInfo {
    pub(crate) fn empty(pid: u32) -> ProcessInfo {
        ProcessInfo {
            pid,
            ppid: None,
            uids: Ids::new(0, 0, 0, 0),
            gids: Ids::new(0, 0, 0, 0),
            cgroup_id: None,
            cgroup_path: None,
            cmdline: None,
            exe: None,
            start_time: None,
            state: None,
            threads: None,
            source: InfoSource::Procfs,
            coredump: None,
        }
    }
}

const OP: &str = "info";

/// `PIDFD_INFO_*` bits (`linux/pidfd.h`), widened to the type of
/// `pidfd_info::mask`. PID and CREDS are always returned; CGROUPID only
/// where the process is on cgroup v2.
const PIDFD_INFO_CREDS: u64 = libc::PIDFD_INFO_CREDS as u64;
const PIDFD_INFO_CGROUPID: u64 = libc::PIDFD_INFO_CGROUPID as u64;

/// `PIDFD_GET_INFO` through the process's pidfd, where it has one and the
/// kernel has that call: `None` means "read `/proc` instead".
fn ask_kernel(process: &Process) -> Result<Option<syscalls::PidfdInfoExt>> {
    let Some(fd) = process.handle() else {
        return Ok(None);
    };
    if !capabilities().is_available(Feature::PidfdGetInfo) {
        return Ok(None);
    }
    let mut mask = syscalls::PIDFD_INFO_PID | PIDFD_INFO_CREDS | PIDFD_INFO_CGROUPID;
    if capabilities().is_available(Feature::PidfdInfoCoredump) {
        mask |= syscalls::PIDFD_INFO_COREDUMP;
    }
    match syscalls::pidfd_get_info_ext(fd, mask) {
        Ok(raw) => Ok(Some(raw)),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
            Err(Error::os_kind(ErrorKind::Done, "ioctl(PIDFD_GET_INFO)", e)
                .with_detail(format!("process {} has been reaped", process.pid())))
        }
        Err(e) => Err(Error::os("ioctl(PIDFD_GET_INFO)", e)),
    }
}

pub(crate) fn info(process: &Process) -> Result<ProcessInfo> {
    let from_kernel = ask_kernel(process)?;
    // The kernel fills only what `mask` says, up to the size we pass (the
    // larger struct, or the first version on kernels that take only that,
    // whose answer then claims nothing newer): only marked fields are read.
    let coredump = from_kernel
        .as_ref()
        .and_then(syscalls::PidfdInfoExt::coredump);
    // Without both PID and CREDS marked as filled, use /proc instead.
    let needed = syscalls::PIDFD_INFO_PID | PIDFD_INFO_CREDS;
    let from_kernel = from_kernel
        .map(|ext| ext.base)
        .filter(|raw| raw.mask & needed == needed);

    let mut info = match from_kernel {
        Some(raw) => ProcessInfo {
            pid: raw.pid,
            ppid: nonzero(raw.ppid),
            uids: Ids::new(raw.ruid, raw.euid, raw.suid, raw.fsuid),
            gids: Ids::new(raw.rgid, raw.egid, raw.sgid, raw.fsgid),
            cgroup_id: (raw.mask & PIDFD_INFO_CGROUPID != 0).then_some(raw.cgroupid),
            source: InfoSource::PidfdGetInfo,
            ..ProcessInfo::empty(process.pid())
        },
        None => from_proc(process)?,
    };

    let exited = add_proc_only(&mut info, process.pid());
    // For a live process the kernel answers how a dump *would* be made;
    // the field says what happened, so only a process that has exited (a
    // zombie, seen before its parent reaps it) reports one.
    info.coredump = coredump.filter(|_| exited);

    // Everything above read /proc by PID: it describes our process only if
    // the PID was still ours afterwards.
    still_owns_pid(process, OP)?;
    Ok(info)
}

/// What `PIDFD_GET_INFO` would have told, from `/proc/<pid>/stat` and
/// `status`.
fn from_proc(process: &Process) -> Result<ProcessInfo> {
    let pid = process.pid();
    let stat = procfs::read_stat(pid as i32)
        .map_err(|e| proc_error(process, "read /proc/<pid>/stat", e))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| proc_error(process, "read /proc/<pid>/status", e))?;
    let (uids, gids) = parse_status_ids(&status).ok_or_else(|| {
        Error::new(ErrorKind::Other, "read /proc/<pid>/status").with_detail("no Uid:/Gid: lines")
    })?;
    Ok(ProcessInfo {
        ppid: u32::try_from(stat.ppid).ok().filter(|&p| p != 0),
        uids,
        gids,
        ..ProcessInfo::empty(pid)
    })
}

/// Fills in what only /proc knows of `pid`; returns whether the process has exited
/// (by its stat state). Any of it may be unreadable (another user's
/// process, a zombie, a kernel thread): then it stays `None`.
fn add_proc_only(info: &mut ProcessInfo, pid: u32) -> bool {
    let stat = procfs::read_stat(pid as i32).ok();
    if let Some(stat) = &stat {
        info.state = Some(stat.state as char);
        info.threads = u32::try_from(stat.num_threads).ok();
        info.start_time = Some(ticks_to_duration(stat.start_time));
    }
    info.cgroup_path = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .ok()
        .and_then(|text| parse_cgroup_v2_path(&text));
    info.cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .ok()
        .map(|bytes| split_cmdline(&bytes));
    info.exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    stat.is_some_and(|s| s.exited())
}

fn nonzero(id: u32) -> Option<u32> {
    (id != 0).then_some(id)
}

/// The `Uid:` and `Gid:` lines of `/proc/<pid>/status`: real, effective,
/// saved and file-system IDs.
pub(crate) fn parse_status_ids(status: &str) -> Option<(Ids, Ids)> {
    let ids = |key: &str| -> Option<Ids> {
        let line = status.lines().find_map(|l| l.strip_prefix(key))?;
        let mut it = line.split_ascii_whitespace().map(|v| v.parse::<u32>());
        let mut next = || it.next()?.ok();
        Some(Ids::new(next()?, next()?, next()?, next()?))
    };
    Some((ids("Uid:")?, ids("Gid:")?))
}

/// The cgroup v2 path: the `0::<path>` line of `/proc/<pid>/cgroup`.
pub(crate) fn parse_cgroup_v2_path(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_owned)
}

/// `/proc/<pid>/cmdline`: arguments separated (and ended) by NUL bytes.
pub(crate) fn split_cmdline(bytes: &[u8]) -> Vec<OsString> {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == 0)
        .map(|arg| OsString::from_vec(arg.to_vec()))
        .collect()
}

/// Clock ticks since boot (the `stat` start time) as a duration.
pub(crate) fn ticks_to_duration(ticks: u64) -> Duration {
    let hz = clock_ticks_per_second();
    Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz)
}

fn clock_ticks_per_second() -> u64 {
    // `sysconf(_SC_CLK_TCK)`, which the kernel hands every process in its
    // auxiliary vector (`AT_CLKTCK`). Never divide by a missing value.
    match rustix::param::clock_ticks_per_second() {
        0 => 100,
        hz => hz,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_ids() {
        let text = "Name:\tx\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\nGroups:\t\n";
        let (u, g) = parse_status_ids(text).unwrap();
        assert_eq!((u.real, u.effective, u.saved, u.filesystem), (1, 2, 3, 4));
        assert_eq!((g.real, g.effective, g.saved, g.filesystem), (5, 6, 7, 8));
        assert!(parse_status_ids("Uid:\t1\t2\n").is_none());
    }

    #[test]
    fn cgroup_path() {
        let text = "4:memory:/a\n0::/user.slice/x.scope\n";
        assert_eq!(
            parse_cgroup_v2_path(text).as_deref(),
            Some("/user.slice/x.scope")
        );
        assert_eq!(parse_cgroup_v2_path("4:memory:/a\n"), None);
    }

    #[test]
    fn cmdline() {
        assert_eq!(split_cmdline(b"sleep\x0030\x00"), ["sleep", "30"]);
        assert_eq!(split_cmdline(b"a\x00\x00b\x00"), ["a", "", "b"]);
        assert!(split_cmdline(b"").is_empty());
    }

    #[test]
    fn ticks() {
        let hz = clock_ticks_per_second();
        assert_eq!(ticks_to_duration(hz * 3), Duration::from_secs(3));
    }
}
