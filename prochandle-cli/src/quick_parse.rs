//! The two command lines that run in loops, read without building the
//! whole command line: `run ...` (one wrapped command per test, per CI
//! step) and `--version` (a script checking for the tool).
//!
//! clap builds every subcommand, each argument and its help text, before
//! it reads a word; for these two lines only `run`'s arguments (or none)
//! are built. Only a clean parse is taken from here: anything else (help,
//! a usage error, a `--version` with more words) returns `None` and the
//! full parser reads the line again, so every message comes from the one
//! full command line, and what is accepted here is exactly what it
//! accepts (the tests compare the two on many lines).

use std::ffi::OsString;

use clap::{Args, FromArgMatches};

use crate::cli::{Command, RunArgs};

/// What the quick parse made of a command line.
#[derive(Debug)]
pub enum Quick {
    /// `run` with arguments the full parser would take the same way.
    Run(Box<RunArgs>),
    /// `--version` or `-V` alone: clap's own version message, to print
    /// as the full parser would.
    Version(clap::Error),
}

/// The quick reading of `args` (after [`argv::rewrite`](crate::argv)), or
/// `None` to parse it fully.
pub fn parse(args: &[OsString]) -> Option<Quick> {
    let first = args.get(1)?;
    if args.len() == 2 && (first == "--version" || first == "-V") {
        let err = top().try_get_matches_from(args).err()?;
        return (err.kind() == clap::error::ErrorKind::DisplayVersion)
            .then_some(Quick::Version(err));
    }
    if first != "run" {
        return None;
    }
    if let Some(plain) = plain_run(&args[2..]) {
        return Some(Quick::Run(Box::new(plain)));
    }
    let matches = top()
        .subcommand(RunArgs::augment_args(clap::Command::new("run")))
        .try_get_matches_from(args)
        .ok()?;
    let (_, run) = matches.subcommand()?;
    RunArgs::from_arg_matches(run)
        .ok()
        .map(|args| Quick::Run(Box::new(args)))
}

/// `run [FLAG]... DURATION CMD [ARG]...` where each FLAG is one of
/// `run`'s options that take no value and conflict with none of the
/// others (`--child-only`, `-v`...), given once, and no later word
/// starts with `-` (no
/// option, no `--`): every other option at its default and every later
/// word an operand, which is the full parser's reading too; read without
/// building even `run`'s arguments (a test runner's usual line).
fn plain_run(words: &[OsString]) -> Option<RunArgs> {
    let mut args = RunArgs {
        timeout: None,
        kill_after: None,
        signal: crate::cli::DEFAULT_SIGNAL.parse().ok()?,
        preserve_status: false,
        foreground: false,
        child_only: false,
        guardian: false,
        no_guardian: false,
        verbose: false,
        time: false,
        control: crate::tree_control::TreeControlArgs::default(),
        pidfile: None,
        leaks: crate::cli::Leaks::Kill,
        report: false,
        report_file: None,
        words: Vec::new(),
        command: Vec::new(),
    };
    let flags = words
        .iter()
        .take_while(|w| w.as_encoded_bytes().starts_with(b"-"));
    let mut taken = 0;
    for flag in flags {
        let set = match flag.to_str()? {
            "--preserve-status" => &mut args.preserve_status,
            "--foreground" => &mut args.foreground,
            "--child-only" => &mut args.child_only,
            "--no-guardian" => &mut args.no_guardian,
            "--verbose" | "-v" => &mut args.verbose,
            "--time" => &mut args.time,
            _ => return None,
        };
        // Given twice is the full parser's error to report.
        if std::mem::replace(set, true) {
            return None;
        }
        taken += 1;
    }
    let operands = &words[taken..];
    let plain = |w: &OsString| !w.is_empty() && !w.as_encoded_bytes().starts_with(b"-");
    if operands.len() < 2 || !operands.iter().all(plain) {
        return None;
    }
    args.words = operands.to_vec();
    Some(args)
}

/// The top of the command line as `Cli` declares it, without subcommands.
fn top() -> clap::Command {
    clap::Command::new("prochandle").version(env!("CARGO_PKG_VERSION"))
}

