//! `prochandle getfd`: takes a descriptor out of another process
//! (`pidfd_getfd`) and runs CMD with it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};

use prochandle::linux::ProcessExt;

use super::spawn;
use crate::cli::GetfdArgs;
use crate::exit_codes;
use crate::output::{self, Action};

pub fn run(args: GetfdArgs) -> u8 {
    if args.fd < 0 || args.as_fd < 0 {
        output::error(format!(
            "getfd: descriptor numbers must be 0 or more (FD {}, --as {})",
            args.fd, args.as_fd
        ));
        return exit_codes::USAGE;
    }
    let process = match args.target.open(Action::Getfd) {
        Ok(process) => process,
        Err(message) => {
            output::error(message);
            return exit_codes::CANNOT_PREPARE;
        }
    };
    let fd = match process.get_fd(args.fd) {
        Ok(fd) => fd,
        Err(err) => {
            output::error(output::describe(&args.target, Action::Getfd, &err));
            return exit_codes::CANNOT_PREPARE;
        }
    };
    drop(process);
    let mut command = spawn::command(&args.command);
    let kept = match hand_over(&mut command, fd, args.as_fd) {
        Ok(kept) => kept,
        Err(err) => {
            output::error(format!(
                "getfd: cannot place the descriptor at {}: {err}",
                args.as_fd
            ));
            return exit_codes::CANNOT_PREPARE;
        }
    };
    let child = spawn::spawn(&mut command, "getfd", |_| None);
    // Only the child keeps the descriptor: close our copies.
    drop(command);
    drop(kept);
    match child {
        Ok(child) => spawn::wait_and_pass_through(&child, "getfd"),
        Err(code) => code,
    }
}

/// Arranges for the child to have `fd` as descriptor `number`. Returns
/// the descriptor the caller must keep open until the spawn, if any.
fn hand_over(command: &mut Command, fd: OwnedFd, number: RawFd) -> io::Result<Option<OwnedFd>> {
    match number {
        0 => {
            command.stdin(Stdio::from(fd));
            Ok(None)
        }
        1 => {
            command.stdout(Stdio::from(fd));
            Ok(None)
        }
        2 => {
            command.stderr(Stdio::from(fd));
            Ok(None)
        }
        _ => {
            let fd = reserve(fd, number)?;
            let raw = fd.as_raw_fd();
            // SAFETY: runs in the child between fork and exec; dup2 and
            // fcntl are async-signal-safe, and nothing is allocated.
            unsafe {
                command.pre_exec(move || {
                    let rc = if raw == number {
                        // Already in place: only let it survive exec.
                        libc::fcntl(raw, libc::F_SETFD, 0)
                    } else {
                        // dup2 leaves the new descriptor without close-on-exec.
                        libc::dup2(raw, number)
                    };
                    if rc < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            Ok(Some(fd))
        }
    }
}

/// Moves `fd` to descriptor `number` in this process (close-on-exec) if
/// that slot is free, so that nothing std opens for the spawn (its exec
/// status pipe) can take the number the child needs.
fn reserve(fd: OwnedFd, number: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_GETFD only reads the flags of a descriptor number; a
    // closed one gives EBADF.
    let open = unsafe { libc::fcntl(number, libc::F_GETFD) } >= 0;
    if open {
        return Ok(fd);
    }
    // SAFETY: `fd` is a valid open descriptor and `number` is free (checked
    // above; this process is single-threaded here, nothing else opens).
    let placed = unsafe { libc::dup3(fd.as_raw_fd(), number, libc::O_CLOEXEC) };
    if placed < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: dup3 returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(placed) })
}
