//! The probe's report: which features work here, and why not. Plain data,
//! filled in by each OS backend's probe.

use std::fmt;

/// One thing the probe checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Feature {
    /// Processes are held by a handle (Linux: `pidfd_open`,
    /// `pidfd_send_signal` and `waitid(P_PIDFD)` all work, Go's
    /// `checkPidfd`; Windows: always). Without it a `Process` uses a
    /// `/proc/<pid>` directory or a guarded PID ([`PinMode`]) and
    /// [`with_handle`](crate::Process::with_handle) returns `NoHandle`.
    ProcessHandle,
    /// `pidfd_open(2)`, Linux 5.3.
    PidfdOpen,
    /// `pidfd_send_signal(2)`, Linux 5.1.
    PidfdSendSignal,
    /// `waitid(P_PIDFD)`, Linux 5.4.
    WaitidPidfd,
    /// `pidfd_open(PIDFD_NONBLOCK)`, Linux 5.10.
    PidfdNonblock,
    /// `pidfd_getfd(2)`, Linux 5.6.
    PidfdGetfd,
    /// `setns(2)` with a pidfd, Linux 5.8.
    SetnsPidfd,
    /// pidfs: a pidfd's inode number names one process for the whole boot,
    /// Linux 6.9.
    PidfsIds,
    /// `ioctl(PIDFD_GET_INFO)`, Linux 6.13.
    PidfdGetInfo,
    /// `PIDFD_INFO_EXIT`: the exit status of any process, not only our
    /// children, Linux 6.15.
    PidfdInfoExit,
    /// `PIDFD_INFO_COREDUMP`: whether a process that died by a signal
    /// dumped core, was skipped, and as whom, Linux 6.16.
    PidfdInfoCoredump,
    /// `PIDFD_INFO_SUPPORTED_MASK`: the kernel says which `PIDFD_GET_INFO`
    /// fields it has, instead of the crate inferring them from the release.
    PidfdInfoSupportedMask,
    /// A `/proc/<pid>` directory descriptor pins a process where pidfds
    /// cannot be had: once the process is reaped, reading through it fails
    /// even if the PID has been handed to another process. The middle
    /// [`PinMode`]: exact identity checks, no start-time guess.
    ProcDirHandle,
    /// `pidfd_send_signal(2)` accepts a `/proc/<pid>` directory descriptor
    /// (Linux 5.1): signals in the [`PinMode::ProcDir`] mode reach exactly
    /// the pinned process or nobody.
    ProcDirSignal,
}

