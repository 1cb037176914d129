//! The middle tier: a `/proc/<pid>` directory descriptor as the pin where
//! pidfds cannot be had.
//!
//! The kernel ties an open `/proc/<pid>` directory to the process it was
//! opened for (its `struct pid`), not to the number: once that process is
//! reaped, `openat(dir, "stat")` fails with `ESRCH` (or `ENOENT`), even
//! after the PID has been handed to another process. And
//! `pidfd_send_signal(2)` (Linux 5.1) takes such a descriptor in place of
//! a pidfd. It must be a real open (not `O_PATH`): the syscall looks at
//! the file's operations, which an `O_PATH` descriptor does not have.

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags};

use super::super::backend::Stat;
use super::super::errno::{self, Call};
use super::sigsys_guard::{self, Guard};
use super::verdict::availability;
use super::{procfs, syscalls};
use crate::capabilities::{Availability, Feature};
use crate::error::{Error, Result};

const OP: &str = "open";

/// Opens `/proc/<pid>` as a directory, close-on-exec, and refuses a thread
/// ID (the kernel resolves `/proc/<tid>` too, to the thread).
pub(crate) fn open(pid: i32) -> Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let dir = rustix::fs::open(format!("/proc/{pid}"), flags, Mode::empty())
        .map_err(|e| errno::os_error(Call::Open(pid), "open /proc/<pid>", e.into()))?;
    // Read through the descriptor, so it is about the process it pins.
    if let Ok(Some(tgid)) = thread_group_in(dir.as_fd()) {
        if tgid != pid {
            return Err(thread_error(pid, tgid));
        }
    }
    Ok(dir)
}

/// The identity facts through `dir`; `None` once its process is reaped.
pub(crate) fn stat(dir: BorrowedFd<'_>) -> io::Result<Option<Stat>> {
    match procfs::read_stat_at(dir) {
        Ok(stat) => Ok(Some(Stat {
            start_time: stat.start_time,
            exited: stat.exited(),
        })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The middle tier's probe, on our own `/proc/<pid>` directory: it opens,
/// it is procfs and speaks our PID namespace, and `stat` reads through it;
/// then whether `pidfd_send_signal(dir, 0)` takes it.
pub(crate) fn probe(guard: &Guard) -> Vec<(Feature, Availability)> {
    let dir = match own_directory() {
        Ok(dir) => dir,
        Err(why) => {
            let signal = Availability::unavailable(None, "needs /proc/<pid> directories");
            return vec![
                (Feature::ProcDirHandle, Availability::unavailable(None, why)),
                (Feature::ProcDirSignal, signal),
            ];
        }
    };
    let signal = sigsys_guard::call(guard, || syscalls::pidfd_send_signal(dir.as_fd(), 0, 0));
    vec![
        (Feature::ProcDirHandle, Availability::Available),
        (
            Feature::ProcDirSignal,
            availability(&signal, "pidfd_send_signal(/proc/<pid>)"),
        ),
    ]
}

/// Our own `/proc/<pid>` directory, checked to be the one the tier would
/// use: `/proc` mounted, procfs, and of our PID namespace (`/proc/self` is
/// the same directory), so that our PIDs name its entries.
fn own_directory() -> std::result::Result<OwnedFd, String> {
    let me = std::process::id() as i32;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let dir = rustix::fs::open(format!("/proc/{me}"), flags, Mode::empty())
        .map_err(|e| format!("/proc/<pid> cannot be opened (is /proc mounted?): {e}"))?;
    // f_type's width differs between architectures, hence the cast.
    #[allow(clippy::unnecessary_cast)]
    match rustix::fs::fstatfs(&dir) {
        Ok(st) if st.f_type as i64 == rustix::fs::PROC_SUPER_MAGIC as i64 => {}
        Ok(_) => return Err("/proc is not a procfs mount".into()),
        Err(e) => return Err(format!("fstatfs(/proc/<pid>): {e}")),
    }
    let same = match (rustix::fs::fstat(&dir), rustix::fs::stat("/proc/self")) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    };
    if !same {
        return Err("/proc belongs to another PID namespace".into());
    }
    match stat(dir.as_fd()) {
        Ok(Some(stat)) => {
            // Our start time, which a scope's cgroup is named with: kept,
            // so that it is not read a second time.
            procfs::remember_own_start(me as u32, stat.start_time);
            Ok(dir)
        }
        Ok(None) => Err("/proc/<pid>/stat says we are gone".into()),
        Err(e) => Err(format!("/proc/<pid>/stat cannot be read: {e}")),
    }
}

/// Refuses `pid` if `/proc/<pid>/status` says it is a thread of another
/// process. Anything unreadable passes: the caller's own lookup then says
/// what is wrong.
pub(crate) fn refuse_thread(pid: i32) -> Result<()> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(dir) = rustix::fs::open(format!("/proc/{pid}"), flags, Mode::empty()) else {
        return Ok(());
    };
    match thread_group_in(dir.as_fd()) {
        Ok(Some(tgid)) if tgid != pid => Err(thread_error(pid, tgid)),
        _ => Ok(()),
    }
}

fn thread_error(pid: i32, tgid: i32) -> Error {
    Error::invalid_input(
        OP,
        format!("PID {pid} is a thread of process {tgid}, not a process: open {tgid} instead"),
    )
}

/// The `Tgid:` line of `status` in `dir`.
fn thread_group_in(dir: BorrowedFd<'_>) -> io::Result<Option<i32>> {
    let mut text = String::new();
    procfs::open_in(dir, c"status")?
        .take(64 * 1024)
        .read_to_string(&mut text)?;
    Ok(parse_tgid(&text))
}

/// The value of the `Tgid:` line of a `status` text.
pub(crate) fn parse_tgid(status: &str) -> Option<i32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tgid_line() {
        assert_eq!(parse_tgid("Name:\tx\nTgid:\t42\nPid:\t43\n"), Some(42));
        assert_eq!(parse_tgid("Name:\tx\n"), None);
    }

    #[test]
    fn our_own_directory_pins_us() {
        let me = std::process::id() as i32;
        let dir = open(me).unwrap();
        let stat = stat(dir.as_fd()).unwrap().expect("we are alive");
        assert!(!stat.exited);
        assert_eq!(stat.start_time, procfs::read_stat(me).unwrap().start_time);
    }

    #[test]
    fn a_thread_id_is_refused_by_name() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            tx.send(rustix::thread::gettid().as_raw_nonzero().get())
                .unwrap();
            let _ = stop_rx.recv();
        });
        let tid = rx.recv().unwrap();
        let me = std::process::id();
        // Through `Process::open` too, in whichever tier this run uses
        // (pidfd_open's EINVAL, the directory's Tgid, or the PID guard's).
        let by_process = super::super::Process::open(tid as u32).unwrap_err();
        for err in [
            open(tid).unwrap_err(),
            refuse_thread(tid).unwrap_err(),
            by_process,
        ] {
            assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput);
            assert!(
                err.to_string()
                    .contains(&format!("PID {tid} is a thread of process {me}")),
                "{err}"
            );
        }
        stop_tx.send(()).unwrap();
        worker.join().unwrap();
    }
}
