//! No input may panic: arbitrary command lines, built from the grammar
//! (subcommands, options, signal, duration, target and pattern forms) and
//! from random bytes, go through the whole of reading a command line,
//! kill(1)'s `-SIG` forms, clap and each command's plan, which is pure
//! (it opens, signals and prints nothing), so that it can run here.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use proptest::prelude::*;

use crate::plan;

/// Words of the grammar, and values that probe the bounds.
const WORDS: &[&str] = &[
    "kill",
    "wait",
    "list",
    "info",
    "check",
    "getfd",
    "nsenter",
    "run",
    "completions",
    "bash",
    "--",
    "-",
    "--json",
    "--timeout",
    "--then",
    "--any",
    "--exit-status",
    "--match",
    "-m",
    "-f",
    "-x",
    "-i",
    "-u",
    "-U",
    "-P",
    "-n",
    "-o",
    "--newest",
    "--oldest",
    "-l",
    "-L",
    "-s",
    "-q",
    "--signal",
    "--thread",
    "--tree",
    "--quiet",
    "--as",
    "--kill-after",
    "--all",
    "-c",
    "-9",
    "-KILL",
    "-SIGKILL",
    "-RTMIN+1",
    "-RTMAX-2",
    "-0",
    "-65",
    "-RTMIN+99",
    "TERM",
    "RTMIN+1",
    "RTMAX-40",
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
    "10000000000000000000s",
    "1e400",
    "1.5m",
    "0.5",
    "500ms",
    "1d",
    "nan",
    "inf",
    "1:2",
    "1@2:x",
    "1:",
    "(",
    "a{1000}{1000}",
    "[[:alpha:]",
    "nginx",
    "root",
    "nobody",
    "no-such-user",
    "=",
    ",",
    "1,2,",
    "--help",
    "--version",
];

fn word() -> impl Strategy<Value = OsString> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(OsString::from),
        1 => any::<String>().prop_map(OsString::from),
        1 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(OsString::from_vec),
        1 => (proptest::sample::select(WORDS), any::<u64>())
            .prop_map(|(w, n)| OsString::from(format!("{w}{n}"))),
    ]
}

fn command_line() -> impl Strategy<Value = Vec<OsString>> {
    proptest::collection::vec(word(), 0..8).prop_map(|mut words| {
        words.insert(0, OsString::from("prochandle"));
        words
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
