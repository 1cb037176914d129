//! `RLIMIT_NOFILE`: how many descriptors this process may hold, and the
//! helper that raises it.
//!
//! Every `Process` with a handle holds one descriptor, so watching
//! thousands of processes runs into the soft limit (often 1024) long before
//! the hard limit (often 524288). Hitting it is an error that names the
//! limit, never a silent switch to polling.

use std::io;

use crate::error::{Error, Result};
use crate::sys::rlimit;

/// The soft and hard `RLIMIT_NOFILE` of this process.
///
/// `u64::MAX` stands for "unlimited".
///
/// ```
/// let (soft, hard) = prochandle::fd_limit().unwrap();
/// assert!(soft <= hard);
/// ```
pub fn fd_limit() -> Result<(u64, u64)> {
    rlimit::nofile().map_err(|e| Error::os("getrlimit", e))
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, and returns the new
/// soft limit (`u64::MAX` if unlimited).
///
/// Call it once at start-up before watching thousands of processes: each
/// one with a handle holds a descriptor. Lowering is never done; if the
/// soft limit already equals the hard one nothing changes. On macOS, where
/// the hard limit is often "unlimited" but the kernel refuses more than
/// `OPEN_MAX` (10240), the limit is set to that instead.
///
/// ```
/// let raised = prochandle::raise_fd_limit().unwrap();
/// assert_eq!(prochandle::fd_limit().unwrap().0, raised);
/// ```
pub fn raise_fd_limit() -> Result<u64> {
    let (soft, hard) = fd_limit()?;
    if soft >= hard {
        return Ok(soft);
    }
    match rlimit::set_nofile_soft(hard) {
        Ok(()) => Ok(hard),
        #[cfg(target_vendor = "apple")]
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            const OPEN_MAX: u64 = 10240;
            let capped = hard.min(OPEN_MAX).max(soft);
            rlimit::set_nofile_soft(capped).map_err(|e| Error::os("setrlimit", e))?;
            Ok(capped)
        }
        Err(e) => Err(Error::os("setrlimit", e)),
    }
}

// The helpers below recognise and explain running out of descriptors; the
// errno table of every Unix backend goes through them.

/// Whether `err` means "out of descriptors" (`EMFILE` for this process,
/// `ENFILE` for the whole system).
pub(crate) fn is_out_of_descriptors(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

/// The error for an out-of-descriptors failure of `op`, naming the limit
/// in force and the way out.
pub(crate) fn out_of_descriptors(op: &'static str, err: io::Error) -> Error {
    let detail = if err.raw_os_error() == Some(libc::ENFILE) {
        "the system-wide limit on open files (fs.file-max) is reached".to_string()
    } else {
        match fd_limit() {
            Ok((soft, hard)) => format!(
                "out of file descriptors: RLIMIT_NOFILE is {} (hard limit {}); each watched \
                 process with a handle holds one descriptor; raise it with \
                 prochandle::raise_fd_limit() or `ulimit -n`",
                show(soft),
                show(hard)
            ),
            Err(_) => "out of file descriptors (RLIMIT_NOFILE); raise it with \
                       prochandle::raise_fd_limit() or `ulimit -n`"
                .to_string(),
        }
    };
    Error::os(op, err).with_detail(detail)
}

fn show(limit: u64) -> String {
    if limit == u64::MAX {
        "unlimited".to_string()
    } else {
        limit.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emfile_error_names_the_limit() {
        let (soft, _) = fd_limit().unwrap();
        let err = out_of_descriptors("pidfd_open", io::Error::from_raw_os_error(libc::EMFILE));
        let text = err.to_string();
        assert!(
            text.contains(&format!("RLIMIT_NOFILE is {}", show(soft))),
            "{text}"
        );
        assert!(text.starts_with("pidfd_open: "), "{text}");
        assert_eq!(err.raw_os_error(), Some(libc::EMFILE));
        assert!(is_out_of_descriptors(&io::Error::from_raw_os_error(
            libc::ENFILE
        )));
        assert!(!is_out_of_descriptors(&io::Error::from_raw_os_error(
            libc::EINVAL
        )));
    }
}
