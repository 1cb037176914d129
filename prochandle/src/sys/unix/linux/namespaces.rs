//! The namespaces of a process: open one as a descriptor, or prepare a
//! child to join several of them before it execs.
//!
//! Joining happens in the child between `fork` and `exec`, never in the
//! caller: `setns(2)` refuses to move a multi-threaded process into a
//! mount namespace (its threads share one `fs_struct`) or a user namespace,
//! and would change the namespaces of every later operation of the caller.
//! A freshly forked child is single-threaded and its own.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

use rustix::thread::{
    move_into_link_name_space, move_into_thread_name_spaces, LinkNameSpaceType, ThreadNameSpaceType,
};

use super::super::errno::{self, Call};
use super::capabilities;
use super::recheck::still_owns_pid;
use super::Process;
use crate::capabilities::Feature;
use crate::error::{Error, ErrorKind, Result};

/// One kind of namespace: its `CLONE_NEW*` flag, its name under
/// `/proc/<pid>/ns/`, its `PIDFD_GET_*_NAMESPACE` ioctl request (whose
/// encoding differs between architectures: `_IO` sets a direction bit on
/// mips, powerpc and sparc), and its type for `setns` on a namespace file.
pub(crate) struct NsKind {
    pub flag: libc::c_int,
    pub name: &'static str,
    ioctl: libc::Ioctl,
    link: LinkNameSpaceType,
}

/// In join order: the user namespace first, because the capabilities it
/// grants are what allow joining the others; the mount namespace last, as
/// `nsenter(1)` does.
pub(crate) const KINDS: [NsKind; 8] = [
    NsKind {
        flag: libc::CLONE_NEWUSER,
        name: "user",
        ioctl: libc::PIDFD_GET_USER_NAMESPACE,
        link: LinkNameSpaceType::User,
    },
    NsKind {
        flag: libc::CLONE_NEWCGROUP,
        name: "cgroup",
        ioctl: libc::PIDFD_GET_CGROUP_NAMESPACE,
        link: LinkNameSpaceType::ControlGroup,
    },
    NsKind {
        flag: libc::CLONE_NEWIPC,
        name: "ipc",
        ioctl: libc::PIDFD_GET_IPC_NAMESPACE,
        link: LinkNameSpaceType::InterProcessCommunication,
    },
    NsKind {
        flag: libc::CLONE_NEWUTS,
        name: "uts",
        ioctl: libc::PIDFD_GET_UTS_NAMESPACE,
        link: LinkNameSpaceType::HostNameAndNISDomainName,
    },
    NsKind {
        flag: libc::CLONE_NEWNET,
        name: "net",
        ioctl: libc::PIDFD_GET_NET_NAMESPACE,
        link: LinkNameSpaceType::Network,
    },
    NsKind {
        flag: libc::CLONE_NEWPID,
        name: "pid",
        ioctl: libc::PIDFD_GET_PID_NAMESPACE,
        link: LinkNameSpaceType::ProcessID,
    },
    NsKind {
        flag: libc::CLONE_NEWTIME,
        name: "time",
        ioctl: libc::PIDFD_GET_TIME_NAMESPACE,
        link: LinkNameSpaceType::Time,
    },
    NsKind {
        flag: libc::CLONE_NEWNS,
        name: "mnt",
        ioctl: libc::PIDFD_GET_MNT_NAMESPACE,
        link: LinkNameSpaceType::Mount,
    },
];

/// Every namespace flag this module knows.
pub(crate) const ALL_FLAGS: libc::c_int = libc::CLONE_NEWUSER
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWTIME
    | libc::CLONE_NEWNS;

fn kind_of(flag: libc::c_int) -> Option<&'static NsKind> {
    KINDS.iter().find(|k| k.flag == flag)
}

/// Opens the namespace `flag` (exactly one `CLONE_NEW*` bit) of `process`.
///
/// Through the pidfd with `PIDFD_GET_*_NAMESPACE` (Linux 6.11), else by
/// opening `/proc/<pid>/ns/<name>` and then checking that the PID still
/// belonged to `process` when the file was opened.
pub(crate) fn open_namespace(process: &Process, flag: libc::c_int) -> Result<OwnedFd> {
    const OP: &str = "open_namespace";
    let Some(kind) = kind_of(flag) else {
        return Err(Error::invalid_input(
            OP,
            "name exactly one namespace (Namespaces::NET, ::UTS, ...)",
        ));
    };
    if let Some(pidfd) = process.handle() {
        match ns_ioctl(pidfd, kind) {
            Ok(fd) => return Ok(fd),
            // Before 6.11 the pidfd knows no such ioctl: use /proc.
            Err(e) if e.raw_os_error() == Some(libc::ENOTTY) => {}
            Err(e) => return Err(ns_error(process, "ioctl(PIDFD_GET_NAMESPACE)", kind, e)),
        }
    }
    let file = open_proc_ns(process, kind)?;
    still_owns_pid(process, OP)?;
    Ok(file.into())
}

