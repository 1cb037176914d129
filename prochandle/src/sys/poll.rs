//! What the watcher asks of each OS's poller, the same on every platform
//! (like `Process`): `sys::Poller` with
//!
//! - `Poller::new()`, and the constant `CHECK_AFTER_ARM`: whether a
//!   registration may miss an exit that came before it (a kqueue filter
//!   watches a PID, so the watcher re-checks right after arming);
//! - `register`, `rearm` and `deregister` of a [`Target`] under a token:
//!   `register` and `rearm` say whether a one-shot report is armed
//!   (`false`: nothing can be armed, and the watcher re-checks instead);
//! - `register_scope`, which takes a scope's `sys::EmptyNotifier` and
//!   gives back the `sys::ScopeWatch` that stays registered while it is
//!   held (`None`: it cannot be waited on, and the scope is re-checked);
//! - `wait`, which sleeps until a report, a timeout or a `wake`, and
//!   appends the tokens reported.
//!
//! The pollers key on what the kernel can watch (a pidfd, a process
//! `HANDLE`, a PID for kqueue) and know nothing of the portable
//! `Process` or `Scope`.

use super::BorrowedHandle;

/// The process a poller registers: its PID and, where it has one, its
/// handle (Linux pidfd, Windows `HANDLE`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The PID: the key of a kqueue filter.
    #[cfg_attr(not(any(target_os = "macos", target_os = "freebsd")), allow(dead_code))]
    pub pid: u32,
    /// The handle: what epoll and the Windows thread pool wait on.
    /// `None` in the guarded-PID mode.
    #[cfg_attr(any(target_os = "macos", target_os = "freebsd"), allow(dead_code))]
    pub handle: Option<BorrowedHandle<'a>>,
}