impl Quick {
    /// The subcommand, for a `run` line.
    pub fn into_command(self) -> Result<Command, clap::Error> {
        match self {
            Quick::Run(args) => Ok(Command::Run(*args)),
            Quick::Version(message) => Err(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn words(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    /// The full parser's reading, in the same form.
    fn full(line: &str) -> Result<String, String> {
        crate::cli::Cli::try_parse_from(words(line))
            .map(|cli| format!("{:?}", cli.command))
            .map_err(|e| e.render().to_string())
    }

    #[test]
    fn run_lines_read_as_the_full_parser_reads_them() {
        let lines = [
            "prochandle run 10 /bin/true",
            "prochandle run 10 ls -l",
            "prochandle run 10 echo -v -k 3 -- x",
            "prochandle run -s INT -k 5 10 make -j4",
            "prochandle run --signal=KILL --kill-after=1s 2.5 sh -c exit",
            "prochandle run --timeout 3 -- sleep 1",
            "prochandle run --child-only --preserve-status 0 true",
            "prochandle run --foreground -v --time 1m cat",
            "prochandle run --guardian 10 true",
            "prochandle run --no-guardian -k 1 10 true",
            "prochandle run -- true",
            "prochandle run 10",
            "prochandle run 0 x",
            "prochandle run 1.5s sh x y",
            "prochandle run 10 /bin/true help",
            "prochandle run 10 true -- x",
            "prochandle run 10 env A=b=c",
        ];
        for line in lines {
            let quick = parse(&words(line)).map(|q| q.into_command().map(|c| format!("{c:?}")));
            match (quick, full(line)) {
                (Some(Ok(q)), Ok(f)) => assert_eq!(q, f, "{line}"),
                (None, _) => panic!("{line}: expected the quick parse to take it"),
                (q, f) => panic!("{line}: quick {q:?}, full {f:?}"),
            }
        }
    }

    /// The options [`plain_run`] reads.
    const PLAIN_FLAGS: [&str; 7] = [
        "--preserve-status",
        "--foreground",
        "--child-only",
        "--no-guardian",
        "--verbose",
        "-v",
        "--time",
    ];

    /// Whether `words` (after `run`) is a line [`plain_run`] should take:
    /// known flags, each once, then plain operands.
    fn is_plain(words: &[&str]) -> bool {
        let flags = words.iter().take_while(|w| w.starts_with('-')).count();
        let (flags, operands) = words.split_at(flags);
        let known = flags.iter().all(|f| PLAIN_FLAGS.contains(f));
        let long: Vec<&str> = flags
            .iter()
            .map(|&f| if f == "-v" { "--verbose" } else { f })
            .collect();
        let once = long.iter().enumerate().all(|(i, f)| !long[..i].contains(f));
        known
            && once
            && operands.len() >= 2
            && operands
                .iter()
                .all(|w| !w.is_empty() && !w.starts_with('-'))
    }

    #[test]
    fn plain_lines_skip_clap_and_read_as_the_full_parser_reads_them() {
        let mut lines: Vec<Vec<&str>> = vec![
            vec!["10", "/bin/true"],
            vec!["0", "x"],
            vec!["1m", "sh", "a b", "ünï", "@x", "+3"],
            vec!["10", "true", "help", "run", "--x"],
            vec!["-1", "true"],
            vec!["10", "true", ""],
            vec!["--child-only", "--child-only", "10", "true"],
            vec!["-v", "--verbose", "10", "true"],
            vec!["--child-only", "--guardian", "10", "true"],
            vec!["--foreground", "-k", "1", "10", "true"],
            vec!["--time", "--", "10", "true"],
            vec!["--time", "10", "true", "-x"],
            vec!["--no-guardian", "10"],
        ];
        for flag in PLAIN_FLAGS {
            lines.push(vec![flag, "10", "/bin/true"]);
            for other in PLAIN_FLAGS {
                lines.push(vec![flag, other, "1.5", "sh", "x"]);
            }
        }
        for words in &lines {
            let mut line: Vec<OsString> = vec!["prochandle".into(), "run".into()];
            line.extend(words.iter().map(OsString::from));
            let plain = is_plain(words);
            assert_eq!(plain_run(&line[2..]).is_some(), plain, "{words:?}");
            let quick = parse(&line).map(|q| q.into_command().map(|c| format!("{c:?}")));
            let full = crate::cli::Cli::try_parse_from(&line)
                .map(|cli| format!("{:?}", cli.command))
                .map_err(|e| e.render().to_string());
            match (quick, full) {
                (Some(Ok(q)), Ok(f)) => assert_eq!(q, f, "{words:?}"),
                (None, _) if !plain => {}
                (q, f) => panic!("{words:?}: quick {q:?}, full {f:?}"),
            }
        }
    }

    #[test]
    fn what_it_takes_the_full_parser_takes_alike() {
        let lines = [
            "prochandle run",
            "prochandle run --help",
            "prochandle run -h",
            "prochandle run --no-such-option 10 true",
            "prochandle run -s NOSUCH 10 true",
            "prochandle run --guardian --child-only 10 true",
            "prochandle run --guardian --no-guardian 10 true",
            "prochandle run -V",
            "prochandle run -k",
            "prochandle check",
            "prochandle --version extra",
            "prochandle --help",
            "prochandle",
        ];
        for line in lines {
            match (parse(&words(line)), full(line)) {
                (None, _) => {}
                (Some(Quick::Run(q)), Ok(f)) => {
                    assert_eq!(format!("{:?}", Command::Run(*q)), f, "{line}")
                }
                (q, f) => panic!("{line}: quick {q:?}, full {f:?}"),
            }
        }
        for line in ["prochandle run --help", "prochandle run -s NOSUCH 10 true"] {
            assert!(parse(&words(line)).is_none(), "{line}");
        }
    }

    #[test]
    fn the_version_message_is_the_full_parsers() {
        for line in ["prochandle --version", "prochandle -V", "./x/prochandle -V"] {
            let Some(Quick::Version(quick)) = parse(&words(line)) else {
                panic!("{line}: not taken");
            };
            assert_eq!(Err(quick.render().to_string()), full(line), "{line}");
        }
    }
}
