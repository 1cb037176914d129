//! Waiting for many processes at once, for `wait` and `kill --timeout`.
//!
//! One small thread per process sleeps in `Process::wait` (a `poll` on the
//! pidfd, or `waitid` for our children) and reports the exit on a channel,
//! so each exit is seen the moment it happens, with its status, whatever
//! the mode. The threads are never joined: the command exits when it has
//! what it needs.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Instant;

use prochandle::{Process, ProcessState};

/// Why a process could not be waited for.
pub enum WaitError {
    /// `Process::wait` failed.
    Wait(prochandle::Error),
    /// No thread could be started to wait with.
    NoThread(String),
}

/// The next thing that happened.
pub enum Next {
    /// Process number `index` (as passed to [`Waiter::start`]) exited, or
    /// waiting for it failed.
    Exit(usize, Result<ProcessState, WaitError>),
    /// The deadline passed first.
    TimedOut,
    /// Every process has been reported.
    AllDone,
}

/// Waits for a set of processes.
pub struct Waiter {
    exits: Receiver<(usize, Result<ProcessState, WaitError>)>,
    pending: usize,
}

impl Waiter {
    /// Starts waiting for each `(index, process)`.
    pub fn start(processes: impl IntoIterator<Item = (usize, Arc<Process>)>) -> Waiter {
        let (sender, exits) = mpsc::channel();
        let mut pending = 0;
        for (index, process) in processes {
            let thread_sender = sender.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("wait {}", process.pid()))
                .stack_size(64 * 1024)
                .spawn(move || {
                    let _ = thread_sender.send((index, process.wait().map_err(WaitError::Wait)));
                });
            match spawned {
                Ok(_) => pending += 1,
                Err(err) => {
                    // Without a thread there is nothing to wait with: report it
                    // as a failure of this one target.
                    let message = format!("cannot start a waiting thread: {err}");
                    let _ = sender.send((index, Err(WaitError::NoThread(message))));
                    pending += 1;
                }
            }
        }
        Waiter { exits, pending }
    }

    /// The next exit, or `TimedOut` at `deadline` (`None`: no deadline).
    pub fn next(&mut self, deadline: Option<Instant>) -> Next {
        if self.pending == 0 {
            return Next::AllDone;
        }
        let received = match deadline {
            None => self
                .exits
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(deadline) => self
                .exits
                .recv_timeout(deadline.saturating_duration_since(Instant::now())),
        };
        match received {
            Ok((index, result)) => {
                self.pending -= 1;
                Next::Exit(index, result)
            }
            Err(RecvTimeoutError::Timeout) => Next::TimedOut,
            Err(RecvTimeoutError::Disconnected) => Next::AllDone,
        }
    }
}
