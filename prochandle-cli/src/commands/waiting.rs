//! Waiting for many processes at once, for `wait` and `kill --timeout`.
//!
//! One [`prochandle::Watcher`] on the calling thread: every target is
//! registered (one pidfd each, armed in one epoll instance), and each exit
//! is reported the moment the kernel signals it, however many targets there
//! are. Without handles (`PROCHANDLE_FORCE_PID=1`) the watcher re-checks
//! each process with backoff instead.
//!
//! A process that is not our child may exit before its parent has reaped
//! it, when Linux does not yet have its status for others. The watcher is
//! told to await that status (`Watcher::await_exit_status`): it holds such
//! an exit back for the grace `Process::wait` gives, while other exits
//! keep being reported, so a parent slow to reap delays only its own
//! children.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use prochandle::{Process, ProcessState, Token, Watcher};

/// Why a process could not be waited for.
pub enum WaitError {
    /// Checking the process failed.
    Wait(prochandle::Error),
    /// The watcher refused to register it.
    NotWatched(prochandle::Error),
}

/// The next thing that happened.
pub enum Next {
    /// Target number `index` (as passed to [`Waiter::add`]) exited, or
    /// waiting for it failed.
    Exit(usize, Result<ProcessState, WaitError>),
    /// The watcher failed and the failure could not be pinned on one
    /// target. Reported once; waiting goes on.
    Failed(prochandle::Error),
    /// The deadline passed first.
    TimedOut,
    /// Every process has been reported.
    AllDone,
}

/// Waits for a set of processes from the calling thread.
pub struct Waiter {
    watcher: Watcher,
    targets: HashMap<Token, usize>,
    tokens: HashMap<usize, Token>,
    /// Exits and failures found but not yet returned.
    ready: VecDeque<(usize, Result<ProcessState, WaitError>)>,
    failure_reported: bool,
}

impl Waiter {
    /// A waiter with nothing registered yet.
    pub fn new() -> prochandle::Result<Waiter> {
        Ok(Waiter {
            watcher: Watcher::new()?.await_exit_status(true),
            targets: HashMap::new(),
            tokens: HashMap::new(),
            ready: VecDeque::new(),
            failure_reported: false,
        })
    }

    /// Starts waiting for target number `index`. A process the watcher
    /// refuses is reported by [`next`](Waiter::next) as a failure of that
    /// target.
    pub fn add(&mut self, index: usize, process: Process) {
        match self.watcher.add(process) {
            Ok(token) => {
                self.targets.insert(token, index);
                self.tokens.insert(index, token);
            }
            Err(refused) => {
                let error = WaitError::NotWatched(refused.into());
                self.ready.push_back((index, Err(error)));
            }
        }
    }

    /// Calls `f` with target `index`'s process if it is still being
    /// watched (not yet reported).
    pub fn with_process<R>(&self, index: usize, f: impl FnOnce(&Process) -> R) -> Option<R> {
        let token = self.tokens.get(&index)?;
        self.watcher.with_process(*token, f)
    }

    /// The next exit, or `TimedOut` once `wake` passes (`None`: never).
    /// An exit already seen but held back for its status is still reported
    /// after `wake` (within the grace) rather than `TimedOut`.
    pub fn next(&mut self, wake: Option<Instant>) -> Next {
        loop {
            if let Some((index, result)) = self.ready.pop_front() {
                return Next::Exit(index, result);
            }
            if self.targets.is_empty() {
                return Next::AllDone;
            }
            let timeout = wake.map(|w| w.saturating_duration_since(Instant::now()));
            match self.watcher.next(timeout) {
                Ok(Some(event)) => {
                    let Some(index) = self.targets.remove(&event.token) else {
                        continue;
                    };
                    self.tokens.remove(&index);
                    return Next::Exit(index, Ok(event.state));
                }
                // Without a deadline the watcher returns empty-handed only
                // when nothing is registered, which the check above sees.
                Ok(None) if wake.is_some() => return Next::TimedOut,
                Ok(None) => {}
                Err(error) => {
                    if let Some(found) = self.blame(error) {
                        return found;
                    }
                }
            }
        }
    }

    /// The watcher failed to check one process, without saying which:
    /// find it (it fails the same check again), stop watching it and
    /// report it as that target's failure. If no process fails now, the
    /// error is reported once on its own.
    fn blame(&mut self, error: prochandle::Error) -> Option<Next> {
        let mut culprits = Vec::new();
        for (&token, &index) in &self.targets {
            let failing = self
                .watcher
                .with_process(token, |p| p.try_wait().err())
                .flatten();
            if let Some(failure) = failing {
                culprits.push((token, index, failure));
            }
        }
        if culprits.is_empty() {
            if self.failure_reported {
                return None;
            }
            self.failure_reported = true;
            return Some(Next::Failed(error));
        }
        for (token, index, failure) in culprits {
            self.targets.remove(&token);
            self.tokens.remove(&index);
            drop(self.watcher.remove(token));
            self.ready.push_back((index, Err(WaitError::Wait(failure))));
        }
        None
    }
}

/// The one line said when a command runs out of descriptors opening its
/// targets (`errno` is `EMFILE` or `ENFILE`): how far it got, the limit in
/// force, and the way out.
pub fn out_of_descriptors(command: &str, opened: usize, total: usize, errno: i32) -> String {
    let cause = descriptor_limit(errno);
    format!("{command}: out of file descriptors after opening {opened} of {total} targets: {cause}")
}

/// Which limit was reached, and the way out.
#[cfg(unix)]
fn descriptor_limit(errno: i32) -> String {
    if errno == libc::ENFILE {
        "the system-wide limit on open files (fs.file-max) is reached".to_owned()
    } else {
        let limit = match prochandle::fd_limit() {
            Ok((soft, hard)) => format!("RLIMIT_NOFILE is {} (hard {})", show(soft), show(hard)),
            Err(_) => "RLIMIT_NOFILE is reached".to_owned(),
        };
        format!(
            "{limit}, already raised to the hard limit; each target holds one descriptor: \
             raise the hard limit (ulimit -Hn, systemd LimitNOFILE=) or pass fewer targets"
        )
    }
}

/// Windows has no descriptor limit for handles: `target` never reports
/// one, and this line is never printed there.
#[cfg(not(unix))]
fn descriptor_limit(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

#[cfg(unix)]
fn show(limit: u64) -> String {
    if limit == u64::MAX {
        "unlimited".to_owned()
    } else {
        limit.to_string()
    }
}

/// A few descriptors held while targets are opened and given back after,
/// so that watching them can still open what it needs (`/proc` files)
/// even when the targets took every descriptor left.
pub struct DescriptorReserve(#[allow(dead_code)] Vec<std::fs::File>);

impl DescriptorReserve {
    /// How many descriptors are kept back.
    const SIZE: usize = 4;

    /// Holds up to [`SIZE`](Self::SIZE) descriptors (`/dev/null`, opened
    /// close-on-exec as std always does); fewer if they cannot be had.
    pub fn hold() -> DescriptorReserve {
        let files = (0..Self::SIZE)
            .map_while(|_| std::fs::File::open("/dev/null").ok())
            .collect();
        DescriptorReserve(files)
    }

    /// Gives the descriptors back.
    pub fn release(self) {}
}
