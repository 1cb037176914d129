//! What procps' tools select by, read from `/proc/<pid>`, and the pin
//! that makes a selection race-free: a candidate is opened (a pidfd, or
//! a guarded PID), read and judged again, and kept only if the pinned
//! process still owned its PID after that second read
//! ([`ProcessExt::info`] checks that last). Whatever is then done through
//! the handle reaches the process that was judged, never a newcomer that
//! took its PID.
//!
//! The one reader of `/proc` in this crate: the personalities (`pgrep`,
//! `kill`...) and the native `--match` selection both judge a [`Proc`].
//! Linux only; imports nothing of this crate.

use std::fs;
use std::os::unix::fs::MetadataExt as _;

use prochandle::linux::ProcessExt;
use prochandle::Process;

/// The facts of one process, as procps reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    /// `comm`: at most 15 bytes.
    pub comm: String,
    /// The arguments joined by spaces; empty for kernel threads and
    /// zombies.
    pub cmdline: String,
    /// `R`, `S`, `D`, `Z`, `T`...
    pub state: char,
    pub ppid: u32,
    pub pgrp: u32,
    pub session: u32,
    /// The controlling terminal, as the kernel encodes it (0: none).
    pub tty: u32,
    /// Start time in clock ticks after boot.
    pub start: u64,
    pub ruid: u32,
    pub euid: u32,
    pub rgid: u32,
}

impl Proc {
    /// Reads `/proc/<pid>`; `None` if it is gone or unreadable.
    pub fn read(pid: u32) -> Option<Proc> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let mut proc = parse_stat(&stat)?;
        proc.pid = pid;
        let ids = |key: &str| -> Option<(u32, u32)> {
            let line = status.lines().find_map(|l| l.strip_prefix(key))?;
            let mut fields = line.split_ascii_whitespace().map(str::parse::<u32>);
            Some((fields.next()?.ok()?, fields.next()?.ok()?))
        };
        (proc.ruid, proc.euid) = ids("Uid:")?;
        proc.rgid = ids("Gid:")?.0;
        proc.cmdline = join_cmdline(&raw);
        Some(proc)
    }

    /// The command line, or the name where there is none (as pgrep shows
    /// and matches kernel threads and zombies).
    pub fn command_line(&self) -> &str {
        if self.cmdline.is_empty() {
            &self.comm
        } else {
            &self.cmdline
        }
    }
}

/// The fields of `/proc/<pid>/stat` after the name, which sits in
/// parentheses and may itself hold `)` or spaces (so fields are counted
/// from the last `)`).
fn parse_stat(stat: &str) -> Option<Proc> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let rest: Vec<&str> = stat.get(close + 1..)?.split_ascii_whitespace().collect();
    // rest[0] is field 3 (state); ppid 4, pgrp 5, session 6, tty_nr 7,
    // starttime 22.
    let field = |i: usize| rest.get(i)?.parse::<u64>().ok();
    Some(Proc {
        comm: stat.get(open + 1..close)?.to_owned(),
        state: rest.first()?.chars().next()?,
        ppid: field(1)? as u32,
        pgrp: field(2)? as u32,
        session: field(3)? as u32,
        tty: field(4)? as u32,
        start: field(19)?,
        ..Proc::default()
    })
}

fn join_cmdline(raw: &[u8]) -> String {
    let trimmed = raw.strip_suffix(b"\0").unwrap_or(raw);
    let spaced: Vec<u8> = trimmed
        .iter()
        .map(|&b| if b == 0 { b' ' } else { b })
        .collect();
    String::from_utf8_lossy(&spaced).into_owned()
}

/// The namespace kinds a process's `/proc/<pid>/ns/` holds, in procps'
/// order (`--nslist` bit N is the N-th name).
pub const NAMESPACE_KINDS: [&str; 8] =
    ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// The inode of each of `pid`'s namespaces ([`NAMESPACE_KINDS`] order),
/// 0 for one that cannot be read (gone, a zombie's, another user's
/// without the right to trace it), as procps counts it. Read inside a
/// judge (see [`pin`]), the numbers belong to the pinned process.
pub fn namespaces(pid: u32) -> [u64; 8] {
    NAMESPACE_KINDS.map(|kind| {
        // stat(2) follows the link into nsfs: the inode names the namespace.
        fs::metadata(format!("/proc/{pid}/ns/{kind}")).map_or(0, |meta| meta.ino())
    })
}

/// `pid`'s cgroup v2 path (`/system.slice/x.service`): the `0::` line of
/// `/proc/<pid>/cgroup`; `None` if it has none or is gone.
pub fn cgroup_v2(pid: u32) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    unified_line(&text).map(str::to_owned)
}

