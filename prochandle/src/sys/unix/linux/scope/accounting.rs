//! The whole tree's accounting on Linux: a cgroup's own files in the
//! cgroup modes, `/proc/<pid>/stat` times in the subreaper mode.

use std::time::Duration;

use super::super::cgroup::Cgroup;
use crate::control::{Measure, ScopeStats};
use crate::error::{Error, Result};

/// `user_usec` and `system_usec` of a `cpu.stat` text (present in every
/// v2 cgroup, with or without the cpu controller).
fn cpu_stat(text: &str) -> Option<(Duration, Duration)> {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse::<u64>().ok())
            .map(Duration::from_micros)
    };
    Some((field("user_usec ")?, field("system_usec ")?))
}

/// The statistics of a cgroup scope.
pub(super) fn cgroup_stats(cgroup: &Cgroup) -> Result<ScopeStats> {
    let os = |e| Error::os("read cgroup accounting", e);
    let cpu = cgroup
        .read_control("cpu.stat")
        .map_err(os)?
        .and_then(|t| cpu_stat(&t));
    let (cpu_user, cpu_system) = match cpu {
        Some((u, s)) => (Measure::Known(u), Measure::Known(s)),
        None => {
            let why = "the cgroup has no readable cpu.stat (Linux 4.15+)";
            (Measure::absent(why), Measure::absent(why))
        }
    };
    let live = cgroup.pids().map_err(os)?.len() as u64;
    let peak_memory = match cgroup.read_control("memory.peak").map_err(os)? {
        Some(t) => t
            .trim()
            .parse()
            .map(Measure::Known)
            .unwrap_or_else(|_| Measure::absent(format!("memory.peak is not a number: {t:?}"))),
        None => Measure::absent(
            "no memory.peak: the memory controller is not enabled for the scope's cgroup \
             (or the kernel is older than 5.19)",
        ),
    };
    Ok(ScopeStats {
        cpu_user,
        cpu_system,
        live: Measure::Known(live),
        started: Measure::absent("cgroup v2 keeps no count of the processes started in it"),
        peak_memory,
    })
}

/// CPU time, in clock ticks: user and system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Ticks {
    pub user: u64,
    pub system: u64,
}

impl Ticks {
    pub(crate) fn add(&mut self, other: Ticks) {
        self.user += other.user;
        self.system += other.system;
    }

    pub(crate) fn durations(self) -> (Duration, Duration) {
        let hz = rustix::param::clock_ticks_per_second().max(1);
        let of = |t: u64| Duration::from_nanos(t.saturating_mul(1_000_000_000 / hz));
        (of(self.user), of(self.system))
    }
}

/// Fields 14 to 17 of a `stat` line (utime, stime, cutime, cstime): a
/// process's own CPU time plus that of the children it has reaped.
pub(crate) fn tree_ticks(stat: &[u8]) -> Option<Ticks> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    // `rest` starts at field 3: field 14 is the twelfth.
    let f: Vec<u64> = rest
        .split_ascii_whitespace()
        .skip(11)
        .take(4)
        .map(|v| v.parse::<i64>().ok().map(|n| n.max(0) as u64))
        .collect::<Option<_>>()?;
    (f.len() == 4).then(|| Ticks {
        user: f[0] + f[2],
        system: f[1] + f[3],
    })
}

/// [`tree_ticks`] of the live (or zombie) process `pid`.
pub(crate) fn ticks_of(pid: u32) -> Option<Ticks> {
    tree_ticks(&std::fs::read(format!("/proc/{pid}/stat")).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_stat_gives_user_and_system() {
        let text = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n";
        let (u, s) = cpu_stat(text).unwrap();
        assert_eq!(
            (u, s),
            (Duration::from_micros(1000), Duration::from_micros(500))
        );
        assert!(cpu_stat("usage_usec 3\n").is_none());
    }

    #[test]
    fn stat_times_include_the_reaped_children() {
        let line = b"42 (a) b) S 1 42 42 0 -1 4194560 0 0 0 0 7 3 20 10 20 0 1 0 9 0";
        assert_eq!(
            tree_ticks(line),
            Some(Ticks {
                user: 27,
                system: 13
            })
        );
    }
}
