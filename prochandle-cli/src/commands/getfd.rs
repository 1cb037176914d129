//! `prochandle getfd`: takes a descriptor out of another process
//! (`pidfd_getfd`) and runs CMD with it.

use std::os::fd::{OwnedFd, RawFd};
use std::process::{Command, Stdio};

use prochandle::linux::{CommandExt, ProcessExt};

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
    if let Err(err) = hand_over(&mut command, fd, args.as_fd) {
        output::error(format!(
            "getfd: cannot place the descriptor at {}: {err}",
            args.as_fd
        ));
        return exit_codes::CANNOT_PREPARE;
    }
    let child = spawn::spawn(&mut command, "getfd", |_| None);
    // Only the child keeps the descriptor: close our copy.
    drop(command);
    match child {
        Ok(child) => spawn::wait_and_pass_through(&child, "getfd"),
        Err(code) => code,
    }
}

/// Arranges for the child to have `fd` as descriptor `number`; the
/// command keeps it until it is dropped.
fn hand_over(command: &mut Command, fd: OwnedFd, number: RawFd) -> prochandle::Result<()> {
    match number {
        0 => {
            command.stdin(Stdio::from(fd));
        }
        1 => {
            command.stdout(Stdio::from(fd));
        }
        2 => {
            command.stderr(Stdio::from(fd));
        }
        _ => {
            command.pass_fd(fd, number)?;
        }
    }
    Ok(())
}
