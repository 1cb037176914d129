//! What controlling a [`Scope`](crate::Scope) reports and asks for: its
//! statistics, its limits, the report of a graceful stop. Plain data,
//! shared by the portable layer and the OS layer (`sys`), which fills
//! these types directly.

use std::fmt;
use std::time::Duration;

/// A figure the system may or may not give: [`Known`](Measure::Known), or
/// [`Absent`](Measure::Absent) with the reason. A figure the system does
/// not keep is never reported as zero.
///
/// ```
/// use prochandle::Measure;
/// let peak: Measure<u64> = Measure::Absent("no memory controller".into());
/// assert_eq!(peak.known(), None);
/// assert_eq!(peak.reason(), Some("no memory controller"));
/// assert_eq!(Measure::Known(3u64).known(), Some(&3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure<T> {
    /// The system's figure.
    Known(T),
    /// The system gives no such figure here, and why.
    Absent(String),
}

impl<T> Measure<T> {
    /// The figure, if known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Measure::Known(v) => Some(v),
            Measure::Absent(_) => None,
        }
    }

    /// Why the figure is absent; `None` when it is known.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Measure::Known(_) => None,
            Measure::Absent(why) => Some(why),
        }
    }

    pub(crate) fn absent(why: impl Into<String>) -> Measure<T> {
        Measure::Absent(why.into())
    }
}

/// The whole tree's accounting, from [`Scope::stats`](crate::Scope::stats):
/// live, and after the tree has ended, members that were re-parented or
/// reaped included (where the mechanism can count them: see each field).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScopeStats {
    /// CPU time in user mode of every member, past and present (cgroup
    /// `cpu.stat`; Windows job accounting; subreaper: what the scope
    /// reaped plus `/proc` of the live).
    pub cpu_user: Measure<Duration>,
    /// CPU time in the kernel on the members' behalf.
    pub cpu_system: Measure<Duration>,
    /// The live members now.
    pub live: Measure<u64>,
    /// Processes started in the scope in total, where the system counts
    /// them (a Windows job does; a cgroup does not).
    pub started: Measure<u64>,
    /// The highest memory use of the whole tree at once, in bytes
    /// (`memory.peak`, with the memory controller; Windows
    /// `PeakJobMemoryUsed`).
    pub peak_memory: Measure<u64>,
}

impl ScopeStats {
    /// All absent, for `why`.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn absent(why: &str) -> ScopeStats {
        ScopeStats {
            cpu_user: Measure::absent(why),
            cpu_system: Measure::absent(why),
            live: Measure::absent(why),
            started: Measure::absent(why),
            peak_memory: Measure::absent(why),
        }
    }
}

/// Resource limits for the whole tree; a field left `None` is not
/// changed. Given at creation ([`ScopeOptions::memory_max`] and its
/// siblings) or live ([`Scope::set_limits`]).
///
/// Where the system cannot enforce a limit asked for, the scope (or the
/// change) is refused with [`Unsupported`](crate::ErrorKind::Unsupported)
/// naming what is missing: never a silently unlimited scope.
///
/// [`ScopeOptions::memory_max`]: crate::ScopeOptions::memory_max
/// [`Scope::set_limits`]: crate::Scope::set_limits
///
/// ```
/// use prochandle::ScopeLimits;
/// let limits = ScopeLimits::new().memory_max(256 << 20).tasks_max(64).cpu_max(150);
/// assert_eq!(limits.get_cpu_max(), Some(150));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScopeLimits {
    pub(crate) memory_max: Option<u64>,
    pub(crate) tasks_max: Option<u64>,
    pub(crate) cpu_max: Option<u32>,
}

impl ScopeLimits {
    /// No limit asked for.
    pub fn new() -> ScopeLimits {
        ScopeLimits::default()
    }

    /// The most memory the whole tree may use, in bytes (cgroup
    /// `memory.max`; Windows job memory).
    pub fn memory_max(mut self, bytes: u64) -> ScopeLimits {
        self.memory_max = Some(bytes);
        self
    }

    /// The most processes (cgroup: tasks, threads included) alive at once
    /// (cgroup `pids.max`; Windows active processes).
    pub fn tasks_max(mut self, tasks: u64) -> ScopeLimits {
        self.tasks_max = Some(tasks);
        self
    }

    /// The most CPU the tree may use, in percent of one CPU (150: one and
    /// a half) (cgroup `cpu.max`; Windows CPU rate, a share of all CPUs).
    pub fn cpu_max(mut self, percent: u32) -> ScopeLimits {
        self.cpu_max = Some(percent);
        self
    }

    /// The memory limit asked for.
    pub fn get_memory_max(&self) -> Option<u64> {
        self.memory_max
    }

    /// The task limit asked for.
    pub fn get_tasks_max(&self) -> Option<u64> {
        self.tasks_max
    }

    /// The CPU limit asked for, in percent of one CPU.
    pub fn get_cpu_max(&self) -> Option<u32> {
        self.cpu_max
    }

    /// Whether any limit is asked for.
    pub fn is_empty(&self) -> bool {
        *self == ScopeLimits::default()
    }
}

/// How a member ended in a graceful [`Scope::stop`](crate::Scope::stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ending {
    /// It got the signal and was gone within the grace period.
    Signal,
    /// It was still alive when the grace period ended (or started after
    /// the signal) and was killed.
    Killed,
    /// It was listed, but gone before the signal reached it.
    AlreadyGone,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ending::Signal => "ended after the signal",
            Ending::Killed => "killed",
            Ending::AlreadyGone => "already gone",
        })
    }
}

/// One member in a [`StopReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoppedMember {
    /// Its PID (pinned while it was signalled: never a recycled one).
    pub pid: u32,
    /// Its start time, where the system gives one (Linux: clock ticks
    /// since boot): with the PID, what names this process and no other.
    pub start_time: Option<u64>,
    /// Its name (Linux `comm`, Windows image file name), if it could be
    /// read while it lived.
    pub name: Option<String>,
    /// How it ended.
    pub ending: Ending,
    /// Whether the soft step was sent to it: on Unix, every member the
    /// signal reached; on Windows, the members in a console group the
    /// scope started (see `prochandle::windows::ScopeCommandExt`) whose
    /// Ctrl-Break the console accepted. A member not reached was killed
    /// with no warning, or ended by itself.
    pub reached: bool,
}

/// What a graceful [`Scope::stop`](crate::Scope::stop) did, member by
/// member.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StopReport {
    /// Every member the stop found, in the order found.
    pub members: Vec<StoppedMember>,
    /// How long the stop took, kill included.
    pub elapsed: Duration,
    /// Whether the soft step reached any member; `false` where there is
    /// none (Windows, outside a console group the scope started, or with
    /// no console), and then every member still alive was killed at once.
    pub soft_step: bool,
}

impl StopReport {
    /// How many members ended in `ending`.
    pub fn count(&self, ending: Ending) -> usize {
        self.members.iter().filter(|m| m.ending == ending).count()
    }
}
