//! What `/proc` says about processes and descriptors.

/// The number of descriptors this process has open. The directory's own
/// descriptor is counted too; it is the same every time, so comparisons
/// are unaffected.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// The open descriptors of process `pid` (a number, or `self`), with what
/// each points to. Empty if they cannot be read.
pub fn fd_links(pid: &str) -> Vec<(i32, String)> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| {
            let fd = entry.file_name().to_string_lossy().parse::<i32>().ok()?;
            let target = std::fs::read_link(entry.path())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            Some((fd, target))
        })
        .collect()
}

/// Whether a `/proc/<pid>/fd` link target is a pidfd (`anon_inode:[pidfd]`
/// before pidfs, `pidfd:[ino]` with it).
pub fn is_pidfd_link(target: &str) -> bool {
    target.contains("pidfd")
}

/// The state letter of `/proc/<pid>/stat` (`Z` for a zombie); `None` once
/// the process is gone.
pub fn proc_state(pid: u32) -> Option<char> {
    stat_fields(pid)?.first()?.chars().next()
}

/// The parent PID in `/proc/<pid>/stat`; `None` once the process is gone.
pub fn proc_parent(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// The fields of `/proc/<pid>/stat` after the command name (index 0 is
/// the state, 1 the parent, 3 the session, 19 the start time); `None` once
/// the process is gone. The name, in parentheses, may itself hold ") ":
/// the fields follow the last one.
pub fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    Some(after.split_whitespace().map(str::to_owned).collect())
}
