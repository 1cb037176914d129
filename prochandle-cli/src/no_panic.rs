//! No input may panic: arbitrary command lines, built from clap's own
//! command tree (every subcommand, every long and short option, each with
//! values of the kind clap says it takes) and from random bytes, go
//! through the whole of reading a command line, kill(1)'s `-SIG` forms,
//! clap and each command's plan, which is pure (it opens, signals and
//! prints nothing), so that it can run here. A new subcommand or option is
//! fuzzed as soon as clap knows it.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use clap::CommandFactory;
use proptest::prelude::*;

use crate::cli::Cli;
use crate::plan;

/// Values that probe the bounds of each kind of value clap cannot type
/// for us: signals (kill(1)'s `-SIG` forms too), numbers, durations,
/// targets, patterns and user names.
const SIGNALS: &[&str] = &[
    "-9",
    "-KILL",
    "-SIGKILL",
    "-RTMIN+1",
    "-RTMAX-2",
    "-0",
    "-65",
    "-RTMIN+99",
    "TERM",
    "KILL",
    "sigterm",
    "RTMIN+1",
    "RTMAX-40",
    "0",
    "9",
    "64",
    "65",
    "-1",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "9",
    "64",
    "65",
    "137",
    "-1",
    "4294967296",
    "2147483647",
    "99999999999999999999",
    "10000000000000000000",
];
const DURATIONS: &[&str] = &[
    "10000000000000000000s",
    "10000000000000000000",
    "1e400",
    "1.5m",
    "0.5",
    "500ms",
    "1d",
    "0",
    "nan",
    "inf",
    "-1",
];
const TARGETS: &[&str] = &[
    "1",
    "0",
    "-1",
    "1:2",
    "1@2:x",
    "1:",
    "1@",
    ":",
    "4294967296",
    "2147483647",
    "1,2,",
];
const PATTERNS: &[&str] = &["(", "a{1000}{1000}", "[[:alpha:]", "nginx", ".*", ""];
const USERS: &[&str] = &[
    "root",
    "nobody",
    "no-such-user",
    "0",
    "4294967295",
    ",",
    "=",
];
/// Words any position may get: separators and clap's own.
const ANYWHERE: &[&str] = &["--", "-", "=", "--help", "-h", "--version", "-V"];

/// What clap knows of the values an argument takes.
#[derive(Debug, Clone)]
enum Kind {
    /// The values clap lists (`possible_values`: shells, say).
    OneOf(Vec<String>),
    /// Probes chosen by the value's name (`SIG`, `DUR`, `TARGET`...).
    Probes(&'static [&'static str]),
}

impl Kind {
    fn of(arg: &clap::Arg) -> Kind {
        let listed: Vec<String> = arg
            .get_possible_values()
            .iter()
            .flat_map(|v| v.get_name_and_aliases().map(str::to_owned))
            .collect();
        if !listed.is_empty() {
            return Kind::OneOf(listed);
        }
        let name = match arg.get_value_names() {
            Some([first, ..]) => first.as_str().to_uppercase(),
            _ => arg.get_id().as_str().to_uppercase(),
        };
        let probes: &'static [&'static str] = if name.contains("SIG") {
            SIGNALS
        } else if name.contains("DUR") || name.contains("TIMEOUT") {
            DURATIONS
        } else if name.contains("TARGET") || name.contains("PID") {
            TARGETS
        } else if name.contains("PATTERN") {
            PATTERNS
        } else if name.contains("UID") || name.contains("USER") {
            USERS
        } else if ["N", "NUM", "FD", "PARENT"].contains(&name.as_str()) {
            NUMBERS
        } else {
            // CMD, DIR and whatever clap adds: any probe at all.
            return Kind::OneOf(every_probe());
        };
        Kind::Probes(probes)
    }

    fn values(&self) -> Vec<String> {
        match self {
            Kind::OneOf(values) => values.clone(),
            Kind::Probes(probes) => probes.iter().map(|p| (*p).to_owned()).collect(),
        }
    }
}

