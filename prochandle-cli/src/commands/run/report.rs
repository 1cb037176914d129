//! `run --report`: what the tree was doing when the timeout ran out,
//! written before any signal is sent, so a CI log says what hung and not
//! only "timed out".
//!
//! Every member is pinned (the scope's handles) and described from
//! `/proc`: identity, parent, state, where it sleeps in the kernel
//! (`wchan`), the system call it is blocked in (`/proc/PID/syscall`, its
//! number; readable by root or the process's owner when ptrace allows),
//! time since it started, CPU time, resident memory and command line, as
//! an indented tree (one JSON object per member with `--json`).
//!
//! The tree is frozen for the snapshot where the mechanism can (the
//! cgroup freezer; `SIGSTOP` sweeps with the subreaper or a process
//! group), so that the list is one instant's: nothing forks or exits
//! while it is read. A frozen task waits in the freezer's trap, so where
//! each member waits (state, `wchan`, system call) is read in a quick
//! pass just before the freeze; a member found only frozen is flagged.
//! The header says whether and how the tree was frozen. On Windows each
//! member of the job is described from a process snapshot and its handle
//! (`report/windows.rs`), not frozen; elsewhere only the PIDs are known,
//! and said.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use prochandle::Process;

use crate::containment::Containment;
use crate::output;

/// Where and how the snapshot is written.
#[derive(Debug, Clone)]
pub struct ReportPlan {
    /// `None`: stderr.
    pub file: Option<PathBuf>,
    pub json: bool,
}

/// Describes CMD's tree and writes it where `plan` says; a failure to
/// write is said on stderr and does not stop the timeout.
///
/// Where each member waits is read first; then the tree is frozen (see
/// `freeze.rs`), listed and described again while it holds still, each
/// member keeping where it waited before the freeze; then thawed, before
/// anything is written (a write may block; the tree must not wait on it).
pub fn snapshot(plan: &ReportPlan, process: &Process, containment: &Containment) {
    let listed = containment.leftovers(process);
    let before: Vec<describe::Waiting> =
        with_cmd(process, &listed).map(describe::waiting).collect();
    let freeze = freeze::Freeze::take(containment);
    let frozen = if freeze.holds() {
        containment.leftovers(process)
    } else {
        listed
    };
    let mut members: Vec<describe::Member> =
        with_cmd(process, &frozen).map(describe::member).collect();
    for member in &mut members {
        member.waits_as(&before, freeze.holds());
    }
    if let Some(message) = freeze.thaw() {
        output::error(message);
    }
    let header = if plan.json {
        let mut header = serde_json::json!({
            "report": "timed out",
            "members": members.len(),
        });
        if let (Some(fields), serde_json::Value::Object(more)) =
            (header.as_object_mut(), freeze.json())
        {
            fields.extend(more);
        }
        header.to_string()
    } else {
        format!(
            "run: timed out; the command's tree ({} process(es)), {}:",
            members.len(),
            freeze.words()
        )
    };
    write(plan, &header, &describe::render(&members, plan.json));
}

/// CMD, then the other members listed.
fn with_cmd<'a>(process: &'a Process, rest: &'a [Process]) -> impl Iterator<Item = &'a Process> {
    std::iter::once(process).chain(rest)
}

/// The header then the members: to the file, else to stderr (the text
/// header as one of prochandle's own lines).
fn write(plan: &ReportPlan, header: &str, lines: &[String]) {
    let written = match &plan.file {
        Some(path) => File::create(path)
            .and_then(|mut file| {
                writeln!(file, "{header}")?;
                lines.iter().try_for_each(|line| writeln!(file, "{line}"))
            })
            .map_err(|err| format!("run: cannot write the report to {}: {err}", path.display())),
        None => {
            if plan.json {
                eprintln!("{header}");
            } else {
                output::error(header);
            }
            let mut stderr = std::io::stderr().lock();
            for line in lines {
                let _ = writeln!(stderr, "{line}");
            }
            Ok(())
        }
    };
    if let Err(message) = written {
        output::error(message);
    }
}

mod freeze;

#[cfg(target_os = "linux")]
#[path = "report/linux.rs"]
mod describe;

#[cfg(windows)]
#[path = "report/windows.rs"]
mod describe;

#[cfg(any(target_os = "linux", windows))]
mod tree;

#[cfg(not(any(target_os = "linux", windows)))]
mod describe {
    //! Without `/proc`: the PIDs, and the members' count.
    use prochandle::Process;
    use serde_json::json;

    pub struct Member {
        pid: u32,
    }

    pub fn member(process: &Process) -> Member {
        Member { pid: process.pid() }
    }

    /// Nothing of where a member waits is known here.
    pub struct Waiting;

    pub fn waiting(_process: &Process) -> Waiting {
        Waiting
    }

    impl Member {
        pub fn waits_as(&mut self, _before: &[Waiting], _frozen: bool) {}
    }

    pub fn render(members: &[Member], json: bool) -> Vec<String> {
        members
            .iter()
            .map(|m| {
                if json {
                    json!({ "pid": m.pid }).to_string()
                } else {
                    format!("  {} (details need Linux's /proc or Windows)", m.pid)
                }
            })
            .collect()
    }
}
