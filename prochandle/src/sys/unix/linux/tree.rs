//! The children and descendants of a process, each opened and then checked
//! to still be a child of its parent.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::io;

use super::capabilities;
use super::recheck::{owns_pid, proc_error, still_owns_pid};
use super::Process;
use super::{procfs, syscalls};
use crate::capabilities::Feature;
use crate::error::{Error, ErrorKind, Result};

const OP: &str = "children";

/// The PIDs `/proc` lists as children of `parent`: from every thread's
/// `task/<tid>/children` (`CONFIG_PROC_CHILDREN`), or else by scanning
/// every process's parent PID.
fn child_pids(parent: &Process) -> Result<BTreeSet<i32>> {
    let pid = parent.pid();
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map_err(|e| proc_error(parent, "read /proc/<pid>/task", e))?;
    let mut pids = BTreeSet::new();
    for task in tasks {
        let task = task.map_err(|e| proc_error(parent, "read /proc/<pid>/task", e))?;
        match std::fs::read_to_string(task.path().join("children")) {
            Ok(text) => pids.extend(
                text.split_ascii_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            ),
            // No CONFIG_PROC_CHILDREN: scan instead.
            Err(e) if e.kind() == io::ErrorKind::NotFound && !task.path().exists() => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return scan_for_children(pid as i32),
            Err(e) => {
                return Err(proc_error(
                    parent,
                    "read /proc/<pid>/task/<tid>/children",
                    e,
                ))
            }
        }
    }
    Ok(pids)
}

fn scan_for_children(parent: i32) -> Result<BTreeSet<i32>> {
    let entries = std::fs::read_dir("/proc").map_err(|e| Error::os("read /proc", e))?;
    Ok(entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&p| procfs::read_stat(p).is_ok_and(|s| s.ppid == parent))
        .collect())
}

/// The parent PID of `child`, read in a way that is known to be about
/// `child`: through its pidfd, or from `/proc` followed by the re-check.
fn parent_of(child: &Process) -> Option<i32> {
    if let Some(fd) = child.handle() {
        if capabilities().is_available(Feature::PidfdGetInfo) {
            let info = syscalls::pidfd_get_info(fd, syscalls::PIDFD_INFO_PID).ok()?;
            return Some(info.ppid as i32);
        }
    }
    let stat = procfs::read_stat(child.pid() as i32).ok()?;
    owns_pid(child).then_some(stat.ppid)
}

pub(crate) fn children(parent: &Process) -> Result<Vec<Process>> {
    let pids = child_pids(parent)?;
    still_owns_pid(parent, OP)?;
    let mut out = Vec::with_capacity(pids.len());
    for pid in pids {
        out.extend(open_child(parent, pid as u32)?);
    }
    Ok(out)
}

/// The process `pid`, opened and kept only if it is, now that it is
/// pinned, a child of `parent`, and `parent` still owns its own PID (else
/// the PID compared with could be someone else's). `None` if it is gone
/// (reaped) or is not `parent`'s child.
pub(crate) fn open_child(parent: &Process, pid: u32) -> Result<Option<Process>> {
    let child = match Process::open(pid) {
        Ok(child) => child,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Done) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok((parent_of(&child) == Some(parent.pid() as i32) && owns_pid(parent)).then_some(child))
}

pub(crate) fn descendants(root: &Process) -> Result<Vec<Process>> {
    let mut out: Vec<Process> = Vec::new();
    let mut seen = HashSet::new();
    let mut queue: VecDeque<Process> = children(root)?.into();
    while let Some(process) = queue.pop_front() {
        if !seen.insert(process.pid()) {
            continue;
        }
        match children(&process) {
            Ok(kids) => queue.extend(kids),
            // It exited meanwhile: it still counts, its children moved.
            Err(e) if e.kind() == ErrorKind::Done => {}
            Err(e) => return Err(e),
        }
        out.push(process);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_agrees_with_the_children_files() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let me = Process::current().unwrap();
        let listed = child_pids(&me).unwrap();
        let scanned = scan_for_children(me.pid() as i32).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        // Other tests of this process may start children meanwhile: compare
        // on ours only.
        assert!(listed.contains(&(child.id() as i32)), "{listed:?}");
        assert!(scanned.contains(&(child.id() as i32)), "{scanned:?}");
    }
}
