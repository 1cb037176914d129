//! Helpers shared by the integration tests of `prochandle` and
//! `prochandle-cli`, each defined once.
//!
//! - [`ci`]: the CI rule. A test that needs root or a kernel feature checks
//!   for it; without it the test is skipped, except under `CI=true`, where it
//!   fails instead.
//! - [`reaped`]: [`Reaped`], the one guard that kills and reaps what a test
//!   starts, on drop, so also when the test panics.
//! - [`commands`]: child commands that behave the same on every platform.
//! - [`poll`]: waiting for a condition with a deadline.
//! - [`grandchildren`] (Unix): processes that are not the test's children.
//! - [`procfs`] (Unix): descriptor counts and process states from `/proc`.
//! - [`signals`] (Unix): signal dispositions of the test process.
//! - [`trees`] (Linux): marking a process tree to count its survivors, and
//!   removing the cgroups a test leaves.
//!
//! Not published: it exists for the workspace's own tests.

#[cfg(unix)]
mod children;
pub mod ci;
pub mod commands;
#[cfg(unix)]
pub mod grandchildren;
pub mod poll;
#[cfg(unix)]
pub mod procfs;
pub mod reaped;
#[cfg(unix)]
pub mod signals;
#[cfg(target_os = "linux")]
pub mod trees;

pub use ci::{expect_handles, forced_pid_mode, handles, in_ci, require, skip};
#[cfg(unix)]
pub use ci::{is_root, require_root};
#[cfg(windows)]
pub use commands::WINDOWS_KILL_CODE;
pub use commands::{exit_with, sleeper, NO_SUCH_PID, PATIENCE};
#[cfg(unix)]
pub use grandchildren::Grandchildren;
pub use poll::{eventually, within};
#[cfg(unix)]
pub use procfs::{open_fds, proc_state};
pub use reaped::{KillGroup, Reap, Reaped};
#[cfg(target_os = "linux")]
pub use trees::{reexec, CgroupCleanup, TreeMark, TREE_MARK_ENV};
