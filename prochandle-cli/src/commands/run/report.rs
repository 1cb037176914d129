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
//! The tree is not frozen for the snapshot: a frozen task (cgroup freezer,
//! or `SIGSTOP`) is parked in the freezer's trap, and its `wchan` and
//! system call would show the freezer instead of where it hung. A hung
//! tree rarely changes within the few milliseconds the snapshot takes;
//! one that does is described as each member is found. Elsewhere than
//! Linux only CMD's PID is known to `/proc`-less `run`, and said.

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
pub fn snapshot(plan: &ReportPlan, process: &Process, containment: &Containment) {
    let mut members = vec![describe::member(process)];
    members.extend(containment.leftovers(process).iter().map(describe::member));
    let lines = describe::render(&members, plan.json);
    let written = match &plan.file {
        Some(path) => File::create(path)
            .and_then(|mut file| file.write_all(lines.join("\n").as_bytes()).map(|()| file))
            .and_then(|mut file| file.write_all(b"\n"))
            .map_err(|err| format!("run: cannot write the report to {}: {err}", path.display())),
        None => {
            if !plan.json {
                output::error(format!(
                    "run: timed out; the command's tree ({} process(es)):",
                    members.len()
                ));
            }
            let mut stderr = std::io::stderr().lock();
            for line in &lines {
                let _ = writeln!(stderr, "{line}");
            }
            Ok(())
        }
    };
    if let Err(message) = written {
        output::error(message);
    }
}

#[cfg(target_os = "linux")]
#[path = "report/linux.rs"]
mod describe;

#[cfg(not(target_os = "linux"))]
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

    pub fn render(members: &[Member], json: bool) -> Vec<String> {
        members
            .iter()
            .map(|m| {
                if json {
                    json!({ "pid": m.pid }).to_string()
                } else {
                    format!("  {} (details need Linux's /proc)", m.pid)
                }
            })
            .collect()
    }
}
