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
    /// guarded PID and [`with_handle`](crate::Process::with_handle) returns
    /// `NoHandle`.
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
        })
    }
}

impl fmt::Display for Feature {
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

    /// Whether `PROCHANDLE_FORCE_PID=1` turned handles off for this process.
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

/// The environment variable that forces the guarded-PID mode.
///
/// When `PROCHANDLE_FORCE_PID=1` is set at the time of the first probe, no
/// `Process` of this process uses a handle: operations go through the PID
/// guard, and `with_handle` returns `NoHandle`. Meant for debugging and for
/// testing the fallback on a system that has handles. Ignored on Windows,
/// which has no PID-only mode.
pub const FORCE_PID_ENV: &str = "PROCHANDLE_FORCE_PID";

pub(crate) fn force_pid_requested() -> bool {
    std::env::var_os(FORCE_PID_ENV).is_some_and(|v| v == "1")
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
