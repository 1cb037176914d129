//! `prochandle nsenter`: runs CMD in a process's namespaces, joined through
//! its pidfd (`setns(pidfd, flags)`: all at once, Linux 5.8+).

use std::io;

use prochandle::linux::{CommandExt as _, Namespaces};

use super::spawn;
use crate::cli::NsenterArgs;
use crate::exit_codes;
use crate::output::{self, Action};
use crate::target::Target;

pub fn run(args: NsenterArgs) -> u8 {
    let namespaces = chosen(&args);
    if namespaces.is_empty() {
        output::error(
            "nsenter: choose namespaces: --mount, --net, --uts, --ipc, --pid, --user, --cgroup, --time or --all",
        );
        return exit_codes::USAGE;
    }
    let target = &args.target;
    let process = match target.open(Action::Nsenter) {
        Ok(process) => process,
        Err(message) => {
            output::error(message);
            return exit_codes::CANNOT_PREPARE;
        }
    };
    let mut command = spawn::command(&args.command);
    if let Err(err) = command.join_namespaces(&process, namespaces) {
        output::error(output::describe(target, Action::Nsenter, &err));
        return exit_codes::CANNOT_PREPARE;
    }
    let child = spawn::spawn(&mut command, "nsenter", |err| join_failure(target, err));
    drop(process);
    match child {
        Ok(child) => spawn::wait_and_pass_through(&child, "nsenter"),
        Err(code) => code,
    }
}

/// The line to print if `err`, from spawning CMD, is the join's failure.
///
/// `setns` runs in the child between fork and exec, so its failure comes
/// back from spawn as a bare errno: that is all the child can pass back
/// before exec. Exec's own failures (`ENOENT`, `EACCES`) mean CMD (127,
/// 126); these errnos are the ones setns(2) gives.
fn join_failure(target: &Target, err: &io::Error) -> Option<String> {
    let cause = match err.raw_os_error()? {
        libc::EPERM => output::denied(Action::Nsenter, "setns", err),
        libc::ESRCH => "gone: the process exited before CMD started".to_owned(),
        libc::EINVAL => format!(
            "setns refused the namespaces ({err}): a namespace this kernel lacks, \
             or a user namespace that cannot be joined"
        ),
        _ => return None,
    };
    Some(format!("{} {target}: {cause}", Action::Nsenter))
}

fn chosen(args: &NsenterArgs) -> Namespaces {
    if args.all {
        return Namespaces::all();
    }
    let mut namespaces = Namespaces::empty();
    for (wanted, kind) in [
        (args.mount, Namespaces::MOUNT),
        (args.net, Namespaces::NET),
        (args.uts, Namespaces::UTS),
        (args.ipc, Namespaces::IPC),
        (args.pid, Namespaces::PID),
        (args.user, Namespaces::USER),
        (args.cgroup, Namespaces::CGROUP),
        (args.time, Namespaces::TIME),
    ] {
        if wanted {
            namespaces |= kind;
        }
    }
    namespaces
}