/// `ioctl(pidfd, PIDFD_GET_<KIND>_NAMESPACE)`: a new close-on-exec
/// descriptor of the namespace (the kernel's `open_namespace` sets
/// `O_CLOEXEC`).
fn ns_ioctl(pidfd: BorrowedFd<'_>, kind: &NsKind) -> io::Result<OwnedFd> {
    // SAFETY: a `_IO` ioctl takes no argument; the kernel reads and writes no
    // memory of ours and returns a new descriptor or -1.
    let fd = unsafe { libc::ioctl(pidfd.as_raw_fd(), kind.ioctl, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: on success the ioctl returns a descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open_proc_ns(process: &Process, kind: &NsKind) -> Result<File> {
    // std opens with O_CLOEXEC.
    File::open(format!("/proc/{}/ns/{}", process.pid(), kind.name))
        .map_err(|e| ns_error(process, "open /proc/<pid>/ns", kind, e))
}

fn ns_error(process: &Process, op: &'static str, kind: &NsKind, e: io::Error) -> Error {
    let err = errno::os_error(Call::Namespace(process.pid()), op, e);
    match err.kind() {
        ErrorKind::Unsupported => {
            err.with_detail(format!("this kernel has no {} namespaces", kind.name))
        }
        _ => err,
    }
}

/// What the child does before `exec`, prepared in the parent so that the
/// child only makes syscalls (no allocation, no locks: it runs after
/// `fork`).
#[derive(Debug)]
pub(crate) enum JoinPlan {
    /// Nothing to join.
    Nothing,
    /// `setns(pidfd, flags)` (Linux 5.8): every namespace at once, or none.
    Pidfd { pidfd: OwnedFd, flags: libc::c_int },
    /// One `setns(fd, type)` per namespace file, in [`KINDS`] order.
    Files(Vec<(OwnedFd, LinkNameSpaceType)>),
}

impl JoinPlan {
    /// Joins. Async-signal-safe: only `setns` calls over data prepared
    /// before `fork`.
    pub(crate) fn enter(&self) -> io::Result<()> {
        match self {
            JoinPlan::Nothing => Ok(()),
            JoinPlan::Pidfd { pidfd, flags } => {
                // The flags were checked against ALL_FLAGS: all bits are
                // CLONE_NEW* bits, none is a sign bit.
                let types = ThreadNameSpaceType::from_bits_retain(*flags as u32);
                Ok(move_into_thread_name_spaces(pidfd.as_fd(), types)?)
            }
            JoinPlan::Files(files) => {
                for (fd, link) in files {
                    move_into_link_name_space(fd.as_fd(), Some(*link))?;
                }
                Ok(())
            }
        }
    }
}

/// Prepares joining the namespaces `flags` of `process`.
fn prepare_join(process: &Process, mut flags: libc::c_int) -> Result<JoinPlan> {
    const OP: &str = "join_namespaces";
    if flags & !ALL_FLAGS != 0 {
        return Err(Error::invalid_input(OP, "unknown namespace flags"));
    }
    if flags == 0 {
        return Ok(JoinPlan::Nothing);
    }
    if let Some(pidfd) = process.handle() {
        // A zombie has no namespaces left to join.
        if super::poll_pidfd(pidfd, Some(Instant::now())).unwrap_or(false) {
            return Err(Error::new(ErrorKind::Done, OP)
                .with_detail(format!("process {} has exited", process.pid())));
        }
    } else {
        still_owns_pid(process, OP)?;
    }
    // The kernel refuses to "re-enter" one's own user namespace (EINVAL):
    // joining it is a no-op anyway, so drop it.
    if flags & libc::CLONE_NEWUSER != 0 && same_user_namespace(process)? {
        flags &= !libc::CLONE_NEWUSER;
        if flags == 0 {
            return Ok(JoinPlan::Nothing);
        }
    }
    if let Some(pidfd) = process.handle() {
        if capabilities().is_available(Feature::SetnsPidfd) {
            let pidfd = rustix::io::fcntl_dupfd_cloexec(pidfd, 0)
                .map_err(|e| Error::os("fcntl(F_DUPFD_CLOEXEC)", e.into()))?;
            return Ok(JoinPlan::Pidfd { pidfd, flags });
        }
    }
    let mut files = Vec::new();
    for kind in KINDS.iter().filter(|k| flags & k.flag != 0) {
        files.push((open_proc_ns(process, kind)?.into(), kind.link));
    }
    // The files were opened by PID: they are this process's only if it
    // still owned the PID afterwards.
    still_owns_pid(process, OP)?;
    Ok(JoinPlan::Files(files))
}

/// Has `command`'s child join the namespaces `flags` of `process`
/// between `fork` and `exec`, once `prepare_join` has opened everything.
pub(crate) fn join_in_child(
    command: &mut std::process::Command,
    process: &Process,
    flags: libc::c_int,
) -> Result<()> {
    use std::os::unix::process::CommandExt as _;
    let plan = prepare_join(process, flags)?;
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe work is allowed: `enter` makes `setns`
    // calls on descriptors opened beforehand and allocates nothing.
    unsafe {
        command.pre_exec(move || plan.enter());
    }
    Ok(())
}

fn same_user_namespace(process: &Process) -> Result<bool> {
    let theirs = open_namespace(process, libc::CLONE_NEWUSER)?;
    let theirs = rustix::fs::fstat(&theirs).map_err(|e| Error::os("fstat", e.into()))?;
    let ours = std::fs::metadata("/proc/self/ns/user")
        .map_err(|e| Error::os("stat /proc/self/ns/user", e))?;
    Ok(theirs.st_ino == ours.ino() && theirs.st_dev == ours.dev())
}
