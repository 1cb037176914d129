//! Choosing processes the way `pgrep`/`pkill`/`pidwait` do (a regex
//! against the name or the full command line, user, parent, newest or
//! oldest), without their race.
//!
//! procps reads `/proc`, decides, then signals a PID that may by then name
//! another process. Here every candidate is first pinned (a pidfd, or a
//! guarded PID), then read again and matched again, and kept only if the
//! pinned process still owned its PID after that second read
//! ([`prochandle::linux::ProcessExt::info`] checks that last). What is
//! returned is therefore a set of handles to processes that matched while
//! pinned: whatever is done through them later cannot reach a newcomer.
//!
//! Above `output` and `target`, below the commands.

use std::fs;

use prochandle::linux::ProcessExt;
use prochandle::Process;
use regex::{Regex, RegexBuilder};

/// How many of the matches to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    All,
    /// The most recently started (`-n`).
    Newest,
    /// The least recently started (`-o`).
    Oldest,
}

/// What the user asked for, checked and compiled.
#[derive(Clone, Debug)]
pub struct Criteria {
    pattern: Option<Regex>,
    full: bool,
    euids: Vec<u32>,
    ruids: Vec<u32>,
    parents: Vec<u32>,
    pick: Pick,
}

/// The options behind a [`Criteria`], as typed.
#[derive(Clone, Debug, Default)]
pub struct Spec<'a> {
    pub pattern: Option<&'a str>,
    pub full: bool,
    pub exact: bool,
    pub ignore_case: bool,
    pub euids: &'a [String],
    pub ruids: &'a [String],
    pub parents: &'a [u32],
    pub newest: bool,
    pub oldest: bool,
}

/// The regex engine's compiled-size limit: a pattern beyond it is refused
/// as a usage error rather than allowed to take the memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Criteria {
    /// Checks the options: a pattern or some other criterion is needed (as
    /// pgrep says "no matching criteria specified"); users are resolved.
    pub fn new(spec: &Spec<'_>) -> Result<Criteria, String> {
        if spec.newest && spec.oldest {
            return Err("--newest and --oldest exclude each other".to_owned());
        }
        let nothing_else =
            spec.euids.is_empty() && spec.ruids.is_empty() && spec.parents.is_empty();
        if spec.pattern.is_none() && nothing_else {
            return Err("no matching criteria: give a PATTERN, -u, -U or -P".to_owned());
        }
        let pattern = match spec.pattern {
            Some(text) => Some(compile(text, spec.exact, spec.ignore_case)?),
            None => None,
        };
        let users = |names: &[String]| names.iter().map(|n| user_id(n)).collect::<Result<_, _>>();
        Ok(Criteria {
            pattern,
            full: spec.full,
            euids: users(spec.euids)?,
            ruids: users(spec.ruids)?,
            parents: spec.parents.to_vec(),
            pick: match (spec.newest, spec.oldest) {
                (true, _) => Pick::Newest,
                (_, true) => Pick::Oldest,
                _ => Pick::All,
            },
        })
    }

    /// Whether `facts` match (the pick is applied to the whole set later).
    pub fn matches(&self, facts: &Facts) -> bool {
        let text = if self.full && !facts.cmdline.is_empty() {
            &facts.cmdline
        } else {
            &facts.comm
        };
        self.pattern.as_ref().is_none_or(|re| re.is_match(text))
            && (self.euids.is_empty() || self.euids.contains(&facts.euid))
            && (self.ruids.is_empty() || self.ruids.contains(&facts.ruid))
            && (self.parents.is_empty() || self.parents.contains(&facts.ppid))
    }
}

fn compile(text: &str, exact: bool, ignore_case: bool) -> Result<Regex, String> {
    // -x: the whole name, as pgrep anchors it.
    let anchored = if exact {
        format!("^(?:{text})$")
    } else {
        text.to_owned()
    };
    RegexBuilder::new(&anchored)
        .case_insensitive(ignore_case)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let first = e.to_string();
            let line = first.lines().last().unwrap_or_default().trim().to_owned();
            format!("bad pattern {text:?}: {line}")
        })
}

/// A user ID, or a name looked up in the user database.
fn user_id(text: &str) -> Result<u32, String> {
    if let Ok(uid) = text.parse::<u32>() {
        return Ok(uid);
    }
    lookup_user(text).ok_or_else(|| format!("invalid user name: {text}"))
}

fn lookup_user(name: &str) -> Option<u32> {
    prochandle::linux::user_id(name).ok().flatten()
}

/// What `/proc/<pid>` says about a process, for matching.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The name (`comm`, at most 15 bytes).
    pub comm: String,
    /// The command line, arguments joined by spaces (empty for kernel
    /// threads and zombies).
    pub cmdline: String,
    pub euid: u32,
    pub ruid: u32,
    pub ppid: u32,
    /// Start time in clock ticks since boot.
    pub start: u64,
}

impl Facts {
    /// Reads them; `None` if the process is gone or unreadable.
    pub fn read(pid: u32) -> Option<Facts> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let mut facts = parse_stat(&stat)?;
        let uids = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
        let mut ids = uids.split_ascii_whitespace().map(str::parse::<u32>);
        facts.ruid = ids.next()?.ok()?;
        facts.euid = ids.next()?.ok()?;
        facts.cmdline = join_cmdline(&cmdline);
        Some(facts)
    }
}

