//! Race-free process handles.
//!
//! A PID is a number the kernel hands out again once a process has been
//! reaped: code that keeps one and later signals or waits on it can hit a
//! stranger. A Linux pidfd or a Windows process `HANDLE` pins one process
//! for good. [`Process`] holds such a handle, uses it for every operation,
//! tells you whether it has one, and lends it out for everything else you
//! may want to do with it. It is Go 1.26's `os.Process` with `WithHandle`
//! (golang/go#70352), done the Rust way.
//!
//! ```
//! # fn main() -> prochandle::Result<()> {
//! # #[cfg(unix)] {
//! use std::process::Command;
//! use prochandle::{Process, Signal};
//!
//! let child = Process::spawn(Command::new("sleep").arg("30"))?;
//! println!("pid {} held by a handle: {}", child.pid(), child.has_handle());
//! child.with_handle(|fd| println!("the pidfd is {fd:?}")).ok();
//! child.signal(Signal::TERM)?;
//! let state = child.wait()?;
//! println!("{state}"); // "killed by SIGTERM"
//! assert!(child.signal(Signal::TERM).unwrap_err().is_done());
//! # }
//! # Ok(()) }
//! ```
//!
//! # Go mapping
//!
//! | Go (`os`) | prochandle |
//! | --- | --- |
//! | `StartProcess` / `exec.Cmd.Start` | [`Process::spawn`], [`Process::from_child`] |
//! | `FindProcess(pid)` | [`Process::open`] (a missing PID is an error of kind [`ErrorKind::NotFound`]; Go returns a process that reports done) |
//! | `(*Process).Pid` | [`Process::pid`] |
//! | `(*Process).Wait` | [`Process::wait`], [`Process::try_wait`], [`Process::wait_timeout`]; non-children too |
//! | `(*Process).Signal` / `Kill` | [`Process::signal`] / [`Process::kill`] |
//! | `(*Process).Release` | [`Process::release`] or `drop` |
//! | `(*Process).WithHandle` | [`Process::with_handle`], and the borrow-checked [`Process::handle`] |
//! | `ErrNoHandle` | [`ErrorKind::NoHandle`] |
//! | `ErrProcessDone` | [`ErrorKind::Done`] |
//! | `ProcessState.Pid`, `Exited`, `Success`, `ExitCode` | [`ProcessState::pid`], [`ProcessState::exited`], [`ProcessState::success`], [`ProcessState::exit_code`] (`None` for Go's `-1`) |
//! | `ProcessState.Sys` (`WaitStatus.Signal`) | [`ProcessState::status`], [`ProcessState::signal`] |
//! | `ProcessState.SysUsage`, `UserTime`, `SystemTime` | [`ProcessState::usage`], [`ProcessState::user_time`], [`ProcessState::system_time`], [`ProcessState::max_rss_bytes`] |
//! | `ProcessState.String` | `Display` for [`ProcessState`] |
//!
//! One deliberate difference: Go's `Wait` closes the pidfd, so `WithHandle`
//! afterwards returns `ErrProcessDone`. Here [`Process::with_handle`] still
//! lends the handle after `wait`: it pins the reaped process, whose exit
//! status the kernel can still report through it.
//!
//! # Semantics
//!
//! | situation | what happens |
//! | --- | --- |
//! | handle available | `with_handle` calls `f` once with a valid handle and returns its result |
//! | no handle (old kernel, seccomp, other OS, `PROCHANDLE_FORCE_PID`) | `with_handle` returns `NoHandle` and never calls `f` |
//! | `open(pid)` of a thread ID (Linux) | `InvalidInput`: "PID N is a thread of process M" |
//! | signal after the process exited or was reaped | `Done`, never a signal to another process |
//! | `open(pid)` of a PID that does not exist | `NotFound` |
//! | `wait` on our child | reaps it once, returns status and resource usage; later waits return the same state |
//! | `wait` on a non-child | waits for exit without reaping; its status where the kernel reports it (Linux 6.15+), else [`ExitStatus::Unknown`] with the reason |
//! | many threads calling `signal`/`wait`/`with_handle` on one `Process` | safe: reaping is serialized, the handle is never closed while borrowed |
//! | drop / `release` | closes the handle exactly once, never reaps, never kills |
//! | `with_handle` after `wait` | still lends the handle |
//! | `from_handle` | takes ownership: the `Process` closes it; a descriptor you keep using must be duplicated first |
//!
//! # Modes
//!
//! [`capabilities()`] probes, once per process and without creating
//! children, what the system offers, and [`Capabilities::pin_mode`] names
//! the tier in use. On Linux 5.4+ a `Process` holds a pidfd. Where pidfds
//! cannot be had (older kernels; container or Android seccomp profiles that
//! answer `ENOSYS`, `EPERM` or `SIGSYS`; or [`FORCE_PID_ENV`] set to `1`)
//! it holds an open `/proc/<pid>` directory: the kernel ties it to the
//! process, so identity checks through it are exact, and signals go
//! through `pidfd_send_signal` on it (Linux 5.1+) or, before that, by
//! `kill` right after the exact check. Where there is no `/proc` (and on
//! macOS and FreeBSD, or with [`FORCE_PID_ENV`] set to `bare`) it falls
//! back to the *guarded-PID mode*: it keeps the PID and the process's start
//! time and re-checks that start time before every signal. Without pidfds,
//! our own children are still safe (reaping and signalling are serialized,
//! and an unreaped child keeps its PID). For other processes the `kill`
//! tiers are best effort: the PID can be reused between the check and the
//! `kill`, and in the guarded-PID mode two processes that start within the
//! same clock tick (10 ms) under the same PID cannot be told apart.
//!
//! # Platforms
//!
//! | platform | handle | wait for a non-child |
//! | --- | --- | --- |
//! | Linux 5.4+ | pidfd | `poll` on the pidfd; exit status on 6.15+ |
//! | Linux < 5.4, seccomp sandboxes | `/proc/<pid>` directory | polling with backoff; status unknown |
//! | Linux without `/proc` | guarded PID | polling with backoff; status unknown |
//! | macOS, FreeBSD | guarded PID | kqueue `EVFILT_PROC`/`NOTE_EXIT`; status unknown |
//! | Windows | process `HANDLE` | `WaitForSingleObject`; exit code and CPU times |

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(all(unix, any(feature = "tokio", feature = "async-io")))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "tokio", feature = "async-io"))))]
pub mod asyncio;
mod backoff;
mod capabilities;
mod control;
mod error;
#[cfg(unix)]
mod fd_limit;
#[cfg(target_os = "linux")]
pub mod linux;
mod mechanism;
mod probe;
mod process;
pub mod relay;
mod scope;
mod signal;
mod state;
mod sys;
pub mod watch;

#[cfg(windows)]
pub mod windows;

pub use capabilities::{
    Availability, Capabilities, Feature, PinMode, FORCE_PID_BARE, FORCE_PID_ENV,
};
pub use error::{Error, ErrorKind, Result};
#[cfg(unix)]
pub use fd_limit::{fd_limit, raise_fd_limit};
pub use probe::{capabilities, handles_available};
pub use process::{BorrowedProcessHandle, OwnedProcessHandle, Process};
pub use scope::{
    ChildStdio, Ending, Measure, Mechanism, MechanismKind, PassedOver, Scope, ScopeCommand,
    ScopeLimits, ScopeOptions, ScopeStats, StopReport, StoppedMember,
};
pub use signal::{ParseSignalError, Signal};
pub use state::{Coredump, CoredumpOwner, ExitStatus, ProcessState, ResourceUsage, UnknownReason};
pub use watch::{AddError, Event, Notice, ScopeEvent, Token, Watcher};
