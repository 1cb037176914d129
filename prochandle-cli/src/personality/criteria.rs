//! pgrep's selection: the pattern and every list option, checked and
//! resolved (user and group names, terminals, `0` for our own group or
//! session) before any process is read.

use std::os::unix::fs::MetadataExt;

use regex::Regex;

use crate::pattern::{self, Limits};
use crate::procs::{self, Proc};

/// procps' own limit is the C library's: a long alternation of names is
/// an ordinary pgrep pattern, so the engine may build a large program
/// (and a lazy DFA as large).
const REGEX_LIMITS: Limits = Limits {
    program: 256 << 20,
    lazy_dfa: Some(256 << 20),
};

/// What a process must be to be selected.
#[derive(Debug, Default)]
pub struct Criteria {
    pub pattern: Option<Regex>,
    pub full: bool,
    pub invert: bool,
    pub euids: Vec<u32>,
    pub ruids: Vec<u32>,
    pub rgids: Vec<u32>,
    pub parents: Vec<u32>,
    pub groups: Vec<u32>,
    pub sessions: Vec<u32>,
    pub ttys: Vec<u32>,
    /// State letters (`-r`).
    pub states: Option<String>,
    /// `-O`: started at least this many clock ticks ago.
    pub older_ticks: Option<u64>,
    /// `--cgroup`: cgroup v2 paths, one of which must be the process's.
    pub cgroups: Vec<String>,
    /// `--ns`: the namespaces the process must share.
    pub namespaces: Option<SameNamespaces>,
}

/// `--ns PID`: a process matches if each namespace of `kinds` (bits in
/// [`procs::NAMESPACE_KINDS`] order) is the reference's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SameNamespaces {
    pub inodes: [u64; 8],
    pub kinds: u8,
}

impl SameNamespaces {
    /// procps' default: cgroup, ipc, mnt, net, pid and time (its help
    /// names "ipc, mnt, net, pid, user, uts", but the mask it sets is the
    /// first six of its table).
    pub const DEFAULT_KINDS: u8 = 0x3f;

    /// Whether `pid`'s namespaces are the reference's, kind by kind.
    fn hold(&self, pid: u32) -> bool {
        let theirs = procs::namespaces(pid);
        (0..8)
            .filter(|bit| self.kinds & (1 << bit) != 0)
            .all(|bit| theirs[bit] == self.inodes[bit])
    }
}

impl Criteria {
    /// Whether `p` is selected (before `-n`/`-o`).
    pub fn matches(&self, p: &Proc, now_ticks: u64) -> bool {
        let text = if self.full { p.command_line() } else { &p.comm };
        let hit = self.pattern.as_ref().is_none_or(|re| re.is_match(text))
            && listed(&self.euids, p.euid)
            && listed(&self.ruids, p.ruid)
            && listed(&self.rgids, p.rgid)
            && listed(&self.parents, p.ppid)
            && listed(&self.groups, p.pgrp)
            && listed(&self.sessions, p.session)
            && listed(&self.ttys, p.tty)
            && self.states.as_ref().is_none_or(|s| s.contains(p.state))
            && self
                .older_ticks
                .is_none_or(|ticks| now_ticks.saturating_sub(p.start) >= ticks)
            && self.in_cgroup(p.pid)
            && self.namespaces.is_none_or(|same| same.hold(p.pid));
        hit != self.invert
    }

    /// Whether anything but the pattern selects.
    pub fn has_lists(&self) -> bool {
        !(self.euids.is_empty()
            && self.ruids.is_empty()
            && self.rgids.is_empty()
            && self.parents.is_empty()
            && self.groups.is_empty()
            && self.sessions.is_empty()
            && self.ttys.is_empty()
            && self.states.is_none()
            && self.older_ticks.is_none()
            && self.cgroups.is_empty()
            && self.namespaces.is_none())
    }

    /// `--cgroup`: the process's v2 path is one of those listed, compared
    /// whole (`/user.slice` does not hold `/user.slice/x.scope`).
    fn in_cgroup(&self, pid: u32) -> bool {
        self.cgroups.is_empty()
            || procs::cgroup_v2(pid).is_some_and(|path| self.cgroups.contains(&path))
    }
}

fn listed(list: &[u32], value: u32) -> bool {
    list.is_empty() || list.contains(&value)
}

/// The pattern, as pgrep compiles it (`-x` anchors it, `-i` folds case).
pub fn compile(text: &str, exact: bool, ignore_case: bool) -> Result<Regex, String> {
    pattern::compile(text, exact, ignore_case, REGEX_LIMITS)
        .map_err(|why| format!("regex error: {why}"))
}

/// A comma-separated list, each item read by `one`; empty items refused.
pub fn list<T>(text: &str, one: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    if text.split(',').all(str::is_empty) {
        return Err("invalid empty list".to_owned());
    }
    text.split(',')
        .filter(|item| !item.is_empty())
        .map(|item| one(item).ok_or_else(|| format!("invalid argument: '{item}'")))
        .collect()
}

