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
//! - [`other_user`] (Linux): the test binary where another user (`nobody`)
//!   may run it, also from a private checkout, and a test re-run so.
//! - [`procfs`] (Unix): descriptor counts and process states from `/proc`.
//! - [`signals`] (Unix): signal dispositions of the test process.
//! - [`supervised`] (Linux): a supervisor under test (`timeout(1)`,
//!   `prochandle run`) and the whole tree it starts, side by side.
//! - [`named`] (Unix): programs under unique names, for tests that select
//!   processes by name.
//! - [`trees`] (Linux): marking a process tree to count its survivors,
//!   scope tests one at a time, and removing the cgroups a test leaves.
//!
//! Not published: it exists for the workspace's own tests.

#[cfg(unix)]
mod children;
pub mod ci;
pub mod commands;
#[cfg(unix)]
pub mod grandchildren;
#[cfg(unix)]
pub mod named;
#[cfg(target_os = "linux")]
pub mod other_user;
pub mod poll;
#[cfg(unix)]
pub mod procfs;
pub mod reaped;
#[cfg(unix)]
pub mod signals;
#[cfg(target_os = "linux")]
pub mod supervised;
#[cfg(target_os = "linux")]
pub mod trees;

pub use ci::{
    expect_handles, expect_pin_mode, forced_bare_pid, forced_pid_mode, handles, in_ci, require,
    skip,
};
#[cfg(unix)]
pub use ci::{is_root, require_root};
#[cfg(windows)]
pub use commands::WINDOWS_KILL_CODE;
pub use commands::{exit_with, sleeper, NO_SUCH_PID, PATIENCE};
#[cfg(unix)]
pub use grandchildren::Grandchildren;
#[cfg(unix)]
pub use named::{which, NamedSleep};
#[cfg(target_os = "linux")]
pub use other_user::{reexec_as_nobody, ExeForOthers};
pub use poll::{eventually, within};
#[cfg(unix)]
pub use procfs::{open_fds, proc_parent, proc_state, stat_fields};
pub use reaped::{KillGroup, Reap, Reaped};
#[cfg(target_os = "linux")]
pub use supervised::{
    ends_within, no_core_dumps, pinned, read_pid_file, shell_status, temp_path, Supervised,
    KILL_PATIENCE,
};
#[cfg(target_os = "linux")]
pub use trees::{
    reexec, scope_of, scope_with_grandchild, serial, sh, CgroupCleanup, TreeMark, TREE_MARK_ENV,
};
