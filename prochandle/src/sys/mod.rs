//! The OS layer: one backend per platform, each giving the portable layer
//! the same things: a `Process` (`open`, `current`, `from_child`,
//! `from_handle`, `pid`, `handle`, `into_handle`, `is_child`, `signal`,
//! `try_wait`, `wait_until`), the handle types, and `capabilities()`, the
//! probe's cached report; a `Poller` for the watcher (`poll.rs`); the
//! relay's signal `Receiver` (`relay/`); and `new_scope`, the scope
//! mechanism a request gets (`scope.rs`).
//! Nothing here imports the portable layer above.

pub(crate) mod poll;
pub(crate) mod relay;
pub(crate) mod scope;
pub(crate) mod self_wait;
pub(crate) mod timeout;
#[cfg(unix)]
pub(crate) mod unix;
#[cfg(windows)]
pub(crate) mod windows;

pub(crate) use poll::Target;
#[cfg(target_os = "linux")]
pub(crate) use unix::linux;
#[cfg(all(unix, any(feature = "tokio", feature = "async-io")))]
pub(crate) use unix::reactor_fd::Pidfd;
#[cfg(unix)]
pub(crate) use unix::{capabilities, new_scope, BorrowedHandle, OwnedHandle, Process};
#[cfg(unix)]
pub(crate) use unix::{rlimit, EmptyNotifier, Poller, ScopeWatch};
#[cfg(windows)]
pub(crate) use windows::job::new_scope;
#[cfg(windows)]
pub(crate) use windows::poller::{EmptyNotifier, Poller, ScopeWatch};
#[cfg(windows)]
pub(crate) use windows::{capabilities, BorrowedHandle, OwnedHandle, Process};