/// `--ns`'s value as procps reads it, with `atoi`: leading blanks, a
/// sign, the digits up to the first other byte; 0 when there are none.
/// The C `long` saturates and is then cut to an `int`, as `atoi` does.
pub fn atoi(text: &str) -> i32 {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut value: i64 = 0;
    for digit in digits.bytes().take_while(u8::is_ascii_digit) {
        value = value
            .saturating_mul(10)
            .saturating_add(i64::from(digit - b'0'));
    }
    (if negative { -value } else { value }) as i32
}

/// A `--nslist` name: its bit, or `None` for a name procps does not know.
pub fn namespace_kind(name: &str) -> Option<u8> {
    let at = procs::NAMESPACE_KINDS
        .iter()
        .position(|&kind| kind == name)?;
    Some(1 << at)
}

/// A user ID, or a name from the user database file.
pub fn user(text: &str) -> Option<u32> {
    text.parse().ok().or_else(|| lookup("/etc/passwd", text))
}

/// A group ID, or a name from the group database file.
pub fn group(text: &str) -> Option<u32> {
    text.parse().ok().or_else(|| lookup("/etc/group", text))
}

/// The ID (third field) of `name` in a `name:x:id:...` database.
fn lookup(file: &str, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}

/// A terminal as the kernel numbers it in `/proc/<pid>/stat`: `pts/3`,
/// `tty1`, `/dev/pts/3`; `-` or `?` is none (0). A name that is no
/// terminal gives a number no process has.
pub fn tty(text: &str) -> u32 {
    if text == "-" || text == "?" {
        return 0;
    }
    let path = if text.starts_with('/') {
        text.to_owned()
    } else {
        format!("/dev/{text}")
    };
    let Ok(meta) = std::fs::metadata(&path) else {
        return u32::MAX;
    };
    let dev = meta.rdev();
    // The C library's device number, taken apart, then put together the
    // way the kernel writes tty_nr.
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    ((minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(compile("ab", true, false).unwrap().is_match("ab"));
        assert!(!compile("ab", true, false).unwrap().is_match("abc"));
        assert!(compile("AB", false, true).unwrap().is_match("xab"));
        assert!(compile("a(", false, false)
            .unwrap_err()
            .starts_with("regex error"));
        // A large alternation is an ordinary pattern.
        let many: Vec<String> = (0..5000).map(|i| format!("name{i}")).collect();
        assert!(compile(&many.join("|"), false, false).is_ok());
    }

    #[test]
    fn lists_and_names() {
        assert_eq!(list("1,2", |s| s.parse::<u32>().ok()), Ok(vec![1, 2]));
        assert_eq!(
            list(",", |s| s.parse::<u32>().ok()).unwrap_err(),
            "invalid empty list"
        );
        assert!(list("x", |s| s.parse::<u32>().ok()).is_err());
        assert_eq!(user("root"), Some(0));
        assert_eq!(user("0"), Some(0));
        assert_eq!(group("root"), Some(0));
        assert_eq!(user("no-such-user-here"), None);
        assert_eq!(tty("-"), 0);
        assert_eq!(tty("glass"), u32::MAX);
    }

    #[test]
    fn inversion_covers_every_criterion() {
        let criteria = Criteria {
            pattern: Some(compile("x", false, false).unwrap()),
            invert: true,
            ..Criteria::default()
        };
        let p = Proc {
            comm: "x".to_owned(),
            ..Proc::default()
        };
        assert!(!criteria.matches(&p, 0));
        let elsewhere = Criteria {
            cgroups: vec!["/no/such/group".to_owned()],
            invert: true,
            ..Criteria::default()
        };
        let me = Proc::read(std::process::id()).unwrap();
        assert!(elsewhere.matches(&me, 0));
    }

    #[test]
    fn namespace_options_as_procps_reads_them() {
        assert_eq!(atoi(" 12x"), 12);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi(""), 0);
        // strtol saturates at LONG_MAX, which the int cut makes -1.
        assert_eq!(atoi("99999999999999999999"), -1);
        assert_eq!(atoi("99999999999"), 1_215_752_191);
        assert_eq!(namespace_kind("cgroup"), Some(1));
        assert_eq!(namespace_kind("uts"), Some(0x80));
        assert_eq!(namespace_kind("bogus"), None);
        let me = std::process::id();
        let mine = SameNamespaces {
            inodes: procs::namespaces(me),
            kinds: SameNamespaces::DEFAULT_KINDS,
        };
        assert!(mine.hold(me));
        let none = SameNamespaces {
            inodes: [1; 8],
            ..mine
        };
        assert!(!none.hold(me));
    }
}