fn every_probe() -> Vec<String> {
    [
        SIGNALS, NUMBERS, DURATIONS, TARGETS, PATTERNS, USERS, ANYWHERE,
    ]
    .concat()
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// One option of a subcommand: how it is spelled, and what value it takes.
#[derive(Debug, Clone)]
struct Opt {
    spellings: Vec<String>,
    value: Option<Vec<String>>,
}

/// One subcommand (or the top level): the words that name it, its
/// options, and the values of its positional arguments.
#[derive(Debug, Clone)]
struct Sub {
    path: Vec<String>,
    options: Vec<Opt>,
    positionals: Vec<String>,
}

/// Every command of clap's tree, depth first, help included.
fn grammar() -> Vec<Sub> {
    let mut root = Cli::command();
    root.build();
    let mut subs = Vec::new();
    walk(&root, Vec::new(), &mut subs);
    subs
}

fn walk(command: &clap::Command, path: Vec<String>, subs: &mut Vec<Sub>) {
    let mut sub = Sub {
        path: path.clone(),
        options: Vec::new(),
        positionals: Vec::new(),
    };
    for arg in command.get_arguments() {
        let values = arg
            .get_action()
            .takes_values()
            .then(|| Kind::of(arg).values());
        if arg.is_positional() {
            sub.positionals.extend(values.unwrap_or_default());
            continue;
        }
        let longs = arg.get_long_and_visible_aliases().unwrap_or_default();
        let shorts = arg.get_short_and_visible_aliases().unwrap_or_default();
        let spellings = longs
            .into_iter()
            .map(|long| format!("--{long}"))
            .chain(shorts.into_iter().map(|short| format!("-{short}")))
            .collect();
        sub.options.push(Opt {
            spellings,
            value: values,
        });
    }
    subs.push(sub);
    for child in command.get_subcommands() {
        for name in std::iter::once(child.get_name()).chain(child.get_all_aliases()) {
            let mut path = path.clone();
            path.push(name.to_owned());
            walk(child, path, subs);
        }
    }
}

/// One piece of a command line after the subcommand's name.
fn piece(sub: Sub) -> impl Strategy<Value = Vec<OsString>> {
    let options = sub.options.clone();
    let option = (
        0..options.len().max(1),
        any::<prop::sample::Index>(),
        0..3u8,
    )
        .prop_map(move |(o, pick, form)| {
            let Some(opt) = options.get(o) else {
                return Vec::new();
            };
            let spelling = pick.get(&opt.spellings).clone();
            let Some(values) = &opt.value else {
                return vec![spelling];
            };
            let value = pick.get(values).clone();
            match form {
                // --opt=value, or -ovalue for a short one.
                0 if spelling.starts_with("--") => vec![format!("{spelling}={value}")],
                0 => vec![format!("{spelling}{value}")],
                // The option with its value missing.
                1 => vec![spelling],
                _ => vec![spelling, value],
            }
        });
    let positional = if sub.positionals.is_empty() {
        proptest::sample::select(every_probe()).boxed()
    } else {
        proptest::sample::select(sub.positionals.clone()).boxed()
    };
    prop_oneof![
        4 => option.prop_map(|words| words.into_iter().map(OsString::from).collect()),
        3 => positional.prop_map(|word| vec![OsString::from(word)]),
        1 => noise().prop_map(|word| vec![word]),
    ]
}

/// A word from nowhere in particular.
fn noise() -> impl Strategy<Value = OsString> {
    prop_oneof![
        2 => proptest::sample::select(every_probe()).prop_map(OsString::from),
        1 => any::<String>().prop_map(OsString::from),
        1 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(OsString::from_vec),
        1 => (proptest::sample::select(every_probe()), any::<u64>())
            .prop_map(|(w, n)| OsString::from(format!("{w}{n}"))),
    ]
}

fn command_line() -> impl Strategy<Value = Vec<OsString>> {
    proptest::sample::select(grammar()).prop_flat_map(|sub| {
        let path = sub.path.clone();
        proptest::collection::vec(piece(sub), 0..6).prop_map(move |pieces| {
            let mut words = vec![OsString::from("prochandle")];
            words.extend(path.iter().map(OsString::from));
            words.extend(pieces.into_iter().flatten());
            words
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn no_command_line_panics(args in command_line()) {
        // Ok or a usage error: either is fine, a panic is not.
        let _ = plan(args);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn no_bag_of_words_panics(words in proptest::collection::vec(noise(), 0..8)) {
        let mut args = vec![OsString::from("prochandle")];
        args.extend(words);
        let _ = plan(args);
    }
}

#[test]
fn the_grammar_is_clap_s_own_tree() {
    let subs = grammar();
    let named = |name: &str| subs.iter().find(|s| s.path == [name]);
    for name in ["tree", "manpages", "kill", "run", "completions", "help"] {
        assert!(named(name).is_some(), "{name} is missing from the grammar");
    }
    for (name, opt) in [
        ("kill", "--signal"),
        ("kill", "-s"),
        ("kill", "--then"),
        ("kill", "-h"),
        ("run", "--kill-after"),
        ("run", "-k"),
        ("wait", "--help"),
    ] {
        let sub = named(name).unwrap();
        let spelt = sub
            .options
            .iter()
            .any(|o| o.spellings.iter().any(|s| s == opt));
        assert!(spelt, "{name} {opt} is missing from the grammar");
    }
    let shells = &named("completions").unwrap().positionals;
    assert!(shells.iter().any(|s| s == "bash"), "{shells:?}");
}

#[test]
fn the_reported_overflows_are_planned_not_panicked() {
    for line in [
        "prochandle wait --timeout 10000000000000000000 1",
        "prochandle kill --timeout 10000000000000000000s 1",
        "prochandle kill -RTMIN+99999999999 1",
        "prochandle kill -l 99999999999999999999",
    ] {
        let args = line.split(' ').map(OsString::from).collect();
        let _ = plan(args);
    }
}
