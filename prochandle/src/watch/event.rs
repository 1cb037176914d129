//! What the watcher hands out: a [`Token`] per registration, an [`Event`]
//! per exit.

use std::sync::Arc;

use crate::process::Process;
use crate::scope::Scope;
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

/// A registered [`Scope`]'s emptiness, as reported by
/// [`Watcher::next_notice`]: its last member has exited. The scope is no
/// longer registered: the event hands back the watcher's `Arc` of it.
#[derive(Debug)]
#[non_exhaustive]
pub struct ScopeEvent {
    /// The token [`Watcher::add_scope`] returned for it.
    pub token: Token,
    /// The scope, empty when the event was made.
    pub scope: Arc<Scope>,
}

/// What [`Watcher::next_notice`] reports: a process's exit or a scope's
/// emptiness.
#[derive(Debug)]
#[non_exhaustive]
pub enum Notice {
    /// A process registered with [`Watcher::add`] has exited.
    Exit(Event),
    /// A scope registered with [`Watcher::add_scope`] is empty.
    Empty(ScopeEvent),
}

impl Notice {
    /// The token of the registration this notice ends.
    pub fn token(&self) -> Token {
        match self {
            Notice::Exit(event) => event.token,
            Notice::Empty(event) => event.token,
        }
    }

    /// The exit, if this is one.
    pub(super) fn into_exit(self) -> Option<Event> {
        match self {
            Notice::Exit(event) => Some(event),
            Notice::Empty(_) => None,
        }
    }
}