impl Feature {
    /// Every feature, in report order.
    pub const ALL: &'static [Feature] = &[
        Feature::ProcessHandle,
        Feature::PidfdOpen,
        Feature::PidfdSendSignal,
        Feature::WaitidPidfd,
        Feature::PidfdNonblock,
        Feature::PidfdGetfd,
        Feature::SetnsPidfd,
        Feature::PidfsIds,
        Feature::PidfdGetInfo,
        Feature::PidfdInfoExit,
        Feature::PidfdInfoCoredump,
        Feature::PidfdInfoSupportedMask,
        Feature::ProcDirHandle,
        Feature::ProcDirSignal,
    ];

    /// A stable machine-readable name (`"pidfd_getfd"`), used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Feature::ProcessHandle => "process_handle",
            Feature::PidfdOpen => "pidfd_open",
            Feature::PidfdSendSignal => "pidfd_send_signal",
            Feature::WaitidPidfd => "waitid_pidfd",
            Feature::PidfdNonblock => "pidfd_nonblock",
            Feature::PidfdGetfd => "pidfd_getfd",
            Feature::SetnsPidfd => "setns_pidfd",
            Feature::PidfsIds => "pidfs_ids",
            Feature::PidfdGetInfo => "pidfd_get_info",
            Feature::PidfdInfoExit => "pidfd_info_exit",
            Feature::PidfdInfoCoredump => "pidfd_info_coredump",
            Feature::PidfdInfoSupportedMask => "pidfd_info_supported_mask",
            Feature::ProcDirHandle => "proc_dir_handle",
            Feature::ProcDirSignal => "proc_dir_signal",
        }
    }

    /// The first Linux release that has it (`None` for [`ProcessHandle`](Feature::ProcessHandle),
    /// which is a summary).
    pub fn min_linux(self) -> Option<&'static str> {
        Some(match self {
            Feature::ProcessHandle => return None,
            Feature::PidfdSendSignal => "5.1",
            Feature::PidfdOpen => "5.3",
            Feature::WaitidPidfd => "5.4",
            Feature::PidfdGetfd => "5.6",
            Feature::SetnsPidfd => "5.8",
            Feature::PidfdNonblock => "5.10",
            Feature::PidfsIds => "6.9",
            Feature::PidfdGetInfo => "6.13",
            Feature::PidfdInfoExit => "6.15",
            Feature::PidfdInfoCoredump => "6.16",
            Feature::PidfdInfoSupportedMask => "6.19",
            Feature::ProcDirHandle => "2.6",
            Feature::ProcDirSignal => "5.1",
        })
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// How a `Process` holds on to its process in this run: the best of three
/// tiers the system allows (see [`Capabilities::pin_mode`]).
///
/// ```
/// use prochandle::{capabilities, PinMode};
///
/// match capabilities().pin_mode() {
///     PinMode::Handle => println!("pidfd or HANDLE: exact"),
///     PinMode::ProcDir => println!("/proc/<pid> directory: exact identity"),
///     PinMode::GuardedPid => println!("PID and start time: best effort"),
///     _ => println!("a newer mode"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PinMode {
    /// A process handle (a Linux pidfd, a Windows HANDLE): every operation
    /// reaches exactly that process or nobody.
    Handle,
    /// A `/proc/<pid>` directory descriptor (Linux without usable pidfds):
    /// identity checks are exact (the descriptor stops answering once the
    /// process is reaped, whoever gets the PID next). Signals go through
    /// `pidfd_send_signal` on it where the kernel has that call
    /// ([`Feature::ProcDirSignal`]); otherwise after the exact check, with
    /// `kill(2)`, leaving microseconds between the two.
    ProcDir,
    /// The PID and the start time read when attaching (macOS, FreeBSD, a
    /// Linux without `/proc`): two processes started in the same clock tick
    /// under the same PID look alike.
    GuardedPid,
}

impl PinMode {
    /// A stable machine-readable name: `"handle"`, `"proc_dir"` or
    /// `"guarded_pid"`.
    pub fn name(self) -> &'static str {
        match self {
            PinMode::Handle => "handle",
            PinMode::ProcDir => "proc_dir",
            PinMode::GuardedPid => "guarded_pid",
        }
    }
}

impl fmt::Display for PinMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Whether a [`Feature`] works here, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// It works.
    Available,
    /// It does not.
    Unavailable {
        /// The errno the probe got, if a syscall failed.
        errno: Option<i32>,
        /// Why, in words.
        reason: String,
    },
}

impl Availability {
    /// Whether it works.
    pub fn is_available(&self) -> bool {
        matches!(self, Availability::Available)
    }

    pub(crate) fn unavailable(errno: Option<i32>, reason: impl Into<String>) -> Self {
        Availability::Unavailable {
            errno,
            reason: reason.into(),
        }
    }
}

/// The probe's report: every [`Feature`] with its [`Availability`].
///
/// ```
/// use prochandle::{capabilities, Feature};
///
/// let caps = capabilities();
/// for (feature, availability) in caps.iter() {
///     println!("{feature}: {availability:?}");
/// }
/// // A handle is in use exactly when the summary feature is available.
/// assert_eq!(caps.handles(), caps.is_available(Feature::ProcessHandle));
/// ```
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// Indexed by `Feature as usize`, which is the feature's place in
    /// [`Feature::ALL`].
    entries: Vec<Availability>,
    platform: String,
    forced_pid: bool,
}

impl Capabilities {
    /// Files each probed feature in its place; a feature the probe did not
    /// report is unavailable, said as such rather than assumed.
    pub(crate) fn new(
        probed: Vec<(Feature, Availability)>,
        platform: String,
        forced_pid: bool,
    ) -> Capabilities {
        let mut entries: Vec<Availability> = Feature::ALL
            .iter()
            .map(|_| Availability::unavailable(None, "not probed"))
            .collect();
        for (feature, availability) in probed {
            entries[feature as usize] = availability;
        }
        Capabilities {
            entries,
            platform,
            forced_pid,
        }
    }

    /// The availability of one feature.
    pub fn get(&self, feature: Feature) -> &Availability {
        &self.entries[feature as usize]
    }

