//! What the portable `Scope` asks of each OS's container, in plain data:
//! the request (options) and the report of what was chosen and why.
//! The public layer maps these onto its own types.

use std::path::PathBuf;

/// A containment mechanism, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum Kind {
    /// A cgroup v2 leaf, killed through `cgroup.kill`.
    Cgroup,
    /// A cgroup v2 leaf, killed by freezing, signalling every member, thawing.
    CgroupFreeze,
    /// `PR_SET_CHILD_SUBREAPER` plus sweeps.
    Subreaper,
    /// A Windows job object.
    JobObject,
    /// A process group.
    ProcessGroup,
}

/// The caller's options.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) struct Request {
    /// Use exactly this mechanism, or fail.
    pub force: Option<Kind>,
    /// The caller allows `PR_SET_CHILD_SUBREAPER` on this process.
    pub allow_subreaper: bool,
    /// Start a guardian that kills the tree when the owner dies.
    pub guardian: bool,
    /// The signal the first children get when the spawning thread dies.
    pub death_signal: Option<i32>,
    /// Kill the tree when the container is dropped.
    pub kill_on_drop: bool,
}

/// What was chosen, and why the better mechanisms were not.
#[derive(Debug, Clone)]
pub(crate) struct Chosen {
    pub kind: Kind,
    /// The cgroup directory, for the cgroup kinds.
    pub cgroup: Option<PathBuf>,
    /// One line per mechanism passed over, saying why.
    pub passed_over: Vec<(Kind, String)>,
}
