//! The program's entry point on Linux with glibc: C's `main`, called by
//! glibc's start code, in place of the one std generates around
//! `fn main`.
//!
//! std's start-up is paid by every run (and `run` runs in loops): it
//! finds the main thread's stack guard, for which glibc reads and parses
//! `/proc/self/maps` (a file the kernel writes out line by line, and
//! `sscanf` with its locale machinery, which faults in pages of libc
//! nothing else here touches); maps an alternate signal stack and
//! installs `SIGSEGV` and `SIGBUS` handlers to name a stack overflow;
//! ignores `SIGPIPE` (which `main` puts back at once). That was about
//! 0.15 ms and 400 KiB of resident memory of a run (docs/cli.md, "Fixed
//! costs"). Without it a stack overflow is a plain `SIGSEGV` instead of a
//! message before `SIGABRT`: a crash either way.
//!
//! What of std's start-up matters here is kept:
//! - descriptors 0, 1 and 2 closed at start are opened on `/dev/null`
//!   (as std does), so that no descriptor opened later (a pidfd, a pipe)
//!   takes their place and is written to as output or passed to CMD as
//!   its standard input;
//! - a panic that unwinds (builds with `panic = "unwind"`: tests) ends the
//!   process with status 101, as from std's `main`;
//! - stdout is flushed at the end.
//!
//! `std::env::args_os` works without std's `main`: on glibc, std reads
//! `argc` and `argv` from a function of its own in `.init_array`, which the
//! start code calls before `main`.

use std::ffi::{c_char, c_int};
use std::io::Write as _;

/// What std's `main` returns for a panic that reached it.
const PANICKED: c_int = 101;

/// Called by glibc's start code with the command line (read through
/// `std::env` instead).
#[allow(unsafe_code)]
// SAFETY: the one symbol named `main` in the program (the crate has
// `no_main`), with the signature C's start code calls it with.
#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    if prochandle::linux::open_closed_standard_streams().is_err() {
        // No standard stream to report on: std aborts here too.
        std::process::abort();
    }
    let code = std::panic::catch_unwind(crate::run).map_or(PANICKED, c_int::from);
    // Lines are flushed as they are written; this is for anything else
    // (std flushes at exit the same way, errors ignored).
    let _ = std::io::stdout().flush();
    code
}
