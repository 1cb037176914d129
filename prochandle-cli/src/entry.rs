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
    open_closed_standard_descriptors();
    let code = std::panic::catch_unwind(crate::run).map_or(PANICKED, c_int::from);
    // Lines are flushed as they are written; this is for anything else
    // (std flushes at exit the same way, errors ignored).
    let _ = std::io::stdout().flush();
    code
}

/// Opens `/dev/null` on each of descriptors 0-2 that is closed, lowest
/// first (`open` takes the lowest free number), as std does before `main`.
#[allow(unsafe_code)]
fn open_closed_standard_descriptors() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd for the whole call; a
    // zero timeout only reports, it does not wait.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    for pollfd in &fds {
        let closed = if polled >= 0 {
            pollfd.revents & libc::POLLNVAL != 0
        } else {
            // poll itself failed (out of memory): ask for each one.
            // SAFETY: F_GETFD reads the descriptor's flags, nothing else.
            let flags = unsafe { libc::fcntl(pollfd.fd, libc::F_GETFD) };
            flags == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
        };
        // SAFETY: a NUL-terminated path; the descriptor is left open on
        // purpose, as the process's standard stream.
        if closed && unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) } == -1 {
            // No standard stream to report on: std aborts here too.
            std::process::abort();
        }
    }
}
