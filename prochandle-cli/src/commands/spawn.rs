//! Starting CMD for `run`, `getfd` and `nsenter`, and turning its end into
//! our exit status, as `timeout(1)`, `env(1)` and `nsenter(1)` do.

use std::ffi::OsString;
use std::io;
use std::process::{Child, Command};

use prochandle::{Process, ProcessState};

use crate::exit_codes;
use crate::output::{self, Exit};

/// A `Command` from `CMD...` (clap guarantees at least one word).
pub fn command(words: &[OsString]) -> Command {
    let mut command = Command::new(&words[0]);
    command.args(&words[1..]);
    command
}

/// Spawns `command` and holds it by its handle. On failure prints one line
/// and returns the exit code: 127 if CMD was not found, 126 if it could not
/// be executed, 125 if `setup_error` recognises the error as a failure of
/// prochandle's own set-up in the child (a `setns`, a `dup2`) and gives
/// the line to print (without the `prochandle:` prefix).
#[cfg(target_os = "linux")]
pub fn spawn(
    command: &mut Command,
    name: &str,
    setup_error: impl Fn(&io::Error) -> Option<String>,
) -> Result<Process, u8> {
    spawn_with(command, name, setup_error, Command::spawn)
}

/// [`spawn`], with `start` doing the spawning.
#[cfg(target_os = "linux")]
pub fn spawn_with(
    command: &mut Command,
    name: &str,
    setup_error: impl Fn(&io::Error) -> Option<String>,
    start: impl FnOnce(&mut Command) -> io::Result<Child>,
) -> Result<Process, u8> {
    let cannot_run =
        |program: &str, err: &io::Error| format!("{name}: cannot run {program:?}: {err}");
    spawn_saying(command, name, cannot_run, setup_error, start)
}

/// `spawn_with`, with `cannot_run` wording the line for a CMD that could
/// not be started (from its name and the error); `name` (which may be
/// empty) begins the other lines.
pub fn spawn_saying(
    command: &mut Command,
    name: &str,
    cannot_run: impl Fn(&str, &io::Error) -> String,
    setup_error: impl Fn(&io::Error) -> Option<String>,
    start: impl FnOnce(&mut Command) -> io::Result<Child>,
) -> Result<Process, u8> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = match start(command) {
        Ok(child) => child,
        Err(err) => return Err(failed(&err, &program, cannot_run, setup_error)),
    };
    // Our own unreaped child keeps its PID, so this is race-free.
    Process::from_child(&child).map_err(|err| {
        let prefix = said_by(name);
        output::error(format!("{prefix}cannot hold {program:?}: {err}"));
        let _ = child.kill();
        let _ = child.wait();
        exit_codes::CANNOT_PREPARE
    })
}

/// The start of a line that `name` says: `"NAME: "`, or nothing for an
/// empty name (a personality that speaks without one).
pub fn said_by(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!("{name}: ")
    }
}

/// Says why `program` could not be started and returns the exit code:
/// 125 if `setup_error` recognises a failure of prochandle's own set-up
/// (and words it), else 127 if it was not found, 126 if it could not be
/// executed, worded by `cannot_run`.
pub fn failed(
    err: &io::Error,
    program: &str,
    cannot_run: impl Fn(&str, &io::Error) -> String,
    setup_error: impl Fn(&io::Error) -> Option<String>,
) -> u8 {
    if let Some(message) = setup_error(err) {
        output::error(message);
        return exit_codes::CANNOT_PREPARE;
    }
    output::error(cannot_run(program, err));
    if err.kind() == io::ErrorKind::NotFound {
        exit_codes::NOT_FOUND
    } else {
        exit_codes::CANNOT_EXECUTE
    }
}

/// Waits for CMD and returns its status as a shell would: the exit code,
/// or 128+N for signal N.
#[cfg(target_os = "linux")]
pub fn wait_and_pass_through(process: &Process, name: &str) -> u8 {
    match process.wait() {
        Ok(state) => pass_through(&state),
        Err(err) => {
            output::error(format!("{name}: waiting for the command failed: {err}"));
            exit_codes::CANNOT_PREPARE
        }
    }
}

/// The shell's exit status for a finished command.
pub fn pass_through(state: &ProcessState) -> u8 {
    match Exit::of(state) {
        Exit::Exited(code) => (code & 0xff) as u8,
        Exit::Killed { signal, .. } => exit_codes::for_signal(signal),
        Exit::Unknown(_) => exit_codes::STATUS_UNKNOWN,
    }
}
