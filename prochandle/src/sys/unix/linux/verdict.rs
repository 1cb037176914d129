//! How a probe's answers become verdicts: a syscall's error read as the
//! reason a feature is unavailable, and the kernel release for what no
//! syscall can show. Shared by every probe of this backend.

use std::io;

use super::sigsys_guard::Probed;
use crate::capabilities::Availability;

/// The verdict on one probed call: available, trapped by a seccomp
/// filter, or the reason its error gives.
pub(crate) fn availability<T>(probed: &Probed<T>, what: &str) -> Availability {
    match &probed.result {
        Ok(_) => Availability::Available,
        Err(_) if probed.trapped => Availability::unavailable(
            Some(libc::ENOSYS),
            format!("{what} trapped by a seccomp filter (SIGSYS)"),
        ),
        Err(e) => from_error(e, what),
    }
}

/// The reason an error gives for a feature being unavailable.
pub(crate) fn from_error(e: &io::Error, what: &str) -> Availability {
    let why = match e.raw_os_error() {
        Some(libc::ENOSYS) => "not implemented by this kernel",
        Some(libc::EPERM) | Some(libc::EACCES) => "refused, likely by a seccomp profile",
        Some(libc::EINVAL) => "rejected as invalid: the kernel predates it",
        Some(libc::ENOTTY) => "unknown ioctl: the kernel predates it",
        _ => "failed",
    };
    Availability::unavailable(e.raw_os_error(), format!("{what}: {why} ({e})"))
}

/// The kernel release, e.g. `6.18.2-arch1`.
pub(crate) fn kernel_release() -> String {
    rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned()
}

/// Compares the leading `major.minor` of a release string.
pub(crate) fn release_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().unwrap_or(0));
    let got = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    got >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_comparison() {
        assert!(release_at_least("6.18.44-fc-v669", 6, 15));
        assert!(release_at_least("6.15", 6, 15));
        assert!(!release_at_least("6.14.9", 6, 15));
        assert!(!release_at_least("5.19.0", 6, 13));
        assert!(release_at_least("10.0", 6, 15));
        assert!(!release_at_least("garbage", 6, 15));
    }
}
