//! Personalities: the binary answers to the names of the tools it
//! replaces, with their command lines, output and exit statuses, so that
//! scripts written for them run unchanged. Chosen by the name it is run
//! as (`ln -s prochandle timeout`), by `prochandle timeout|pgrep|pkill|
//! pidwait ARGS`, or by `prochandle as NAME ARGS` (`prochandle kill` is
//! the native command). Inside, everything stays race-free: each process
//! is pinned by a handle before it is signalled or waited for.
//!
//! `timeout` works wherever `run` does; `kill`, `pgrep`, `pkill` and
//! `pidwait` read `/proc` and are Linux's.

#[cfg(target_os = "linux")]
mod act;
#[cfg(target_os = "linux")]
mod criteria;
mod getopt;
#[cfg(target_os = "linux")]
mod kill;
mod links;
#[cfg(target_os = "linux")]
mod pgrep;
#[cfg(target_os = "linux")]
mod pidfile;
mod signals;
mod strtod;
#[cfg(target_os = "linux")]
mod tables;
#[cfg(target_os = "linux")]
mod tasks;
mod timeout;
#[cfg(target_os = "linux")]
mod tool;

use std::ffi::OsString;
use std::path::Path;

pub use links::install;

/// The tools the binary can stand in for.
pub const NAMES: [&str; 5] = ["timeout", "kill", "pgrep", "pkill", "pidwait"];

/// The word after `prochandle` that names a personality whatever comes
/// next (`kill` alone is the native command).
const AS: &str = "as";

/// The program name as typed (`argv[0]`), set when the program runs
/// under a personality's name.
static TYPED: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// The name getopt(3) begins its messages with: `argv[0]` as typed
/// (`/usr/bin/pgrep: invalid option -- 'Z'`), though procps begins its
/// own with the file name alone (`pgrep: no matching criteria`); the
/// personality's name under `prochandle as NAME`.
#[cfg(target_os = "linux")]
fn typed_name() -> &'static str {
    TYPED.get().copied().unwrap_or_else(crate::output::program)
}

/// Runs the personality the command line asks for, if it asks for one:
/// by the program's own name, or `prochandle NAME` / `prochandle as
/// NAME`. `None`: the native command line.
pub fn dispatch(args: &[OsString]) -> Option<u8> {
    let invoked = args.first().and_then(|arg| tool_name(arg));
    if let Some(name) = invoked {
        // Messages begin with the name as the C tool prints it: as typed
        // for timeout and kill (`/usr/bin/kill:`), the file name alone for
        // the pgrep family (`pgrep:`).
        let typed = args[0].to_string_lossy().into_owned();
        let shown = if matches!(name, "timeout" | "kill") {
            typed.clone()
        } else {
            Path::new(&typed)
                .file_name()
                .map_or(typed.clone(), |n| n.to_string_lossy().into_owned())
        };
        let _ = TYPED.set(Box::leak(typed.into_boxed_str()));
        crate::output::set_program(Box::leak(shown.into_boxed_str()));
        return Some(run(name, &args[1..]));
    }
    let word = args.get(1)?.to_str()?;
    if word == AS {
        let name = args.get(2).and_then(|a| a.to_str()).and_then(known);
        return Some(match name {
            Some(name) => run(name, &args[3..]),
            None => {
                crate::output::error(format!("as: name one of {}", NAMES.join(", ")));
                crate::exit_codes::USAGE
            }
        });
    }
    let name = known(word).filter(|&name| name != "kill")?;
    Some(run(name, &args[2..]))
}

/// The personality a program path names (`/usr/local/bin/pgrep`,
/// `timeout.exe`), if any.
fn tool_name(program: &OsString) -> Option<&'static str> {
    let stem = Path::new(program).file_stem()?.to_str()?;
    known(stem)
}

/// `pwait`: pidwait's name before procps 3.3.17, still installed by some
/// systems and used by procps' own test suite.
fn known(word: &str) -> Option<&'static str> {
    if word == "pwait" {
        return Some("pidwait");
    }
    NAMES.iter().copied().find(|&name| name == word)
}

/// Runs one personality; its exit status.
fn run(name: &'static str, args: &[OsString]) -> u8 {
    crate::output::set_program(name);
    let program = crate::output::program();
    match name {
        "timeout" => timeout::main(program, args),
        #[cfg(target_os = "linux")]
        "kill" => kill::main(args),
        #[cfg(target_os = "linux")]
        "pgrep" => pgrep::main(pgrep::Mode::Pgrep, args),
        #[cfg(target_os = "linux")]
        "pkill" => pgrep::main(pgrep::Mode::Pkill, args),
        #[cfg(target_os = "linux")]
        "pidwait" => pgrep::main(pgrep::Mode::Pidwait, args),
        _ => {
            crate::output::error("needs Linux (/proc)");
            crate::exit_codes::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_by_path_and_word() {
        assert_eq!(tool_name(&"/usr/local/bin/pgrep".into()), Some("pgrep"));
        assert_eq!(tool_name(&"timeout.exe".into()), Some("timeout"));
        assert_eq!(tool_name(&"prochandle".into()), None);
        assert_eq!(known("kill"), Some("kill"));
        assert_eq!(known("list"), None);
    }
}
