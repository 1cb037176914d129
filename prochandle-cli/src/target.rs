//! TARGET arguments: a PID, or (Linux) an identity that names one process
//! for the whole boot (`PID:INODE` as util-linux `kill` and systemd print
//! it, or `PID@TICKS:BOOT-ID`, the form without pidfs), or (Windows)
//! `PID@CREATED`, the PID with its process's creation time. Elsewhere a
//! TARGET is a PID: the process is pinned from the moment it is opened
//! (the guarded PID), but there is no identity to check that it is the
//! one the user saw earlier.
//!
//! Above `output` (its messages and JSON take a `Target` as a
//! [`Subject`]), below the command line and the commands.

use std::fmt;
use std::str::FromStr;

#[cfg(target_os = "linux")]
use prochandle::linux::ProcessId;
#[cfg(target_os = "linux")]
use prochandle::ErrorKind;
use prochandle::Process;

use crate::output::{self, Action, Subject};

/// One TARGET as given on the command line.
#[derive(Clone, Debug)]
pub struct Target {
    text: String,
    kind: TargetKind,
}

#[derive(Clone, Copy, Debug)]
enum TargetKind {
    Pid(u32),
    #[cfg(target_os = "linux")]
    Identity(ProcessId),
    #[cfg(windows)]
    Created(created::Created),
}

#[cfg(windows)]
mod created;

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Target, String> {
        if let Some(path) = text.strip_prefix('@') {
            return from_pidfile(text, path);
        }
        let kind = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            match text.parse::<u32>() {
                Ok(pid) if pid > 0 && pid <= i32::MAX as u32 => TargetKind::Pid(pid),
                _ => return Err(format!("bad target {text:?}: PID out of range")),
            }
        } else {
            identity(text)?
        };
        Ok(Target {
            text: text.to_owned(),
            kind,
        })
    }
}

/// `@FILE`: the one PID or identity FILE holds (a pidfile, as `run
/// --pidfile` writes it). Read when the command line is read; the process
/// is opened, and an identity checked, only when the target is acted on,
/// so a stale file (its process gone, its PID recycled) is reported as
/// gone like any identity.
fn from_pidfile(text: &str, path: &str) -> Result<Target, String> {
    let contents = std::fs::read_to_string(path)
        .map_err(|err| format!("bad target {text:?}: cannot read the pidfile: {err}"))?;
    let inner = contents.trim();
    if inner.starts_with('@') || inner.lines().count() != 1 {
        return Err(format!(
            "bad target {text:?}: the pidfile must hold one PID or identity"
        ));
    }
    let target: Target = inner
        .parse()
        .map_err(|err: String| format!("{err} (in {text})"))?;
    Ok(Target {
        text: format!("{text} ({inner})"),
        kind: target.kind,
    })
}

#[cfg(target_os = "linux")]
fn identity(text: &str) -> Result<TargetKind, String> {
    text.parse()
        .map(TargetKind::Identity)
        .map_err(|_| format!("bad target {text:?}: expected a PID, PID:INODE or PID@TICKS:BOOT-ID"))
}

#[cfg(windows)]
fn identity(text: &str) -> Result<TargetKind, String> {
    text.parse()
        .map(TargetKind::Created)
        .map_err(|()| format!("bad target {text:?}: expected a PID or PID@CREATED"))
}

