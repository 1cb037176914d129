//! Names of scope cgroups that say whose they are, and the removal of
//! those whose owner is gone.
//!
//! A scope's cgroup is named `prochandle-<pid>-<start>-<pidns>-<n>`: the
//! owner's PID, its start time (clock ticks since boot, from
//! `/proc/<pid>/stat`), the inode of its PID namespace and a serial. PID
//! and start time together name one process for the whole boot: a
//! recycled PID has a later start time. The namespace says in which PID
//! space the number means anything.
//!
//! A cgroup outlives its owner only when nobody could remove it: an owner
//! killed before its drop with the guardian turned off, an older version
//! of this crate, a power cut within a boot's cgroup file system (never:
//! cgroups do not survive a reboot). The next scope created beside it
//! removes it, provided that its owner, in our PID namespace, is gone and
//! that it is empty (the kernel refuses `rmdir` of a cgroup with members
//! or children). A cgroup whose owner lives, or may live (another
//! namespace's, or an old-style name whose PID is in use), is never
//! touched.

use std::path::Path;
use std::sync::OnceLock;

use super::procfs;

const PREFIX: &str = "prochandle-";

/// Who this process is, in the form its cgroups are named with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Owner {
    pid: u32,
    start: u64,
    pidns: u64,
}

/// This process, read once (none of the three changes while it lives).
/// A child forked without `exec` inherits the cache but is another owner:
/// it reads its own, so that its names neither collide with its parent's
/// nor let a sweep take its parent's death for its own.
fn me() -> Option<Owner> {
    static ME: OnceLock<Option<Owner>> = OnceLock::new();
    let pid = std::process::id();
    let cached = *ME.get_or_init(|| read_owner(pid));
    match cached {
        Some(owner) if owner.pid != pid => read_owner(pid),
        cached => cached,
    }
}

fn read_owner(pid: u32) -> Option<Owner> {
    // `pid` is ours (see `me`): the start time the probe read, if it has.
    let start = procfs::own_start_time().ok()?;
    Some(Owner {
        pid,
        start,
        pidns: pid_namespace()?,
    })
}

/// The inode of our PID namespace (`pid:[4026531836]`).
fn pid_namespace() -> Option<u64> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let text = link.to_str()?;
    text.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
}

/// The name of this process's `serial`-th scope cgroup.
pub(crate) fn scope_name(serial: u32) -> String {
    match me() {
        Some(o) => format!("{PREFIX}{}-{}-{}-{serial}", o.pid, o.start, o.pidns),
        // Without /proc we cannot say more than the PID.
        None => format!("{PREFIX}{}-{serial}", std::process::id()),
    }
}

/// What a name says about its owner.
#[derive(Debug, PartialEq, Eq)]
enum Named {
    /// `prochandle-<pid>-<start>-<pidns>-<n>`.
    Full(Owner),
    /// `prochandle-<pid>-<n>`: an older version, or no `/proc`.
    PidOnly(u32),
}

fn parse(name: &str) -> Option<Named> {
    let fields: Vec<u64> = name
        .strip_prefix(PREFIX)?
        .split('-')
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    match fields[..] {
        [pid, start, pidns, _] => Some(Named::Full(Owner {
            pid: u32::try_from(pid).ok()?,
            start,
            pidns,
        })),
        [pid, _] => Some(Named::PidOnly(u32::try_from(pid).ok()?)),
        _ => None,
    }
}

/// Whether the owner a name records is certainly gone: it was in our PID
/// namespace and no live process there has its PID and start time.
fn owner_is_gone(named: &Named, here: Option<Owner>) -> bool {
    let alive = |pid: u32| {
        procfs::read_stat(pid as i32)
            .ok()
            .filter(|s| s.state != b'Z')
    };
    match named {
        // Our own names (the scope just made among them) are alive
        // without a look at our `stat`.
        Named::Full(owner) => {
            here.is_some_and(|h| h.pidns == owner.pidns && h != *owner)
                && alive(owner.pid).is_none_or(|s| s.start_time != owner.start)
        }
        // An old name carries no start time: only a free PID proves the
        // owner gone (within our namespace, which old names do not say).
        Named::PidOnly(pid) => alive(*pid).is_none(),
    }
}

/// Removes the empty scope cgroups in `parent` whose owners are gone.
/// Errors are ignored: a cgroup that is not empty, or that another
/// process removes first, stays or goes as the kernel decides.
pub(crate) fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let here = me();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(named) = name.to_str().and_then(parse) else {
            continue;
        };
        if owner_is_gone(&named, here) {
            // rmdir, never a recursive removal: the kernel refuses a
            // cgroup with members or children (EBUSY).
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_parsed_back() {
        let me = me().expect("/proc");
        let name = scope_name(7);
        assert_eq!(parse(&name), Some(Named::Full(me)));
        assert_eq!(parse("prochandle-12-3"), Some(Named::PidOnly(12)));
        assert_eq!(parse("prochandle-x-3"), None);
        assert_eq!(parse("prochandle-1-2-3"), None);
        assert_eq!(parse("other-1-2"), None);
    }

    #[test]
    fn a_live_owner_is_recognised_and_a_recycled_pid_is_not() {
        let me = me().expect("/proc");
        assert!(!owner_is_gone(&Named::Full(me), Some(me)));
        // Seen by another process of our namespace, we are alive too
        // (found by our `stat`, not taken as one's own).
        let neighbour = Owner {
            pid: me.pid.wrapping_add(1),
            ..me
        };
        assert!(!owner_is_gone(&Named::Full(me), Some(neighbour)));
        assert!(!owner_is_gone(&Named::PidOnly(me.pid), Some(me)));
        // Our PID with another start time: a process that had our PID
        // before us.
        let earlier = Owner {
            start: me.start.wrapping_sub(1),
            ..me
        };
        assert!(owner_is_gone(&Named::Full(earlier), Some(me)));
        // Another namespace's owner is never judged.
        let elsewhere = Owner {
            pidns: me.pidns ^ 1,
            ..earlier
        };
        assert!(!owner_is_gone(&Named::Full(elsewhere), Some(me)));
    }
}