/// The unified hierarchy's path in a `/proc/<pid>/cgroup` text: what
/// follows `0::` (the v1 lines, `N:controllers:path`, are other trees).
fn unified_line(text: &str) -> Option<&str> {
    text.lines().find_map(|line| line.strip_prefix("0::"))
}

/// The PIDs listed in `/proc` now, in order.
pub fn pids() -> Vec<u32> {
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids
}

/// A process that was judged while pinned.
pub struct Pinned {
    pub process: Process,
    pub proc: Proc,
}

/// Opens `pid`, reads and judges it again; `Some` only if it still
/// passes and the pinned process still owned the PID after the read.
pub fn pin(pid: u32, judge: impl Fn(&Proc) -> bool) -> Option<Pinned> {
    let process = Process::open(pid).ok()?;
    let proc = Proc::read(pid).filter(|p| judge(p))?;
    process.info().ok()?;
    Some(Pinned { process, proc })
}

/// An opened process, judged while it is pinned (as [`pin`] does).
pub fn judge_pinned(process: Process, judge: impl Fn(&Proc) -> bool) -> Option<Pinned> {
    let proc = Proc::read(process.pid()).filter(|p| judge(p))?;
    process.info().ok()?;
    Some(Pinned { process, proc })
}

/// Clock ticks a second in `/proc/<pid>/stat` (`USER_HZ`, fixed at 100
/// in the kernel's ABI for every architecture Linux runs on).
pub const TICKS_PER_SECOND: u64 = 100;

/// The time since boot, in the ticks start times are counted in.
pub fn uptime_ticks() -> u64 {
    let text = fs::read_to_string("/proc/uptime").unwrap_or_default();
    let seconds: f64 = text
        .split_ascii_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    (seconds * TICKS_PER_SECOND as f64) as u64
}

/// Every process that passes `judge` now, pinned, in PID order; `skip`
/// are never considered (this process, its ancestors with `-A`).
pub fn select(skip: &[u32], judge: impl Fn(&Proc) -> bool) -> Vec<Pinned> {
    pids()
        .into_iter()
        .filter(|pid| !skip.contains(pid))
        .filter(|&pid| Proc::read(pid).is_some_and(|p| judge(&p)))
        .filter_map(|pid| pin(pid, &judge))
        .collect()
}

/// This process and its ancestors up to PID 1 (pgrep `-A`).
pub fn ancestors() -> Vec<u32> {
    let mut chain = vec![std::process::id()];
    while let Some(parent) = chain
        .last()
        .and_then(|&pid| Proc::read(pid))
        .map(|p| p.ppid)
        .filter(|&ppid| ppid != 0 && !chain.contains(&ppid))
    {
        chain.push(parent);
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields() {
        let stat = "42 (a) b) S 7 8 9 34817 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        let p = parse_stat(stat).unwrap();
        assert_eq!(p.comm, "a) b");
        assert_eq!((p.state, p.ppid, p.pgrp, p.session), ('S', 7, 8, 9));
        assert_eq!((p.tty, p.start), (34817, 12345));
    }

    #[test]
    fn stat_with_a_tricky_name() {
        let stat = "42 (a) b (c) S 7 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        let p = parse_stat(stat).unwrap();
        assert_eq!(p.comm, "a) b (c");
        assert_eq!((p.ppid, p.start), (7, 12345));
        assert_eq!(join_cmdline(b"sleep\x00300\x00"), "sleep 300");
    }

    #[test]
    fn this_process_reads_and_pins() {
        let me = Proc::read(std::process::id()).unwrap();
        assert!(!me.comm.is_empty());
        assert_eq!(me.pid, std::process::id());
        let pinned = pin(std::process::id(), |p| p.comm == me.comm).unwrap();
        assert_eq!(pinned.process.pid(), std::process::id());
        assert!(ancestors().contains(&std::process::id()));
    }

    #[test]
    fn namespaces_and_cgroups() {
        let me = std::process::id();
        let ns = namespaces(me);
        // Every kernel this runs on has these four.
        for kind in ["ipc", "mnt", "net", "pid"] {
            let at = NAMESPACE_KINDS.iter().position(|&k| k == kind).unwrap();
            assert_ne!(ns[at], 0, "{kind}");
        }
        assert_eq!(namespaces(u32::MAX), [0; 8]);
        let v1_and_v2 = "12:cpu,cpuacct:/a\n0::/user.slice/x.scope\n";
        assert_eq!(unified_line(v1_and_v2), Some("/user.slice/x.scope"));
        assert_eq!(unified_line("3:memory:/a\n"), None);
        assert_eq!(cgroup_v2(u32::MAX), None);
    }
}
