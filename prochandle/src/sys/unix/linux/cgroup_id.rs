//! Our own cgroup's directory found without `/proc/self/mountinfo`.
//!
//! Generating mountinfo costs the kernel some 60 µs per read, and a
//! one-shot owner (the CLI's `run`, once per command) reads it every time.
//! So the usual mount points are tried first: `/sys/fs/cgroup` (v2 only)
//! and `/sys/fs/cgroup/unified` (hybrid). A candidate is taken only when it
//! is provably our cgroup: a cgroup2 file system, whose directory's file
//! handle (for cgroup2 the 64-bit cgroup ID, which kernfs also uses as the
//! inode number) is the cgroup ID the kernel gives for this process
//! (`PIDFD_GET_INFO`, Linux 6.13). A mount of a subtree, a path from
//! another cgroup namespace or an older kernel fails that test and leaves
//! the answer to mountinfo.

use std::ffi::CString;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::syscalls;
use crate::capabilities::Feature;

/// Where systemd (and most distributions) mount the v2 hierarchy.
const USUAL_MOUNTS: [&str; 2] = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"];

/// Our cgroup's ID, for finding its directory under a usual mount point.
pub(super) struct UsualMounts {
    own: u64,
}

impl UsualMounts {
    /// `None` where the kernel does not tell our cgroup's ID.
    pub(super) fn ours() -> Option<UsualMounts> {
        // The probe has tried the ioctl under its SIGSYS guard: a seccomp
        // filter that traps it would otherwise kill us here.
        if !super::capabilities().is_available(Feature::PidfdGetInfo) {
            return None;
        }
        own_cgroup_id().map(|own| UsualMounts { own })
    }

    /// A usual mount point whose root directory is our cgroup, if one is:
    /// our directory found without knowing our cgroup's path.
    pub(super) fn root_if_ours(&self) -> Option<PathBuf> {
        self.find("/")
    }

    /// The directory of our cgroup (`path`, from `/proc/self/cgroup`)
    /// under a usual mount point, if one provably holds it.
    pub(super) fn find(&self, path: &str) -> Option<PathBuf> {
        let relative = path.trim_start_matches('/');
        USUAL_MOUNTS
            .iter()
            .map(|mount| Path::new(mount).join(relative))
            .find(|dir| super::cgroup::is_cgroup2(dir) && cgroup_id(dir) == Some(self.own))
    }
}

/// The ID of this process's v2 cgroup, as the kernel reports it.
fn own_cgroup_id() -> Option<u64> {
    let me = super::pidfd_open(std::process::id() as i32).ok()?;
    let wanted = libc::PIDFD_INFO_CGROUPID as u64;
    let info = syscalls::pidfd_get_info(me.as_fd(), wanted).ok()?;
    (info.mask & wanted != 0).then_some(info.cgroupid)
}

/// `struct file_handle` with room for a kernfs handle (8 bytes).
#[repr(C)]
struct Handle {
    bytes: u32,
    kind: i32,
    payload: [u8; 16],
}

/// The cgroup ID of the cgroup2 directory `dir`: its file handle's 8 bytes.
fn cgroup_id(dir: &Path) -> Option<u64> {
    let path = CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut handle = Handle {
        bytes: 16,
        kind: 0,
        payload: [0; 16],
    };
    let mut mount_id: libc::c_int = 0;
    // SAFETY: `handle` is a `file_handle` header followed by the 16 bytes
    // its `bytes` field announces; the path is NUL-terminated and
    // `mount_id` is a valid int.
    let ret = unsafe {
        libc::name_to_handle_at(
            libc::AT_FDCWD,
            path.as_ptr(),
            (&mut handle as *mut Handle).cast(),
            &mut mount_id,
            0,
        )
    };
    let id: [u8; 8] = handle.payload[..8].try_into().ok()?;
    (ret == 0 && handle.bytes == 8).then(|| u64::from_ne_bytes(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether our cgroup must be found under a usual mount point: the
    /// kernel has `PIDFD_GET_INFO` (6.13) and one of them is a cgroup2
    /// file system. Under `CI=true` (the project's CI machine, which has
    /// both) a test that cannot find it there fails instead of passing on
    /// nothing.
    fn must_be_found() -> bool {
        std::env::var("CI").is_ok_and(|v| v == "true")
            && super::super::capabilities().is_available(Feature::PidfdGetInfo)
            && USUAL_MOUNTS
                .iter()
                .any(|m| super::super::cgroup::is_cgroup2(Path::new(m)))
    }

    #[test]
    fn our_cgroup_is_found_under_a_usual_mount_only_when_it_is_ours() {
        let cgroup = std::fs::read_to_string("/proc/self/cgroup").expect("/proc");
        let Some(path) = cgroup.lines().find_map(|l| l.strip_prefix("0::")) else {
            assert!(!must_be_found(), "no v2 line in /proc/self/cgroup");
            return; // no v2 hierarchy: nothing to find
        };
        let usual = UsualMounts::ours();
        let find = |path: &str| usual.as_ref().and_then(|u| u.find(path));
        // A path that names no cgroup finds nothing.
        assert_eq!(find("/no/such/cgroup/here"), None);
        let Some(found) = find(path) else {
            assert!(
                !must_be_found(),
                "our cgroup {path:?} is not found under {USUAL_MOUNTS:?}"
            );
            return; // an unusual mount, or a kernel before 6.13
        };
        // The directory mountinfo leads to, with our ID; our parent's
        // directory (where there is one) has another.
        let by_mountinfo = super::super::cgroup::via_mountinfo(path).expect("mountinfo");
        assert_eq!(found, by_mountinfo);
        assert_eq!(cgroup_id(&found), own_cgroup_id());
        // Where our path is "/", the mount point itself is ours and is
        // found without the path; a mount point taken for its root is
        // always the directory mountinfo leads to, and so is what scopes
        // are made under.
        let root = usual.as_ref().and_then(UsualMounts::root_if_ours);
        assert!(
            path != "/" || root.is_some(),
            "the root cgroup at {found:?}"
        );
        if let Some(root) = root {
            assert_eq!(root, by_mountinfo);
        }
        let own = super::super::cgroup::own_cgroup().expect("our cgroup");
        assert_eq!(own, by_mountinfo);
        // Any other cgroup (our parent, a child) has another ID.
        let parent = (path != "/").then(|| found.parent().expect("a parent").to_path_buf());
        // (A child is made where we may: as root, or in a delegated tree.)
        let child = found.join(format!("prochandle-id-test-{}", std::process::id()));
        let made = std::fs::create_dir(&child).is_ok();
        for other in parent.iter().chain(made.then_some(&child)) {
            assert!(cgroup_id(other).is_some(), "{other:?} has a handle");
            assert_ne!(cgroup_id(other), own_cgroup_id(), "{other:?}");
        }
        if made {
            std::fs::remove_dir(&child).expect("remove the test cgroup");
        }
    }
}
