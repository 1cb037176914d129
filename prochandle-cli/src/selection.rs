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
//! The reading and pinning are `procs`' (shared with the personalities);
//! this module adds the native command line's criteria. Above `output`,
//! `target` and `procs`, below the commands.

use regex::Regex;

use crate::pattern::{self, Limits};
use crate::procs::{self, Pinned, Proc};

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
const REGEX_LIMITS: Limits = Limits {
    program: 1 << 20,
    lazy_dfa: None,
};

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

    /// Whether `p` matches (the pick is applied to the whole set later).
    pub fn matches(&self, p: &Proc) -> bool {
        let text = if self.full { p.command_line() } else { &p.comm };
        self.pattern.as_ref().is_none_or(|re| re.is_match(text))
            && (self.euids.is_empty() || self.euids.contains(&p.euid))
            && (self.ruids.is_empty() || self.ruids.contains(&p.ruid))
            && (self.parents.is_empty() || self.parents.contains(&p.ppid))
    }
}

fn compile(text: &str, exact: bool, ignore_case: bool) -> Result<Regex, String> {
    pattern::compile(text, exact, ignore_case, REGEX_LIMITS)
        .map_err(|why| format!("bad pattern {text:?}: {why}"))
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

/// Every process on the system that matches, pinned (see [`procs::pin`]),
/// this process excluded (as pgrep excludes itself), oldest first. A
/// candidate that cannot be opened (gone, not ours to see) is left out,
/// as pgrep leaves out what it cannot read.
pub fn find(criteria: &Criteria) -> Vec<Pinned> {
    let mut found = procs::select(&[std::process::id()], |p| criteria.matches(p));
    found.sort_by_key(|m| (m.proc.start, m.proc.pid));
    match criteria.pick {
        Pick::All => found,
        Pick::Newest => found.pop().into_iter().collect(),
        Pick::Oldest => found.into_iter().take(1).collect(),
    }
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

    fn facts(comm: &str, cmdline: &str) -> Proc {
        Proc {
            comm: comm.to_owned(),
            cmdline: cmdline.to_owned(),
            ..Proc::default()
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
    fn this_process_is_never_selected() {
        let me = Proc::read(std::process::id()).unwrap();
        let criteria = Criteria::new(&Spec {
            exact: true,
            ..spec(&regex::escape(&me.comm))
        });
        let found = find(&criteria.unwrap());
        assert!(found.iter().all(|m| m.process.pid() != std::process::id()));
    }
}
