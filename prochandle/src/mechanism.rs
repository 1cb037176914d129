//! What a [`Scope`](crate::Scope) got: the mechanism, and why each better
//! one was passed over. Plain data, shared by the portable layer and the
//! OS layer (`sys`), which reports in these types directly.

use std::fmt;
use std::path::{Path, PathBuf};

/// A containment mechanism, without its details: to ask for one
/// ([`ScopeOptions::mechanism`](crate::ScopeOptions::mechanism)) and to
/// name the ones passed over.
///
/// ```
/// use prochandle::MechanismKind;
/// assert!(MechanismKind::Cgroup.holds_setsid());
/// assert!(!MechanismKind::ProcessGroup.holds_setsid());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MechanismKind {
    /// Linux: a cgroup v2 leaf, killed in one step by `cgroup.kill` (5.14+).
    Cgroup,
    /// Linux: a cgroup v2 leaf, killed by freezing it (`cgroup.freeze`,
    /// 5.2+), signalling every member, and thawing it.
    CgroupFreeze,
    /// Linux: this process as the child subreaper, killing by sweeps.
    Subreaper,
    /// Linux: a keeper per member spawned with
    /// [`Scope::spawn`](crate::Scope::spawn) or
    /// [`Scope::spawn_command`](crate::Scope::spawn_command), the member's
    /// parent and its tree's subreaper, which kills the tree when this
    /// process dies (`SIGKILL` included). A member spawned with
    /// [`Scope::spawn_child`](crate::Scope::spawn_child), which must be our
    /// own child, is held as by [`ProcessGroup`](MechanismKind::ProcessGroup).
    Keeper,
    /// Windows: a job object.
    JobObject,
    /// Any Unix: a process group (escapable with `setsid`).
    ProcessGroup,
}

impl MechanismKind {
    /// Whether a member that calls `setsid` (or double-forks) stays
    /// contained. Only the process group lets it go (and the keeper scope
    /// for a member of `spawn_child`, which it holds by its process group).
    pub fn holds_setsid(self) -> bool {
        self != MechanismKind::ProcessGroup
    }
}

impl fmt::Display for MechanismKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MechanismKind::Cgroup => "cgroup (cgroup.kill)",
            MechanismKind::CgroupFreeze => "cgroup (freeze, signal, thaw)",
            MechanismKind::Subreaper => "child subreaper",
            MechanismKind::Keeper => "keeper per spawn",
            MechanismKind::JobObject => "job object",
            MechanismKind::ProcessGroup => "process group",
        })
    }
}

/// The mechanism a [`Scope`](crate::Scope) contains its tree with.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// let scope = prochandle::Scope::new()?;
/// println!("contained by {} ({})", scope.mechanism(), scope.mechanism().kind());
/// for passed in scope.passed_over() {
///     println!("not {}: {}", passed.kind, passed.reason);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mechanism {
    /// A cgroup v2 leaf created for the scope, at `path`; `kill_file`
    /// says whether it is killed through `cgroup.kill` (else by freezing).
    Cgroup {
        /// The cgroup's directory.
        path: PathBuf,
        /// `true`: `cgroup.kill`; `false`: freeze, signal, thaw.
        kill_file: bool,
    },
    /// This process is the child subreaper; the tree is found by sweeps.
    Subreaper,
    /// A keeper process per member spawned with `spawn_command`.
    Keeper,
    /// A Windows job object.
    JobObject,
    /// A process group.
    ProcessGroup,
}

impl Mechanism {
    /// The kind, without details.
    pub fn kind(&self) -> MechanismKind {
        match self {
            Mechanism::Cgroup {
                kill_file: true, ..
            } => MechanismKind::Cgroup,
            Mechanism::Cgroup { .. } => MechanismKind::CgroupFreeze,
            Mechanism::Subreaper => MechanismKind::Subreaper,
            Mechanism::Keeper => MechanismKind::Keeper,
            Mechanism::JobObject => MechanismKind::JobObject,
            Mechanism::ProcessGroup => MechanismKind::ProcessGroup,
        }
    }

    /// The cgroup directory, for the cgroup mechanisms.
    pub fn cgroup_path(&self) -> Option<&Path> {
        match self {
            Mechanism::Cgroup { path, .. } => Some(path),
            _ => None,
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mechanism::Cgroup { path, .. } => write!(f, "cgroup {}", path.display()),
            other => other.kind().fmt(f),
        }
    }
}

/// A better mechanism that a scope did not get, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PassedOver {
    /// The mechanism.
    pub kind: MechanismKind,
    /// Why it was not used ("cannot create a cgroup under ...: permission
    /// denied", "not allowed: ...").
    pub reason: String,
}

impl PassedOver {
    pub(crate) fn new(kind: MechanismKind, reason: impl Into<String>) -> PassedOver {
        PassedOver {
            kind,
            reason: reason.into(),
        }
    }
}
