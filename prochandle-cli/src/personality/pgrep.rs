//! The `pgrep`, `pkill` and `pidwait` personalities: procps-ng 4.0.2's
//! command lines and output (a PID per line, `-d`, `-l`, `-a`, `-c`,
//! `-e`...). Every match is pinned by a handle and judged again before it
//! is printed, signalled or waited for (see `procs`). `--identity` (ours)
//! prints `PID:INODE` instead of the PID, a form `kill` takes back
//! without the risk of a recycled PID.

use std::ffi::OsString;

use super::criteria::{self, Criteria};
use super::getopt::{self, Item, Spec, Value};
use super::pidfile;
use super::signals;
use super::tasks::{self, Found};
use super::tool;
use crate::output;
use crate::procs;

/// Which of the three tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Pgrep,
    Pkill,
    Pidwait,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Pgrep => "pgrep",
            Mode::Pkill => "pkill",
            Mode::Pidwait => "pidwait",
        }
    }

    fn spec(self) -> Spec {
        Spec {
            // `?` is in procps' string too: `-?` is the usage, status 2.
            shorts: match self {
                Mode::Pgrep => "d:lavwcfg:G:inoO:P:s:t:u:U:xF:Lr:AhVqI?",
                Mode::Pkill => "eq:cfg:G:inoO:P:s:t:u:U:xF:Lr:AhV?",
                Mode::Pidwait => "ecfg:G:inoO:P:s:t:u:U:xF:Lr:AhV?",
            },
            longs: match self {
                Mode::Pgrep => PGREP_LONGS,
                Mode::Pkill | Mode::Pidwait => PROCPS_LONGS,
            },
            stop_at_operand: false,
            negative_numbers: false,
        }
    }
}

/// procps' long options, in its order (an ambiguous prefix lists them
/// so), then pgrep's two of ours. procps has one table for the three
/// tools: `pkill --inverse`, `pidwait --delimiter`, `pgrep --signal`
/// are taken, though only the short forms are per tool.
const PGREP_LONGS: &[getopt::Long] = &[
    ("signal", Value::Required, 'S'),
    ("ignore-ancestors", Value::None, 'A'),
    ("count", Value::None, 'c'),
    ("cgroup", Value::Required, 'C'),
    ("delimiter", Value::Required, 'd'),
    ("list-name", Value::None, 'l'),
    ("list-full", Value::None, 'a'),
    ("full", Value::None, 'f'),
    ("pgroup", Value::Required, 'g'),
    ("group", Value::Required, 'G'),
    ("ignore-case", Value::None, 'i'),
    ("newest", Value::None, 'n'),
    ("oldest", Value::None, 'o'),
    ("older", Value::Required, 'O'),
    ("parent", Value::Required, 'P'),
    ("session", Value::Required, 's'),
    ("terminal", Value::Required, 't'),
    ("euid", Value::Required, 'u'),
    ("uid", Value::Required, 'U'),
    ("inverse", Value::None, 'v'),
    ("lightweight", Value::None, 'w'),
    ("exact", Value::None, 'x'),
    ("pidfile", Value::Required, 'F'),
    ("logpidfile", Value::None, 'L'),
    ("echo", Value::None, 'e'),
    ("ns", Value::Required, 'N'),
    ("nslist", Value::Required, 'M'),
    ("queue", Value::Required, 'q'),
    ("runstates", Value::Required, 'r'),
    ("help", Value::None, 'h'),
    ("version", Value::None, 'V'),
    // pgrep's alone: procps 4.0.6's --quiet, and ours.
    ("quiet", Value::None, 'Q'),
    ("identity", Value::None, 'I'),
];

/// The table pkill and pidwait take: procps' alone.
const PROCPS_LONGS: &[getopt::Long] = PGREP_LONGS.split_at(PGREP_LONGS.len() - 2).0;

