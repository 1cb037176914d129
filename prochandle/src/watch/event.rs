//! What the watcher hands out: a [`Token`] per registration, an [`Event`]
//! per exit.

use crate::process::Process;
use crate::state::ProcessState;

#[cfg(doc)]
use super::Watcher;

/// Names one registration in a [`Watcher`]. Tokens are never reused by the
/// watcher that issued them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub(super) u64);

impl Token {
    /// The token as a number (unique within its watcher).
    ///
    /// ```
    /// # fn main() -> prochandle::Result<()> {
    /// # #[cfg(unix)] {
    /// let watcher = prochandle::Watcher::new()?;
    /// let p = prochandle::Process::spawn(&mut std::process::Command::new("true"))?;
    /// let token = watcher.add(p)?;
    /// println!("registered as #{}", token.as_u64());
    /// # watcher.next(None)?;
    /// # }
    /// # Ok(()) }
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// One process's exit, as reported by [`Watcher::next`]. The process is
/// no longer registered: the event hands it back.
#[derive(Debug)]
#[non_exhaustive]
pub struct Event {
    /// The token [`Watcher::add`] returned for it.
    pub token: Token,
    /// The process, handed back (its handle still open).
    pub process: Process,
    /// How it ended. For a process that is not our child and whose parent
    /// had not reaped it yet, the status is
    /// [`Unknown(NotReapedYet)`](crate::UnknownReason::NotReapedYet):
    /// [`Process::wait`] on [`process`](Event::process) can learn it a
    /// moment later (Linux 6.15+), or the watcher can wait for it itself
    /// (see [`Watcher::await_exit_status`]).
    pub state: ProcessState,
}
