//! What the command line asks for that only Linux gives, refused before
//! anything is opened: one line naming the command and what it would
//! need, and exit status 1 (the command could not be carried out; the
//! command line itself was fine).

use crate::cli::Command;

/// The line to print if an option of `command` needs what this platform
/// lacks. The commands that are Linux-only as a whole are refused by
/// `commands::plan`, which matches every command, with [`needs`].
pub fn refusal(command: &Command) -> Option<String> {
    let (what, why) = match command {
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
    Some(needs(what, why))
}

/// The line that refuses `what`, which needs `why`.
pub fn needs(what: &str, why: &str) -> String {
    format!(
        "{what}: not available on {}: it needs {why}",
        std::env::consts::OS
    )
}

/// Why matching and tree walks are Linux-only.
pub const PROC: &str = "/proc to find processes by name or parent";
/// Why `getfd` is.
pub const GETFD: &str = "pidfd_getfd(2), a Linux call";
/// Why `nsenter` is.
pub const NAMESPACES: &str = "Linux namespaces";
/// Why `init` is.
pub const INIT: &str = "PID namespaces and PR_SET_CHILD_SUBREAPER";