/// Everything the command line asked for.
pub struct Request {
    pub mode: Mode,
    pub criteria: Criteria,
    pub pattern_text: Option<String>,
    pub newest: bool,
    pub oldest: bool,
    pub ancestors: bool,
    pub pidfile: Option<String>,
    pub pidfile_locked: bool,
    pub delimiter: String,
    pub list_name: bool,
    pub list_full: bool,
    pub lightweight: bool,
    pub count: bool,
    pub quiet: bool,
    pub echo: bool,
    pub identity: bool,
    pub signal: prochandle::Signal,
    pub value: Option<i32>,
    /// `--ns PID`: whose namespaces to match, read when selecting.
    pub ns_pid: Option<i32>,
    /// `--nslist`: which of them (see [`criteria::SameNamespaces`]).
    pub ns_kinds: u8,
}

/// Runs the tool on `args` (without the program name).
pub fn main(mode: Mode, args: &[OsString]) -> u8 {
    let mut args = args.to_vec();
    let signal = (mode == Mode::Pkill)
        .then(|| tool::take_signal_word(&mut args))
        .flatten();
    let mut request = match plan(mode, &args, signal) {
        Ok(Some(request)) => request,
        Ok(None) => return 0,
        Err(refusal) => {
            refusal.say();
            if refusal.usage {
                eprintln!("{}", tool::usage(mode));
            } else if refusal.hint {
                eprintln!("Try `{} --help' for more information.", output::program());
            }
            return 2;
        }
    };
    let found = match select(&mut request) {
        Ok(found) => found,
        // procps' message ends in a newline of its own: a blank line.
        Err(Failure::Namespaces) => {
            output::error("Error reading reference namespace information\n");
            return 3;
        }
        Err(Failure::Pidfile(message)) => {
            // A bad PID file: procps says so with the hint, status 1.
            output::error(message);
            eprintln!("Try `{} --help' for more information.", output::program());
            return 1;
        }
    };
    super::act::act(&request, found)
}

/// The command line, read: `None` once `-h` or `-V` has answered.
fn plan(
    mode: Mode,
    args: &[OsString],
    signal: Option<prochandle::Signal>,
) -> Result<Option<Request>, tool::Refusal> {
    let items = getopt::parse(&mode.spec(), args).map_err(tool::Refusal::usage)?;
    let mut request = Request::new(mode, signal.unwrap_or(prochandle::Signal::TERM));
    let Some(words) = read_options(&mut request, items)? else {
        return Ok(None);
    };
    set_pattern(&mut request, words)?;
    let criteria = &request.criteria;
    // procps counts -n, -o and --ns as criteria too (`pgrep -n` is the
    // newest process).
    let chosen = request.newest || request.oldest || request.ns_pid.is_some();
    if criteria.pattern.is_none() && !criteria.has_lists() && request.pidfile.is_none() && !chosen {
        return Err(tool::Refusal::message("no matching criteria specified"));
    }
    Ok(Some(request))
}

impl Request {
    /// What a command line without options asks for.
    fn new(mode: Mode, signal: prochandle::Signal) -> Request {
        Request {
            mode,
            criteria: Criteria::default(),
            pattern_text: None,
            newest: false,
            oldest: false,
            ancestors: false,
            pidfile: None,
            pidfile_locked: false,
            delimiter: "\n".to_owned(),
            list_name: false,
            list_full: false,
            lightweight: false,
            count: false,
            quiet: false,
            echo: false,
            identity: false,
            signal,
            value: None,
            ns_pid: None,
            ns_kinds: criteria::SameNamespaces::DEFAULT_KINDS,
        }
    }
}

/// The pattern as typed: the operands, and how `-x` and `-i` compile it.
#[derive(Default)]
struct PatternWords {
    operands: Vec<String>,
    exact: bool,
    ignore_case: bool,
}