    /// Whether one feature works.
    pub fn is_available(&self, feature: Feature) -> bool {
        self.get(feature).is_available()
    }

    /// Whether `Process`es are held by handles (pidfd or HANDLE) rather than
    /// guarded PIDs.
    pub fn handles(&self) -> bool {
        self.is_available(Feature::ProcessHandle)
    }

    /// The tier `Process`es use in this run: a handle where
    /// [`Feature::ProcessHandle`] is available, else a `/proc/<pid>`
    /// directory where [`Feature::ProcDirHandle`] is, else a guarded PID.
    ///
    /// ```
    /// use prochandle::{capabilities, PinMode};
    ///
    /// let caps = capabilities();
    /// assert_eq!(caps.pin_mode() == PinMode::Handle, caps.handles());
    /// ```
    pub fn pin_mode(&self) -> PinMode {
        if self.handles() {
            PinMode::Handle
        } else if self.is_available(Feature::ProcDirHandle) {
            PinMode::ProcDir
        } else {
            PinMode::GuardedPid
        }
    }

    /// Whether [`FORCE_PID_ENV`] turned handles off for this process (with
    /// either value).
    pub fn forced_pid_mode(&self) -> bool {
        self.forced_pid
    }

    /// The OS and kernel release, e.g. `"Linux 6.18.2"`.
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// Every feature with its availability, in [`Feature::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Feature, &Availability)> + '_ {
        Feature::ALL.iter().map(|&f| (f, self.get(f)))
    }
}

/// The environment variable that turns process handles off, naming the tier
/// to use instead.
///
/// Read once, at the time of the first probe:
///
/// - `PROCHANDLE_FORCE_PID=1`: no pidfds; the best tier without them, a
///   `/proc/<pid>` directory ([`PinMode::ProcDir`]) where `/proc` is
///   mounted, else the guarded PID.
/// - `PROCHANDLE_FORCE_PID=bare` ([`FORCE_PID_BARE`]): the guarded PID
///   with its start time ([`PinMode::GuardedPid`]), as on macOS and FreeBSD.
///
/// Any other value is ignored. In both forced modes `with_handle` returns
/// `NoHandle`. Meant for debugging and for testing the fallbacks on a system
/// that has handles. Ignored on Windows, which has no PID-only mode.
///
/// ```
/// let caps = prochandle::capabilities();
/// if std::env::var(prochandle::FORCE_PID_ENV).as_deref() == Ok("bare") {
///     assert_eq!(caps.pin_mode(), prochandle::PinMode::GuardedPid);
/// }
/// ```
pub const FORCE_PID_ENV: &str = "PROCHANDLE_FORCE_PID";

/// The value of [`FORCE_PID_ENV`] that forces the bare guarded-PID tier.
pub const FORCE_PID_BARE: &str = "bare";

/// Which tier [`FORCE_PID_ENV`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ForcedPid {
    /// `1`: the best tier without handles.
    BestWithoutHandles,
    /// `bare`: the guarded PID.
    Bare,
}

impl ForcedPid {
    /// How the switch was set, for the probe's reasons.
    #[cfg_attr(windows, allow(dead_code))]
    pub(crate) fn setting(self) -> &'static str {
        match self {
            ForcedPid::BestWithoutHandles => "PROCHANDLE_FORCE_PID=1",
            ForcedPid::Bare => "PROCHANDLE_FORCE_PID=bare",
        }
    }
}

/// What [`FORCE_PID_ENV`] asks for, if anything.
pub(crate) fn forced_pid() -> Option<ForcedPid> {
    let value = std::env::var_os(FORCE_PID_ENV)?;
    if value == "1" {
        Some(ForcedPid::BestWithoutHandles)
    } else if value == FORCE_PID_BARE {
        Some(ForcedPid::Bare)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_has_its_own_place() {
        for (index, &feature) in Feature::ALL.iter().enumerate() {
            assert_eq!(
                feature as usize, index,
                "{feature} is out of order in Feature::ALL"
            );
        }
    }

    #[test]
    fn an_unreported_feature_is_unavailable_not_assumed() {
        let caps = Capabilities::new(
            vec![(Feature::PidfdOpen, Availability::Available)],
            "test".into(),
            false,
        );
        assert!(caps.is_available(Feature::PidfdOpen));
        assert!(!caps.is_available(Feature::PidfdGetfd));
        assert_eq!(caps.iter().count(), Feature::ALL.len());
    }
}
