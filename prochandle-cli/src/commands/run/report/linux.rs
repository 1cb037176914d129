//! One member of the tree, read from `/proc` while it is pinned: each
//! value read by PID is kept only if the handle shows the process alive
//! afterwards (a PID is not reused while its process is unreaped).

use std::time::Duration;

use prochandle::linux::ProcessExt as _;
use prochandle::Process;
use serde_json::{json, Map, Value};

pub use super::tree::render;
use super::tree::{Basics, Described};
use crate::target::Target;

/// What the report says of one member.
pub struct Member {
    basics: Basics,
    state: Option<char>,
    wchan: Option<String>,
    syscall: Option<String>,
    /// State, `wchan` and system call were read while it was frozen (it
    /// was not seen before the freeze): they may show the freezer.
    read_frozen: bool,
}

/// Where one member waits, read in a quick pass before the freeze: a
/// frozen task waits in the freezer's trap, not where it hung.
pub struct Waiting {
    identity: String,
    state: Option<char>,
    wchan: Option<String>,
    syscall: Option<String>,
}

pub fn waiting(process: &Process) -> Waiting {
    let pid = process.pid();
    let read = |name: &str| std::fs::read_to_string(format!("/proc/{pid}/{name}")).ok();
    let state = read("stat").and_then(|stat| {
        let after = stat.rfind(')')?;
        stat[after + 1..].trim_start().chars().next()
    });
    let mut waiting = Waiting {
        identity: Target::of_process(process).to_string(),
        state,
        wchan: read("wchan").filter(|w| !w.is_empty() && w != "0"),
        syscall: read("syscall").map(|s| syscall_of(s.trim())),
    };
    // Read by PID: kept only if the pinned process still owns it.
    if process.has_exited().unwrap_or(true) {
        waiting = Waiting {
            state: None,
            wchan: None,
            syscall: None,
            ..waiting
        };
    }
    waiting
}

impl Member {
    /// Takes where it waits from the pass before the freeze; one not seen
    /// there keeps what it showed frozen, flagged when it was (`frozen`).
    pub fn waits_as(&mut self, before: &[Waiting], frozen: bool) {
        match before.iter().find(|w| w.identity == self.basics.identity) {
            Some(w) if w.state.is_some() => {
                self.state = w.state;
                self.wchan = w.wchan.clone();
                self.syscall = w.syscall.clone();
            }
            _ => self.read_frozen = frozen,
        }
    }
}

pub fn member(process: &Process) -> Member {
    let pid = process.pid();
    let info = process.info().ok();
    let read = |name: &str| std::fs::read_to_string(format!("/proc/{pid}/{name}")).ok();
    let stat = read("stat");
    let status = read("status");
    let mut member = Member {
        state: info.as_ref().and_then(|i| i.state),
        wchan: read("wchan").filter(|w| !w.is_empty() && w != "0"),
        syscall: read("syscall").map(|s| syscall_of(s.trim())),
        basics: Basics {
            pid,
            ppid: info.as_ref().and_then(|i| i.ppid),
            identity: Target::of_process(process).to_string(),
            age: info
                .as_ref()
                .and_then(|i| i.start_time)
                .zip(uptime())
                .and_then(|(start, now)| now.checked_sub(start)),
            cpu: stat.as_deref().and_then(cpu_time),
            rss_kib: status.as_deref().and_then(rss_kib),
            command: info
                .and_then(|i| i.cmdline)
                .map(|words| {
                    let words: Vec<_> = words.iter().map(|w| w.to_string_lossy()).collect();
                    words.join(" ")
                })
                .unwrap_or_default(),
        },
        read_frozen: false,
    };
    // Read by PID: kept only if the pinned process still owns it.
    if process.has_exited().unwrap_or(true) {
        member.wchan = None;
        member.syscall = None;
        member.basics.cpu = None;
        member.basics.rss_kib = None;
    }
    member
}

/// `/proc/PID/syscall`: `running`, or the number and its arguments.
fn syscall_of(text: &str) -> String {
    match text.split_whitespace().next() {
        Some("-1") => "none (not in a system call)".to_owned(),
        Some(first) if first.bytes().all(|b| b.is_ascii_digit()) => {
            match first.parse().ok().and_then(syscall_name) {
                Some(name) => format!("{name}(#{first})"),
                None => format!("#{first}"),
            }
        }
        Some(word) => word.to_owned(),
        None => "?".to_owned(),
    }
}