/// Applies the options in order and gathers the pattern's words; `None`
/// once `-h` or `-V` has answered (what follows is not read).
fn read_options(
    request: &mut Request,
    items: Vec<Item>,
) -> Result<Option<PatternWords>, tool::Refusal> {
    let mode = request.mode;
    let mut words = PatternWords::default();
    for item in items {
        let (key, value) = match item {
            Item::Operand(word) => {
                words.operands.push(word.to_string_lossy().into_owned());
                continue;
            }
            // pgrep's -q is --quiet (procps 4.0.6); --queue VALUE, which
            // procps 4.0.2's pgrep takes and ignores, has a value.
            Item::Opt('q', None) => ('Q', String::new()),
            Item::Opt(key, value) => (key, value.unwrap_or_default()),
        };
        match key {
            'x' => words.exact = true,
            'i' => words.ignore_case = true,
            'h' | 'V' => {
                answer(mode, key);
                return Ok(None);
            }
            '?' => return Err(tool::Refusal::usage_alone()),
            'M' => request.ns_kinds = namespace_list(&value)?,
            _ => option(request, key, &value).map_err(tool::Refusal::message)?,
        }
    }
    Ok(Some(words))
}

/// `--nslist`: procps keeps only the last name's kind (each item resets
/// its mask; its current source still does), and a name it does not know
/// ends it with status 2 and nothing said.
fn namespace_list(value: &str) -> Result<u8, tool::Refusal> {
    let kinds = criteria::list(value, |name| Some(criteria::namespace_kind(name)))
        .map_err(tool::Refusal::message)?;
    kinds
        .into_iter()
        .try_fold(0, |_, kind| kind)
        .ok_or_else(tool::Refusal::silent)
}

/// `-h` (the usage) or `-V` (the version), on stdout.
fn answer(mode: Mode, key: char) {
    if key == 'h' {
        output::line(tool::usage(mode));
    } else {
        output::line(format_args!(
            "{} from prochandle {}",
            mode.name(),
            env!("CARGO_PKG_VERSION")
        ));
    }
}

/// At most one pattern, compiled as `-x` and `-i` say.
fn set_pattern(request: &mut Request, mut words: PatternWords) -> Result<(), tool::Refusal> {
    if words.operands.len() > 1 {
        return Err(tool::Refusal::message("only one pattern can be provided"));
    }
    if let Some(text) = words.operands.pop() {
        let compiled = criteria::compile(&text, words.exact, words.ignore_case)
            .map_err(tool::Refusal::bare)?;
        request.criteria.pattern = Some(compiled);
        request.pattern_text = Some(text);
    }
    Ok(())
}

/// One option with its value; the error is procps' message.
fn option(request: &mut Request, key: char, value: &str) -> Result<(), String> {
    let me = procs::Proc::read(std::process::id()).unwrap_or_default();
    // procps reads list items as signed numbers: a negative one is valid
    // and matches no process.
    let number = |s: &str| match s.parse::<i64>() {
        Ok(n) if n < 0 => Some(u32::MAX),
        Ok(n) => u32::try_from(n).ok(),
        Err(_) => None,
    };
    let c = &mut request.criteria;
    match key {
        'd' => request.delimiter = value.to_owned(),
        'l' => request.list_name = true,
        'a' => request.list_full = true,
        'v' => c.invert = true,
        'w' => request.lightweight = true,
        'c' => request.count = true,
        'f' => c.full = true,
        'g' => {
            c.groups = criteria::list(value, |s| {
                number(s).map(|g| if g == 0 { me.pgrp } else { g })
            })?
        }
        'G' => c.rgids = criteria::list(value, criteria::group)?,
        'n' => request.newest = true,
        'o' => request.oldest = true,
        'O' => {
            let secs: u64 = value
                .parse()
                .map_err(|_| format!("invalid argument: '{value}'"))?;
            c.older_ticks = Some(secs.saturating_mul(procs::TICKS_PER_SECOND));
        }
        'P' => c.parents = criteria::list(value, number)?,
        's' => {
            c.sessions = criteria::list(value, |s| {
                number(s).map(|g| if g == 0 { me.session } else { g })
            })?
        }
        't' => c.ttys = criteria::list(value, |s| Some(criteria::tty(s)))?,
        'u' => c.euids = criteria::list(value, criteria::user)?,
        'U' => c.ruids = criteria::list(value, criteria::user)?,
        'F' => request.pidfile = Some(value.to_owned()),
        'L' => request.pidfile_locked = true,
        'r' => c.states = Some(value.to_owned()),
        'A' => request.ancestors = true,
        // procps' pgrep and pidwait take --signal and --queue and ignore them.
        'S' | 'q' if request.mode != Mode::Pkill => {}
        'S' | 'q' => signal_option(request, key, value)?,
        'C' => c.cgroups = criteria::list(value, |s| Some(s.to_owned()))?,
        // procps' --ns falls through to -r when its value is no PID (0,
        // or no number): the value is then the states to match.
        'N' => match criteria::atoi(value) {
            0 => {
                request.ns_pid = None;
                c.states = Some(value.to_owned());
            }
            pid => request.ns_pid = Some(pid),
        },
        'Q' => request.quiet = true,
        'e' => request.echo = true,
        _ => request.identity = true,
    }
    Ok(())
}

