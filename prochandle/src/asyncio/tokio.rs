//! The exit future for tokio (feature `tokio`).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use ::tokio::io::unix::AsyncFd;
use ::tokio::io::Interest;

use super::{next_pause, poll_until_exit, settle, RECHECK_MIN};
use crate::error::{Error, Result};
use crate::process::Process;
use crate::state::ProcessState;

/// Waits for `process` to exit, without blocking the runtime: resolves to
/// what [`Process::wait`] would return. Any process, child or not; no
/// `SIGCHLD` handler; cancellation-safe (see the [module docs](super)).
///
/// Must be polled inside a tokio runtime with IO and time enabled.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use prochandle::{asyncio, Process};
///
/// let child = Process::spawn(Command::new("sh").args(["-c", "exit 7"]))?;
/// let state = asyncio::tokio::wait(&child).await?;
/// assert_eq!(state.exit_code(), Some(7));
/// # Ok(()) }
/// ```
pub async fn wait(process: &Process) -> Result<ProcessState> {
    let sleep = |d| ::tokio::time::sleep(d);
    if let Some(state) = process.try_wait()? {
        return settle(process, state, &sleep).await;
    }
    let Some(handle) = process.handle() else {
        return poll_until_exit(process, sleep).await;
    };
    // Register the process's own pidfd; only if this reactor already has
    // it (another future on the same `Process`) register a duplicate, which
    // costs a descriptor. Either stays open as long as this future: the
    // borrowed one because the `Process` outlives the borrow.
    match register(handle) {
        Ok(fd) => until_exit(process, fd).await,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let dup: OwnedFd = handle.try_clone_to_owned().map_err(super::dup_error)?;
            let fd = register(dup).map_err(register_error)?;
            until_exit(process, fd).await
        }
        Err(e) => Err(register_error(e)),
    }
}

fn register<T: AsRawFd>(fd: T) -> io::Result<AsyncFd<T>> {
    // `with_interest` is deprecated in tokio 1.54 for types whose raw fd
    // could change; `BorrowedFd` and `OwnedFd` cannot, and the replacement
    // does not exist before 1.54, which we do not want to require.
    #[allow(deprecated)]
    AsyncFd::with_interest(fd, Interest::READABLE)
}

fn register_error(e: io::Error) -> Error {
    Error::os("epoll_ctl", e).with_detail("registering the pidfd with tokio")
}

async fn until_exit<T: AsRawFd>(process: &Process, fd: AsyncFd<T>) -> Result<ProcessState> {
    let sleep = |d| ::tokio::time::sleep(d);
    let mut pause = RECHECK_MIN;
    loop {
        let mut ready = fd
            .readable()
            .await
            .map_err(|e| Error::os("epoll_wait", e))?;
        if let Some(state) = process.try_wait()? {
            return settle(process, state, &sleep).await;
        }
        // Spurious readiness: wait for the next edge, after a pause so that
        // a handle that keeps signalling cannot make this spin.
        ready.clear_ready();
        sleep(pause).await;
        pause = next_pause(pause);
    }
}
