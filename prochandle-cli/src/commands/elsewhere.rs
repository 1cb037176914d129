//! What the command line asks for that only Linux gives, refused before
//! anything is opened: one line naming the command and what it would
//! need, and exit status 1 (the command could not be carried out; the
//! command line itself was fine).

use crate::cli::Command;

/// The line to print if `command` needs what this platform lacks.
pub fn refusal(command: &Command) -> Option<String> {
    let (what, why) = match command {
        Command::List(_) => ("list", PROC),
        Command::Tree { .. } => ("tree", PROC),
        Command::Getfd(_) => ("getfd", "pidfd_getfd(2), a Linux call"),
        Command::Nsenter(_) => ("nsenter", "Linux namespaces"),
        Command::Wait(args) if args.matching => ("wait --match", PROC),
        Command::Kill(args) if args.matching => ("kill --match", PROC),
        Command::Kill(args) if args.tree => ("kill --tree", PROC),
        Command::Kill(args) if args.thread => ("kill --thread", "thread handles (pidfds)"),
        // Windows's job object already ends the tree when prochandle dies.
        Command::Run(args) if args.guardian && cfg!(not(windows)) => {
            ("run --guardian", "a Linux cgroup to kill from outside")
        }
        _ => return None,
    };
    Some(format!(
        "{what}: not available on {}: it needs {why}",
        std::env::consts::OS
    ))
}

/// Why matching and tree walks are Linux-only.
const PROC: &str = "/proc to find processes by name or parent";