/// pkill's `--signal` and `--queue`.
fn signal_option(request: &mut Request, key: char, value: &str) -> Result<(), String> {
    if key == 'S' {
        request.signal =
            signals::procps(value).ok_or_else(|| format!("Unknown signal \"{value}\"."))?;
    } else {
        request.value = Some(value.trim_start().parse().map_err(|_| {
            format!("must be an integer value to be passed with the signal.: '{value}'")
        })?);
    }
    Ok(())
}

/// Why nothing could be selected.
enum Failure {
    /// A PID file that holds no PID (procps' message).
    Pidfile(String),
    /// `--ns` with a PID below 1, which procps cannot read.
    Namespaces,
}

/// `--ns PID`'s namespaces, read while PID is pinned; a PID no process
/// has reads as all zeros, as procps reads it (and matches processes
/// whose namespaces cannot be read). `None` for a PID below 1.
fn reference(pid: i32, kinds: u8) -> Option<criteria::SameNamespaces> {
    let pid = u32::try_from(pid).ok().filter(|&pid| pid > 0)?;
    let inodes = std::cell::Cell::new([0; 8]);
    let pinned = procs::pin(pid, |p| {
        inodes.set(procs::namespaces(p.pid));
        true
    });
    Some(criteria::SameNamespaces {
        inodes: pinned.map_or([0; 8], |_| inodes.get()),
        kinds,
    })
}

/// The matching processes (with `-w` threads), pinned, after `-n`/`-o`.
/// The PID file is read first, then `--ns`'s reference, as procps does.
fn select(request: &mut Request) -> Result<Vec<Found>, Failure> {
    let candidates = match &request.pidfile {
        Some(path) => {
            Some(pidfile::candidates(path, request.pidfile_locked).map_err(Failure::Pidfile)?)
        }
        None => None,
    };
    if let Some(pid) = request.ns_pid {
        request.criteria.namespaces =
            Some(reference(pid, request.ns_kinds).ok_or(Failure::Namespaces)?);
    }
    let skip = if request.ancestors {
        procs::ancestors()
    } else {
        vec![std::process::id()]
    };
    let now = procs::uptime_ticks();
    let judge = |p: &procs::Proc| request.criteria.matches(p, now);
    let threads = request.lightweight;
    let mut found: Vec<Found> = match candidates {
        // A PID file names processes: with -w, their threads are judged.
        Some(candidates) => candidates
            .into_iter()
            .filter(|process| !skip.contains(&process.pid()))
            .flat_map(|process| match threads {
                true => tasks::threads_of(process, &skip, judge),
                false => procs::judge_pinned(process, judge)
                    .map(Found::whole)
                    .into_iter()
                    .collect(),
            })
            .collect(),
        None if threads => tasks::select(&skip, judge),
        None => procs::select(&skip, judge)
            .into_iter()
            .map(Found::whole)
            .collect(),
    };
    found.sort_by_key(|m| (m.proc.start, m.proc.pid));
    if request.newest {
        found = found.pop().into_iter().collect();
    } else if request.oldest {
        found.truncate(1);
    }
    Ok(found)
}
