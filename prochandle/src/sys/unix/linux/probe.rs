//! The Linux capability probe.
//!
//! Every check works on a pidfd of this very process: no child is created
//! (a probe that forks makes the application see a stray `SIGCHLD`, Go's
//! #71828), nothing is signalled (signal 0 only checks), and every
//! descriptor it opens is closed before it returns.
//!
//! `ENOSYS` (old kernel), `EPERM` and `EACCES` (container seccomp profiles),
//! `EINVAL` (a kernel that knows the syscall but not the flag) and a
//! `SIGSYS` trap all mean the same thing: unavailable.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use rustix::process::{getpid, pidfd_open, Pid, PidfdFlags};

use super::probe_info::info_features;
use super::sigsys_guard::{self, Guard};
use super::syscalls::{self, WaitTarget, PIDFD_INFO_PID};
use super::verdict::{availability, from_error, kernel_release};
use crate::capabilities::{forced_pid, Availability, Capabilities, Feature, ForcedPid};

/// `PIDFS_MAGIC` (`linux/magic.h`): pidfds live on pidfs from Linux 6.9,
/// before that on the anonymous-inode file system.
pub(crate) const PIDFS_MAGIC: i64 = 0x5049_4446;

/// The features of the middle tier, a `/proc/<pid>` directory.
pub(crate) const PROC_DIR_FEATURES: &[Feature] = &[Feature::ProcDirHandle, Feature::ProcDirSignal];

/// Every feature that needs a pidfd (the summary `ProcessHandle` first).
fn pidfd_features() -> impl Iterator<Item = Feature> {
    Feature::ALL
        .iter()
        .copied()
        .filter(|f| !PROC_DIR_FEATURES.contains(f))
}

fn unavailable(
    features: impl IntoIterator<Item = Feature>,
    reason: &str,
) -> Vec<(Feature, Availability)> {
    features
        .into_iter()
        .map(|f| (f, Availability::unavailable(None, reason)))
        .collect()
}

/// Probes each tier: pidfds (unless [`FORCE_PID_ENV`] turns them off),
/// then the `/proc/<pid>` directory (unless it asks for the bare PID).
///
/// [`FORCE_PID_ENV`]: crate::FORCE_PID_ENV
pub(crate) fn probe() -> Capabilities {
    let platform = format!("Linux {}", kernel_release());
    let forced = forced_pid();
    let guard = sigsys_guard::begin();
    let mut entries = match (forced, &guard) {
        (Some(force), _) => unavailable(
            pidfd_features(),
            &format!("disabled by {}", force.setting()),
        ),
        (None, Guard::ForeignHandler) => unavailable(
            pidfd_features(),
            "not probed: a seccomp filter is active and the application handles SIGSYS itself",
        ),
        (None, _) => probe_with(&guard),
    };
    entries.extend(match forced {
        Some(ForcedPid::Bare) => unavailable(
            PROC_DIR_FEATURES.iter().copied(),
            "disabled by PROCHANDLE_FORCE_PID=bare",
        ),
        _ => super::procdir::probe(&guard),
    });
    // The fast spawn's one probe, while the guard is up anyway.
    super::spawn::probe_clone3_within(&guard);
    sigsys_guard::end(guard);
    Capabilities::new(entries, platform, forced.is_some())
}

fn probe_with(guard: &Guard) -> Vec<(Feature, Availability)> {
    let me = getpid();
    let opened = sigsys_guard::call(guard, || Ok(pidfd_open(me, PidfdFlags::empty())?));
    let mut out = vec![(Feature::PidfdOpen, availability(&opened, "pidfd_open"))];
    let Ok(pidfd) = opened.result else {
        let needs = |f: Feature| (f, Availability::unavailable(None, "needs pidfd_open"));
        out.extend(
            pidfd_features()
                .filter(|f| *f != Feature::PidfdOpen)
                .map(needs),
        );
        return out;
    };
    let fd = pidfd.as_fd();
    out.extend(probe_core(guard, fd));
    out.extend(probe_extensions(guard, me, fd));
    out.extend(probe_pidfs_and_info(guard, fd));
    out.push((Feature::ProcessHandle, summary(&out)));
    out
}

/// What a handle needs: signalling through it, and `waitid(P_PIDFD)`.
fn probe_core(guard: &Guard, fd: BorrowedFd<'_>) -> [(Feature, Availability); 2] {
    let signalled = sigsys_guard::call(guard, || syscalls::pidfd_send_signal(fd, 0, 0));
    // We are not our own parent, so a working waitid(P_PIDFD) must answer
    // ECHILD. Linux 5.3 answers EINVAL (unknown idtype); anything else,
    // success included, means we cannot trust it.
    let waited = sigsys_guard::call(guard, || {
        syscalls::waitid(WaitTarget::PidFd(fd), libc::WNOHANG).map(|_| ())
    });
    let waitid = match &waited.result {
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) && !waited.trapped => {
            Availability::Available
        }
        Ok(()) => {
            Availability::unavailable(None, "waitid(P_PIDFD) did not answer ECHILD for ourselves")
        }
        Err(_) => availability(&waited, "waitid(P_PIDFD)"),
    };
    [
        (
            Feature::PidfdSendSignal,
            availability(&signalled, "pidfd_send_signal"),
        ),
        (Feature::WaitidPidfd, waitid),
    ]
}

