//! [`Namespaces`]: the namespace kinds of `setns(2)`, as a flag set.

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};

use crate::sys::linux::namespaces as imp;

/// A set of namespace kinds, as the `CLONE_NEW*` flags of `setns(2)`.
///
/// ```
/// use prochandle::linux::Namespaces;
///
/// let ns = Namespaces::NET | Namespaces::UTS;
/// assert!(ns.contains(Namespaces::UTS));
/// assert!(!ns.contains(Namespaces::MOUNT));
/// assert_eq!(format!("{ns:?}"), "Namespaces(uts | net)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Namespaces(libc::c_int);

impl Namespaces {
    /// Mount namespace (`CLONE_NEWNS`, `/proc/<pid>/ns/mnt`).
    pub const MOUNT: Namespaces = Namespaces(libc::CLONE_NEWNS);
    /// Network namespace (`CLONE_NEWNET`).
    pub const NET: Namespaces = Namespaces(libc::CLONE_NEWNET);
    /// Host and domain name (`CLONE_NEWUTS`).
    pub const UTS: Namespaces = Namespaces(libc::CLONE_NEWUTS);
    /// System V IPC and POSIX message queues (`CLONE_NEWIPC`).
    pub const IPC: Namespaces = Namespaces(libc::CLONE_NEWIPC);
    /// PID namespace (`CLONE_NEWPID`). Joining it places the *children* of
    /// the joining process in it, not the process itself (see
    /// [`CommandExt::join_namespaces`](super::CommandExt::join_namespaces)).
    pub const PID: Namespaces = Namespaces(libc::CLONE_NEWPID);
    /// User namespace (`CLONE_NEWUSER`).
    pub const USER: Namespaces = Namespaces(libc::CLONE_NEWUSER);
    /// Cgroup namespace (`CLONE_NEWCGROUP`).
    pub const CGROUP: Namespaces = Namespaces(libc::CLONE_NEWCGROUP);
    /// Time namespace (`CLONE_NEWTIME`, Linux 5.6).
    pub const TIME: Namespaces = Namespaces(libc::CLONE_NEWTIME);

    /// No namespace.
    pub const fn empty() -> Namespaces {
        Namespaces(0)
    }

    /// Every namespace kind.
    pub const fn all() -> Namespaces {
        Namespaces(imp::ALL_FLAGS)
    }

    /// The `CLONE_NEW*` bits.
    pub const fn bits(self) -> libc::c_int {
        self.0
    }

    /// Whether every kind in `other` is in `self`.
    pub const fn contains(self, other: Namespaces) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for Namespaces {
    type Output = Namespaces;
    fn bitor(self, rhs: Namespaces) -> Namespaces {
        Namespaces(self.0 | rhs.0)
    }
}

impl BitOrAssign for Namespaces {
    fn bitor_assign(&mut self, rhs: Namespaces) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Namespaces {
    type Output = Namespaces;
    fn bitand(self, rhs: Namespaces) -> Namespaces {
        Namespaces(self.0 & rhs.0)
    }
}

impl fmt::Debug for Namespaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = imp::KINDS
            .iter()
            .filter(|k| self.0 & k.flag != 0)
            .map(|k| k.name)
            .collect();
        write!(f, "Namespaces({})", names.join(" | "))
    }
}
