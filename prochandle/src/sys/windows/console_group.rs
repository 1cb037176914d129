//! The soft step of a job's stop: a console Ctrl-Break to each process
//! group whose leader the scope started (`ScopeCommandExt::console_group`).
//!
//! What Windows offers and what it costs:
//! - `GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group)` reaches the
//!   processes of `group` that share this process's console. The group's
//!   ID is its leader's PID; a process joins its creator's group unless
//!   it is started with `CREATE_NEW_PROCESS_GROUP`, or outside the console
//!   (`DETACHED_PROCESS`, `CREATE_NEW_CONSOLE`, `CREATE_NO_WINDOW`).
//! - Ctrl-C cannot be sent to a group (only to the whole console), hence
//!   Ctrl-Break. A new group's leader starts with Ctrl-C ignored, which
//!   its descendants inherit, until a program turns it back on
//!   (`SetConsoleCtrlHandler(NULL, FALSE)`).
//! - Without a console of its own (a service, a GUI program, a process
//!   started with no console) the call fails: the group gets no soft
//!   step and is killed at once.
//!
//! The scope holds a handle to each leader, so that a leader's PID, and
//! so its group's ID, names no other process while the scope lives: a
//! member whose parent PID is a leader's is that leader's child.

use std::collections::HashMap;
use std::sync::Mutex;

use windows_sys::Win32::System::Console::{GenerateConsoleCtrlEvent, CTRL_BREAK_EVENT};

use super::toolhelp;
use super::Process;

/// The leaders of the console groups the scope started.
#[derive(Debug, Default)]
pub(super) struct Leaders {
    held: Mutex<Vec<Process>>,
}

impl Leaders {
    /// Records a leader, held until the scope is dropped.
    pub(super) fn add(&self, leader: Process) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.push(leader);
    }

    fn pids(&self) -> Vec<u32> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.iter().map(Process::pid).collect()
    }

    /// A Ctrl-Break to the group of each of `members` (PIDs) that is in a
    /// group the scope started; whether each was sent one the console
    /// accepted. Nothing is sent where no member is in such a group.
    pub(super) fn break_groups(&self, members: &[u32]) -> Vec<bool> {
        let leaders = self.pids();
        if leaders.is_empty() {
            return vec![false; members.len()];
        }
        // Without a snapshot only the leaders themselves are known to be
        // in their groups.
        let parents: HashMap<u32, u32> = toolhelp::processes()
            .map(|all| all.into_iter().map(|p| (p.pid, p.parent_pid)).collect())
            .unwrap_or_default();
        let groups: Vec<Option<u32>> = members
            .iter()
            .map(|&pid| group_of(pid, members, &leaders, &parents))
            .collect();
        let mut accepted: HashMap<u32, bool> = HashMap::new();
        for group in groups.iter().flatten() {
            accepted.entry(*group).or_insert_with(|| ctrl_break(*group));
        }
        groups
            .iter()
            .map(|group| group.is_some_and(|g| accepted[&g]))
            .collect()
    }
}

/// `GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group)`: whether the
/// console took it.
fn ctrl_break(group: u32) -> bool {
    // SAFETY: two integers; the result is checked.
    unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group) != 0 }
}

/// The group `pid` was started in, if it is one the scope started: a
/// leader, or a member whose parent links, through live members, lead to
/// one. A link through a process that has exited is not followed (its PID
/// may name another process by now), nor is a member started outside the
/// console or in a group of its own told apart: Windows does not say.
fn group_of(
    pid: u32,
    members: &[u32],
    leaders: &[u32],
    parents: &HashMap<u32, u32>,
) -> Option<u32> {
    let mut at = pid;
    // At most one step per member: parent links may form a loop when a
    // parent's PID was reused.
    for _ in 0..=members.len() {
        if leaders.contains(&at) {
            return Some(at);
        }
        if !members.contains(&at) {
            return None;
        }
        at = *parents.get(&at)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_in_a_group_through_live_members_only() {
        // 10 leads; 11 is its child, 12 its grandchild; 20 is a member
        // whose parent (21) has exited; 30 and 31 are each other's
        // parents (recycled PIDs).
        let parents: HashMap<u32, u32> =
            [(10, 1), (11, 10), (12, 11), (20, 21), (30, 31), (31, 30)].into();
        let members = [10, 11, 12, 20, 30, 31];
        let group = |pid| group_of(pid, &members, &[10], &parents);
        assert_eq!(group(10), Some(10));
        assert_eq!(group(12), Some(10));
        assert_eq!(group(20), None);
        assert_eq!(group(30), None);
        // A leader that has exited still names its group: its handle keeps
        // its PID from being reused.
        assert_eq!(group_of(11, &[11], &[10], &parents), Some(10));
    }
}
