//! Which processes a command acts on: TARGETs as typed, or the processes
//! a `--match` selects. Planning is pure (parsing and compiling only);
//! opening happens in [`Selection::open`], one process at a time.

use prochandle::Process;

use crate::cli::MatchArgs;
use crate::output::Action;
#[cfg(target_os = "linux")]
use crate::selection::{self, Criteria, Spec};
use crate::target::{OpenFailure, Target};

/// The processes asked for, not yet opened.
#[derive(Debug)]
pub enum Selection {
    /// TARGETs from the command line.
    Targets(Vec<Target>),
    /// The processes that match, found when opened (Linux: `/proc`).
    #[cfg(target_os = "linux")]
    Match(Criteria),
}

/// Builds the selection: with `matching`, `positionals` hold at most one
/// PATTERN; otherwise at least one TARGET each.
pub fn plan(
    matching: bool,
    select: &MatchArgs,
    positionals: &[String],
) -> Result<Selection, String> {
    let uses_match_options = select.full
        || select.exact
        || select.ignore_case
        || !select.euid.is_empty()
        || !select.uid.is_empty()
        || !select.parent.is_empty()
        || select.newest
        || select.oldest;
    if !matching {
        if uses_match_options {
            return Err("-f, -x, -i, -u, -U, -P, --newest and -o select with --match".to_owned());
        }
        if positionals.is_empty() {
            return Err("a TARGET is required".to_owned());
        }
        let targets = positionals
            .iter()
            .map(|text| text.parse::<Target>())
            .collect::<Result<_, _>>()?;
        return Ok(Selection::Targets(targets));
    }
    #[cfg(target_os = "linux")]
    return criteria(select, positionals).map(Selection::Match);
    #[cfg(not(target_os = "linux"))]
    Err("--match needs Linux (/proc)".to_owned())
}

/// The match criteria from the options and at most one PATTERN.
#[cfg(target_os = "linux")]
pub fn criteria(select: &MatchArgs, positionals: &[String]) -> Result<Criteria, String> {
    if positionals.len() > 1 {
        return Err(format!(
            "only one PATTERN may be given (got {}); join alternatives with |",
            positionals.len()
        ));
    }
    Criteria::new(&Spec {
        pattern: positionals.first().map(String::as_str),
        full: select.full,
        exact: select.exact,
        ignore_case: select.ignore_case,
        euids: &select.euid,
        ruids: &select.uid,
        parents: &select.parent,
        newest: select.newest,
        oldest: select.oldest,
    })
}

/// One opened process, or why it could not be opened.
pub type Opened = (Target, Result<Process, OpenFailure>);

impl Selection {
    /// Whether the processes come from a match (pkill's exit codes apply).
    pub fn is_match(&self) -> bool {
        !matches!(self, Selection::Targets(_))
    }

    /// How many TARGETs were given (0 for a match, known only once found).
    pub fn given(&self) -> usize {
        match self {
            Selection::Targets(targets) => targets.len(),
            #[cfg(target_os = "linux")]
            Selection::Match(_) => 0,
        }
    }

    /// Opens the processes lazily, each as the caller takes it, so that a
    /// caller can stop at the first descriptor shortage. Matches are
    /// already pinned; each is named by its identity.
    pub fn open(&self, action: Action) -> Box<dyn Iterator<Item = Opened> + '_> {
        match self {
            Selection::Targets(targets) => Box::new(
                targets
                    .iter()
                    .map(move |t| (t.clone(), t.open_counted(action))),
            ),
            #[cfg(target_os = "linux")]
            Selection::Match(criteria) => {
                let found = selection::find(criteria);
                pause_for_tests();
                Box::new(found.into_iter().map(|m| {
                    let target = Target::of_process(&m.process);
                    (target, Ok(m.process))
                }))
            }
        }
    }
}

/// The tests' window between match and action: with
/// `PROCHANDLE_TEST_PAUSE_AFTER_MATCH=FILE`, create FILE once the matches
/// are pinned and wait (up to a minute) until the test removes it. Used
/// by the recycled-PID test to replace a matched process in between.
#[cfg(target_os = "linux")]
fn pause_for_tests() {
    let Some(file) = std::env::var_os("PROCHANDLE_TEST_PAUSE_AFTER_MATCH") else {
        return;
    };
    let path = std::path::Path::new(&file);
    if std::fs::write(path, b"paused\n").is_err() {
        return;
    }
    let step = std::time::Duration::from_millis(10);
    for _ in 0..6000 {
        if !path.exists() {
            return;
        }
        std::thread::sleep(step);
    }
}
