//! The identity re-check that makes `/proc` answers trustworthy.
//!
//! `/proc/<pid>` names whichever process holds that PID *now*. A reading is
//! about our process only if the PID still belonged to it when the reading
//! was done. The kernel frees a PID only when its process is reaped, so it
//! suffices to show, *after* reading, that our process has not been reaped:
//!
//! - with a pidfd, `pidfd_send_signal(fd, 0)` fails with `ESRCH` exactly
//!   once the process is reaped (a zombie still answers): airtight;
//! - with a `/proc/<pid>` directory, `stat` must still be readable through
//!   it (a zombie's is; a reaped process's is not, whoever has the PID
//!   now): airtight as well;
//! - with neither, the start time in `/proc/<pid>/stat` must still be the one
//!   recorded when the `Process` was attached: best effort (two processes
//!   started in the same clock tick under the same PID look alike).

use std::io;
use std::os::fd::AsFd;

use super::super::errno::{self, Call};
use super::Process;
use super::{procdir, procfs, syscalls};
use crate::error::{Error, ErrorKind, Result};

/// Fails with [`ErrorKind::Done`] unless `process` still owns its PID (it
/// may have exited, but must not have been reaped).
pub(crate) fn still_owns_pid(process: &Process, op: &'static str) -> Result<()> {
    if owns_pid(process) {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::Done, op).with_detail(format!(
            "process {} has exited and been reaped; its PID may now name another process",
            process.pid()
        )))
    }
}

/// Whether `process` has not been reaped yet, so its PID still names it.
pub(crate) fn owns_pid(process: &Process) -> bool {
    if let Some(fd) = process.handle() {
        return syscalls::pidfd_exists(fd.as_fd(), 0);
    }
    if let Some(dir) = process.proc_dir() {
        return matches!(procdir::stat(dir), Ok(Some(_)));
    }
    match (
        process.start_time(),
        procfs::read_stat(process.pid() as i32),
    ) {
        (Some(start), Ok(stat)) => stat.start_time == start,
        _ => false,
    }
}

/// Maps an error from reading `/proc/<pid>/...` of `process`: a vanished
/// entry means the process is gone.
pub(crate) fn proc_error(process: &Process, op: &'static str, e: io::Error) -> Error {
    errno::os_error(Call::ReadProc(process.pid()), op, e)
}
