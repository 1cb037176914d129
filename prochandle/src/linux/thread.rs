//! [`Thread`]: one thread of a process, pinned by a thread pidfd.

use std::os::fd::{AsFd, BorrowedFd};

use crate::error::Result;
use crate::signal::Signal;
use crate::sys::linux::thread as imp;

/// A handle to one thread of a process: a thread pidfd (`PIDFD_THREAD`,
/// Linux 6.9), checked to belong to the process it came from.
///
/// ```
/// use prochandle::linux::ProcessExt;
/// use prochandle::{ErrorKind, Process};
///
/// let me = Process::current()?;
/// let tid = rustix::thread::gettid().as_raw_nonzero().get() as u32;
/// match me.thread(tid) {
///     Ok(thread) => {
///         assert_eq!(thread.tid(), tid);
///         thread.signal(prochandle::Signal::from_raw(0))?; // "is it there?"
///     }
///     Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported),
/// }
/// # Ok::<(), prochandle::Error>(())
/// ```
#[derive(Debug)]
pub struct Thread {
    inner: imp::ThreadFd,
}

impl Thread {
    /// The thread ID.
    pub fn tid(&self) -> u32 {
        self.inner.tid
    }

    /// The PID of its process.
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// Sends `signal` to this thread only (`PIDFD_SIGNAL_THREAD`);
    /// [`Done`](crate::ErrorKind::Done) once it has exited.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        imp::signal_thread_fd(&self.inner, signal.as_raw())
    }

    /// Whether the thread has exited (its pidfd polls readable).
    pub fn has_exited(&self) -> bool {
        imp::thread_exited(&self.inner)
    }

    /// The thread pidfd, for `poll` (readable when the thread exits).
    pub fn handle(&self) -> BorrowedFd<'_> {
        self.inner.fd.as_fd()
    }
}

impl Thread {
    pub(crate) fn from_sys(inner: imp::ThreadFd) -> Thread {
        Thread { inner }
    }
}