/// `comm`, `ppid` and `starttime` from `/proc/<pid>/stat`. The name sits
/// in parentheses and may itself hold `)` or spaces: the fields after it
/// are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<Facts> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let rest: Vec<&str> = stat.get(close + 1..)?.split_ascii_whitespace().collect();
    // rest[0] is field 3 (state): ppid is field 4, starttime field 22.
    Some(Facts {
        comm,
        ppid: rest.get(1)?.parse().ok()?,
        start: rest.get(19)?.parse().ok()?,
        ..Facts::default()
    })
}

fn join_cmdline(raw: &[u8]) -> String {
    let trimmed = raw.strip_suffix(b"\0").unwrap_or(raw);
    let spaced: Vec<u8> = trimmed
        .iter()
        .map(|&b| if b == 0 { b' ' } else { b })
        .collect();
    String::from_utf8_lossy(&spaced).into_owned()
}

/// A process that matched while pinned.
pub struct Matched {
    pub process: Process,
    pub facts: Facts,
}

/// Every process on the system that matches, pinned, this process
/// excluded (as pgrep excludes itself). A candidate that cannot be opened
/// (gone, not ours to see) is left out, as pgrep leaves out what it cannot
/// read.
pub fn find(criteria: &Criteria) -> Vec<Matched> {
    let me = std::process::id();
    let mut found: Vec<Matched> = candidates()
        .filter(|&pid| pid != me)
        .filter(|&pid| Facts::read(pid).is_some_and(|f| criteria.matches(&f)))
        .filter_map(|pid| pin(pid, criteria))
        .collect();
    found.sort_by_key(|m| (m.facts.start, m.process.pid()));
    match criteria.pick {
        Pick::All => found,
        Pick::Newest => found.pop().into_iter().collect(),
        Pick::Oldest => found.into_iter().take(1).collect(),
    }
}

/// Opens `pid`, reads it again and matches again. `info()` runs last: it
/// succeeds only if the pinned process still owned the PID after the
/// second read, so the facts are the pinned process's own.
fn pin(pid: u32, criteria: &Criteria) -> Option<Matched> {
    let process = Process::open(pid).ok()?;
    let facts = Facts::read(pid).filter(|f| criteria.matches(f))?;
    process.info().ok()?;
    Some(Matched { process, facts })
}

/// The PIDs listed in `/proc` now.
fn candidates() -> impl Iterator<Item = u32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(pattern: &str) -> Spec<'_> {
        Spec {
            pattern: Some(pattern),
            ..Spec::default()
        }
    }

    fn facts(comm: &str, cmdline: &str) -> Facts {
        Facts {
            comm: comm.to_owned(),
            cmdline: cmdline.to_owned(),
            ..Facts::default()
        }
    }

    #[test]
    fn name_full_and_exact() {
        let f = facts("nginx", "nginx: worker process");
        assert!(Criteria::new(&spec("ngi")).unwrap().matches(&f));
        assert!(!Criteria::new(&spec("worker")).unwrap().matches(&f));
        let full = Spec {
            full: true,
            ..spec("worker")
        };
        assert!(Criteria::new(&full).unwrap().matches(&f));
        let exact = Spec {
            exact: true,
            ..spec("ngi")
        };
        assert!(!Criteria::new(&exact).unwrap().matches(&f));
        let exact = Spec {
            exact: true,
            ..spec("nginx|x")
        };
        assert!(Criteria::new(&exact).unwrap().matches(&f));
        let caseless = Spec {
            ignore_case: true,
            ..spec("NGINX")
        };
        assert!(Criteria::new(&caseless).unwrap().matches(&f));
    }

    #[test]
    fn users_and_parents() {
        let euids = ["0".to_owned()];
        let by_user = Spec {
            euids: &euids,
            ..Spec::default()
        };
        let mut f = facts("x", "");
        assert!(Criteria::new(&by_user).unwrap().matches(&f));
        f.euid = 1000;
        assert!(!Criteria::new(&by_user).unwrap().matches(&f));
        let parents = [7];
        let by_parent = Spec {
            parents: &parents,
            ..Spec::default()
        };
        f.ppid = 7;
        assert!(Criteria::new(&by_parent).unwrap().matches(&f));
    }

    #[test]
    fn refusals() {
        assert!(Criteria::new(&Spec::default())
            .unwrap_err()
            .contains("no matching criteria"));
        assert!(Criteria::new(&spec("("))
            .unwrap_err()
            .starts_with("bad pattern"));
        let huge = "a{1000}{1000}";
        assert!(Criteria::new(&spec(huge)).is_err());
        let nobody = ["no-such-user-here".to_owned()];
        let bad_user = Spec {
            euids: &nobody,
            ..Spec::default()
        };
        assert!(Criteria::new(&bad_user)
            .unwrap_err()
            .contains("invalid user"));
        let both = Spec {
            newest: true,
            oldest: true,
            ..spec("x")
        };
        assert!(Criteria::new(&both).is_err());
    }

    #[test]
    fn stat_with_a_tricky_name() {
        let stat = "42 (a) b (c) S 7 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        let f = parse_stat(stat).unwrap();
        assert_eq!(f.comm, "a) b (c");
        assert_eq!(f.ppid, 7);
        assert_eq!(f.start, 12345);
        assert_eq!(join_cmdline(b"sleep\x00300\x00"), "sleep 300");
    }

    #[test]
    fn this_process_is_never_selected() {
        let me = Facts::read(std::process::id()).unwrap();
        let criteria = Criteria::new(&Spec {
            exact: true,
            ..spec(&regex::escape(&me.comm))
        });
        let found = find(&criteria.unwrap());
        assert!(found.iter().all(|m| m.process.pid() != std::process::id()));
    }
}