/// The system calls a hung process is usually blocked in, by number
/// (the kernel's tables for this architecture); `None` for the rest.
fn syscall_name(number: u32) -> Option<&'static str> {
    #[cfg(target_arch = "x86_64")]
    const NAMES: &[(u32, &str)] = &[
        (0, "read"),
        (1, "write"),
        (7, "poll"),
        (23, "select"),
        (34, "pause"),
        (35, "nanosleep"),
        (43, "accept"),
        (45, "recvfrom"),
        (47, "recvmsg"),
        (61, "wait4"),
        (73, "flock"),
        (130, "rt_sigsuspend"),
        (202, "futex"),
        (230, "clock_nanosleep"),
        (232, "epoll_wait"),
        (247, "waitid"),
        (270, "pselect6"),
        (271, "ppoll"),
        (281, "epoll_pwait"),
        (288, "accept4"),
    ];
    #[cfg(target_arch = "aarch64")]
    const NAMES: &[(u32, &str)] = &[
        (22, "epoll_pwait"),
        (32, "flock"),
        (63, "read"),
        (64, "write"),
        (72, "pselect6"),
        (73, "ppoll"),
        (95, "waitid"),
        (98, "futex"),
        (101, "nanosleep"),
        (115, "clock_nanosleep"),
        (133, "rt_sigsuspend"),
        (202, "accept"),
        (207, "recvfrom"),
        (212, "recvmsg"),
        (242, "accept4"),
        (260, "wait4"),
    ];
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    const NAMES: &[(u32, &str)] = &[];
    NAMES
        .iter()
        .find(|(n, _)| *n == number)
        .map(|&(_, name)| name)
}

/// User plus system time from `/proc/PID/stat`, in clock ticks (`/proc`
/// counts in USER_HZ, 100 on every Linux ABI).
fn cpu_time(stat: &str) -> Option<Duration> {
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    line.split_whitespace().next()?.parse().ok()
}

fn uptime() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    Duration::try_from_secs_f64(text.split_whitespace().next()?.parse().ok()?).ok()
}

fn state_word(state: Option<char>) -> &'static str {
    match state {
        Some('R') => "running",
        Some('S') => "sleeping",
        Some('D') => "uninterruptible",
        Some('T') | Some('t') => "stopped",
        Some('Z') => "zombie",
        Some('I') => "idle",
        _ => "unknown",
    }
}

/// Where it waits (state, `wchan`, system call), between the identity and
/// the times.
impl Described for Member {
    fn basics(&self) -> &Basics {
        &self.basics
    }

    fn own_text(&self) -> String {
        format!(
            " {}{} wchan={} syscall={}",
            state_word(self.state),
            if self.read_frozen {
                " (read frozen)"
            } else {
                ""
            },
            self.wchan.as_deref().unwrap_or("?"),
            self.syscall.as_deref().unwrap_or("?"),
        )
    }

    fn own_json(&self, object: &mut Map<String, Value>) {
        object.insert("state".into(), json!(state_word(self.state)));
        object.insert("read_frozen".into(), json!(self.read_frozen));
        object.insert("wchan".into(), json!(self.wchan));
        object.insert("syscall".into(), json!(self.syscall));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fields() {
        assert_eq!(syscall_of("running"), "running");
        assert_eq!(syscall_of("99999 0x1 0x2"), "#99999");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(syscall_of("61 0x1 0x2"), "wait4(#61)");
        assert_eq!(syscall_of("-1 0x7ff 0x1"), "none (not in a system call)");
        let stat = "5 (a b) S 1 5 5 0 -1 0 0 0 0 0 150 50 0 0 20 0 1 0 100 0 0";
        assert_eq!(cpu_time(stat), Some(Duration::from_secs(2)));
        assert_eq!(rss_kib("Name: x\nVmRSS:\t  1234 kB\n"), Some(1234));
        assert_eq!(state_word(Some('D')), "uninterruptible");
    }
}