/// The later pidfd calls: non-blocking pidfds, `pidfd_getfd`, `setns`.
fn probe_extensions(guard: &Guard, me: Pid, fd: BorrowedFd<'_>) -> [(Feature, Availability); 3] {
    let nonblock = sigsys_guard::call(guard, || Ok(pidfd_open(me, PidfdFlags::NONBLOCK)?));
    // Duplicate our own pidfd out of ourselves: ptrace access to oneself is
    // always granted, so only the kernel or a filter can say no.
    let getfd = sigsys_guard::call(guard, || {
        use std::os::fd::AsRawFd;
        Ok(rustix::process::pidfd_getfd(
            fd,
            fd.as_raw_fd(),
            rustix::process::PidfdGetfdFlags::empty(),
        )?)
    });
    [
        (
            Feature::PidfdNonblock,
            availability(&nonblock, "pidfd_open(PIDFD_NONBLOCK)"),
        ),
        (Feature::PidfdGetfd, availability(&getfd, "pidfd_getfd")),
        (Feature::SetnsPidfd, probe_setns(guard, fd)),
    ]
}

/// Handles are in use when the three calls they rest on all work (Go's
/// `checkPidfd`).
fn summary(probed: &[(Feature, Availability)]) -> Availability {
    let ready = |f: Feature| probed.iter().any(|(g, a)| *g == f && a.is_available());
    if ready(Feature::PidfdOpen) && ready(Feature::PidfdSendSignal) && ready(Feature::WaitidPidfd) {
        Availability::Available
    } else {
        Availability::unavailable(
            None,
            "needs pidfd_open, pidfd_send_signal and waitid(P_PIDFD) (Linux 5.4)",
        )
    }
}

/// pidfs (the inode numbers of 6.9) and `PIDFD_GET_INFO` with the info
/// fields it has, asked of our own pidfd.
fn probe_pidfs_and_info(guard: &Guard, fd: BorrowedFd<'_>) -> Vec<(Feature, Availability)> {
    // f_type's width differs between architectures, hence the cast.
    #[allow(clippy::unnecessary_cast)]
    let pidfs = match rustix::fs::fstatfs(fd) {
        Ok(st) if st.f_type as i64 == PIDFS_MAGIC => Availability::Available,
        Ok(_) => Availability::unavailable(
            None,
            "pidfds are anonymous inodes on this kernel, not pidfs",
        ),
        Err(e) => from_error(&io::Error::from(e), "fstatfs(pidfd)"),
    };
    let mut out = vec![(Feature::PidfsIds, pidfs)];

    let info = sigsys_guard::call(guard, || syscalls::pidfd_get_info(fd, PIDFD_INFO_PID));
    out.push((
        Feature::PidfdGetInfo,
        availability(&info, "ioctl(PIDFD_GET_INFO)"),
    ));
    // Then the newer fields, asked of ourselves with the larger struct.
    let ext = info.result.is_ok().then(|| {
        let mask = PIDFD_INFO_PID
            | syscalls::PIDFD_INFO_EXIT
            | syscalls::PIDFD_INFO_COREDUMP
            | syscalls::PIDFD_INFO_SUPPORTED_MASK;
        sigsys_guard::call(guard, || syscalls::pidfd_get_info_ext(fd, mask))
            .result
            .ok()
    });
    out.extend(info_features(ext.flatten().as_ref(), &kernel_release()));
    out
}

/// `setns(pidfd, CLONE_NEWUTS)` into our own UTS namespace changes nothing.
/// A kernel that accepts pidfds there (5.8) either does it or, without
/// `CAP_SYS_ADMIN`, says `EPERM`; an older one says `EINVAL` because the
/// descriptor is not a namespace file.
fn probe_setns(guard: &Guard, fd: BorrowedFd<'_>) -> Availability {
    let probed = sigsys_guard::call(guard, || {
        let uts = rustix::thread::ThreadNameSpaceType::HOST_NAME_AND_NIS_DOMAIN_NAME;
        Ok(rustix::thread::move_into_thread_name_spaces(fd, uts)?)
    });
    match &probed.result {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) && !probed.trapped => {
            Availability::Available
        }
        _ => availability(&probed, "setns(pidfd)"),
    }
}