#[cfg(not(any(target_os = "linux", windows)))]
fn identity(text: &str) -> Result<TargetKind, String> {
    Err(format!(
        "bad target {text:?}: expected a PID (identities are Linux's)"
    ))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Target {
    /// The target naming an opened process: its identity where it has one
    /// (so that messages name exactly this process), else its PID.
    #[cfg(target_os = "linux")]
    pub fn of_process(process: &Process) -> Target {
        use prochandle::linux::ProcessExt;
        match process.identity() {
            Ok(id) => Target {
                text: id.to_string(),
                kind: TargetKind::Identity(id),
            },
            Err(_) => Target {
                text: process.pid().to_string(),
                kind: TargetKind::Pid(process.pid()),
            },
        }
    }

    /// The target naming an opened process: its PID and creation time
    /// where they can be read, else its PID.
    #[cfg(windows)]
    pub fn of_process(process: &Process) -> Target {
        let kind = created::Created::of(process)
            .map_or(TargetKind::Pid(process.pid()), TargetKind::Created);
        let text = match kind {
            TargetKind::Created(id) => id.to_string(),
            TargetKind::Pid(pid) => pid.to_string(),
        };
        Target { text, kind }
    }

    /// The PID part.
    pub fn pid(&self) -> u32 {
        match self.kind {
            TargetKind::Pid(pid) => pid,
            #[cfg(target_os = "linux")]
            TargetKind::Identity(id) => id.pid(),
            #[cfg(windows)]
            TargetKind::Created(id) => id.pid,
        }
    }

    /// Opens the process. An identity is checked to still name the same
    /// process: if its PID has been given to another process, the target
    /// is reported as gone and nothing is opened. The error is one line,
    /// naming the target and the cause, without the `prochandle:` prefix.
    pub fn open(&self, action: Action) -> Result<Process, String> {
        self.open_counted(action).map_err(|failure| failure.message)
    }

    /// Like [`open`](Target::open), also telling whether it failed for
    /// lack of file descriptors (so that a command opening thousands of
    /// targets can stop and say so once).
    pub fn open_counted(&self, action: Action) -> Result<Process, OpenFailure> {
        #[cfg(target_os = "linux")]
        if let TargetKind::Pid(tid) = self.kind {
            // A thread ID is not a process: pidfd_open refuses it, but
            // kill(2) in the guarded-PID mode would signal its whole
            // process. Refused here in both modes, saying whose it is.
            if let Some(tgid) = thread_group(tid).filter(|&tgid| tgid != tid) {
                return Err(OpenFailure {
                    message: thread_message(action, self, tid, tgid),
                    out_of_descriptors: None,
                });
            }
        }
        let opened = match self.kind {
            TargetKind::Pid(pid) => Process::open(pid),
            #[cfg(target_os = "linux")]
            TargetKind::Identity(id) => id.open(),
            #[cfg(windows)]
            TargetKind::Created(id) => {
                return id.open().map_err(|gone| OpenFailure {
                    message: self.gone_message(action, id.pid, gone),
                    out_of_descriptors: None,
                })
            }
        };
        opened.map_err(|e| OpenFailure {
            out_of_descriptors: e
                .raw_os_error()
                .filter(|&errno| is_out_of_descriptors(errno)),
            message: self.open_error(action, &e),
        })
    }

    /// The line for a failed open: on Linux, a recycled identity and a
    /// thread ID are told apart from a process that is simply gone.
    fn open_error(&self, action: Action, e: &prochandle::Error) -> String {
        #[cfg(target_os = "linux")]
        match (self.kind, e.kind()) {
            (TargetKind::Identity(id), ErrorKind::NotFound) if pid_exists(id.pid()) => {
                return format!(
                    "{action} {self}: gone: identity mismatch, PID {} now belongs to another process (nothing done to it)",
                    id.pid()
                )
            }
            (TargetKind::Identity(_), ErrorKind::NotFound) => {
                return format!("{action} {self}: gone: no such process")
            }
            (TargetKind::Pid(tid), _) if thread_group(tid).is_some_and(|g| g != tid) => {
                return thread_message(action, self, tid, thread_group(tid).unwrap_or(tid))
            }
            _ => {}
        }
        output::describe(self, action, e)
    }
}

#[cfg(windows)]
impl Target {
    /// The line for a `PID@CREATED` that opened nothing: a recycled PID
    /// is told apart from a process that is simply gone, as on Linux.
    fn gone_message(&self, action: Action, pid: u32, gone: created::Gone) -> String {
        match gone {
            created::Gone::NoProcess => format!("{action} {self}: gone: no such process"),
            created::Gone::Recycled => format!(
                "{action} {self}: gone: identity mismatch, PID {pid} now belongs to another process (nothing done to it)"
            ),
            created::Gone::Failed(e) => output::describe(self, action, &e),
        }
    }
}

/// Whether an open failed because this process (`EMFILE`) or the system
/// (`ENFILE`) ran out of descriptors. Windows has no such limit on handles.
fn is_out_of_descriptors(errno: i32) -> bool {
    #[cfg(unix)]
    return errno == libc::EMFILE || errno == libc::ENFILE;
    #[cfg(not(unix))]
    {
        let _ = errno;
        false
    }
}

impl Subject for Target {
    fn pid(&self) -> u32 {
        Target::pid(self)
    }
}

/// Why [`Target::open_counted`] failed.
pub struct OpenFailure {
    /// One line naming the target and the cause.
    pub message: String,
    /// `Some(errno)` if this process ran out of descriptors (`EMFILE`), or
    /// the whole system did (`ENFILE`).
    pub out_of_descriptors: Option<i32>,
}

#[cfg(target_os = "linux")]
fn thread_message(action: Action, target: &Target, tid: u32, tgid: u32) -> String {
    format!(
        "{action} {target}: {tid} is a thread of process {tgid}, not a process: name the \
         process as {tgid}, or signal this thread alone with `prochandle kill --thread {tid}`"
    )
}

/// The process (thread group) that thread `tid` belongs to, from the
/// `Tgid:` line of `/proc/<tid>/status` (a thread's directory is there
/// even though `/proc` does not list it).
#[cfg(target_os = "linux")]
pub fn thread_group(tid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Tgid:"))?
        .trim()
        .parse()
        .ok()
}

#[cfg(target_os = "linux")]
fn pid_exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pid() {
        assert_eq!("42".parse::<Target>().unwrap().pid(), 42);
        assert_eq!("42".parse::<Target>().unwrap().to_string(), "42");
    }

    #[test]
    #[cfg(not(any(target_os = "linux", windows)))]
    fn identities_are_linux_only() {
        let err = "42:1234".parse::<Target>().unwrap_err();
        assert!(err.contains("expected a PID"), "{err}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn forms() {
        assert_eq!("42".parse::<Target>().unwrap().pid(), 42);
        assert_eq!("42:1234".parse::<Target>().unwrap().pid(), 42);
        let start = "42@100:0f0e0d0c-0b0a-0908-0706-050403020100";
        assert_eq!(start.parse::<Target>().unwrap().pid(), 42);
        assert_eq!("42:1234".parse::<Target>().unwrap().to_string(), "42:1234");
    }

    #[test]
    fn pidfiles() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("prochandle-target-{}.pid", std::process::id()));
        std::fs::write(&path, "42\n").unwrap();
        let text = format!("@{}", path.display());
        let target: Target = text.parse().unwrap();
        assert_eq!(target.pid(), 42);
        assert_eq!(target.to_string(), format!("{text} (42)"));
        std::fs::write(&path, "42\n43\n").unwrap();
        assert!(text.parse::<Target>().unwrap_err().contains("one PID"));
        std::fs::remove_file(&path).unwrap();
        let err = text.parse::<Target>().unwrap_err();
        assert!(err.contains("cannot read the pidfile"), "{err}");
    }

    #[test]
    fn bad_targets() {
        for bad in [
            "",
            "0",
            "-1",
            "abc",
            "42:",
            ":5",
            "42:x",
            "99999999999",
            "2147483648",
        ] {
            let err = bad.parse::<Target>().unwrap_err();
            assert!(err.starts_with("bad target"), "{bad}: {err}");
        }
    }
}
