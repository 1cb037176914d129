//! The exit future for async-io, the reactor of smol (feature `async-io`).

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use ::async_io::{Async, Timer};

use super::{next_pause, poll_until_exit, settle, RECHECK_MIN};
use crate::error::{Error, Result};
use crate::process::Process;
use crate::state::ProcessState;

/// Waits for `process` to exit on async-io's reactor: resolves to what
/// [`Process::wait`] would return. Any process, child or not; no `SIGCHLD`
/// handler; cancellation-safe (see the [module docs](super)). Works with
/// smol and with any executor.
///
/// ```
/// # fn main() -> prochandle::Result<()> {
/// use std::process::Command;
/// use prochandle::{asyncio, Process};
///
/// let child = Process::spawn(Command::new("sh").args(["-c", "exit 7"]))?;
/// let state = async_io::block_on(asyncio::async_io::wait(&child))?;
/// assert_eq!(state.exit_code(), Some(7));
/// # Ok(()) }
/// ```
pub async fn wait(process: &Process) -> Result<ProcessState> {
    let sleep = |d| async move {
        Timer::after(d).await;
    };
    if let Some(state) = process.try_wait()? {
        return settle(process, state, &sleep).await;
    }
    let Some(handle) = process.handle() else {
        return poll_until_exit(process, sleep).await;
    };
    // Register the process's own pidfd; only if the reactor already has it
    // (another future on the same `Process`) register a duplicate, which
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

fn register<T: AsFd>(fd: T) -> io::Result<Async<T>> {
    // `new_nonblocking`: a pidfd is never read, so it need not be made
    // non-blocking (which would change the `Process`'s own pidfd, whose
    // flags a duplicate shares).
    Async::new_nonblocking(fd)
}

fn register_error(e: io::Error) -> Error {
    Error::os("epoll_ctl", e).with_detail("registering the pidfd with async-io")
}

async fn until_exit<T: AsFd>(process: &Process, fd: Async<T>) -> Result<ProcessState> {
    let sleep = |d| async move {
        Timer::after(d).await;
    };
    let mut pause = RECHECK_MIN;
    loop {
        fd.readable()
            .await
            .map_err(|e| Error::os("epoll_wait", e))?;
        if let Some(state) = process.try_wait()? {
            return settle(process, state, &sleep).await;
        }
        // Spurious readiness: pause before looking again.
        sleep(pause).await;
        pause = next_pause(pause);
    }
}
