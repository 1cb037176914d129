//! kill(1)'s `-SIG` and `-NUM` forms, which clap cannot take as options:
//! `kill -9 PID`, `kill -KILL PID`, `kill -SIGKILL PID`, `kill -RTMIN+1 PID`
//! become `kill --signal=9 PID` and so on before clap sees them (procps
//! reads them the same way, ahead of its option parser).
//!
//! Only arguments of `kill` are rewritten, only before the first TARGET or
//! `--`, only when the text after the dash is a signal (no kill option
//! letter is one), and never the value of an option that takes one.

use std::ffi::OsString;

use prochandle::Signal;

/// `kill`'s options that take their value in the next argument.
const TAKES_VALUE: &[&str] = &[
    "-s",
    "--signal",
    "-n",
    "--number",
    "--timeout",
    "--then",
    "-u",
    "--euid",
    "-U",
    "--uid",
    "-P",
    "--parent",
];

/// The arguments with kill's `-SIG` forms spelled `--signal=SIG`.
pub fn rewrite(args: Vec<OsString>) -> Vec<OsString> {
    let Some(kill_at) = subcommand_index(&args).filter(|&i| args[i] == "kill") else {
        return args;
    };
    let mut out = args;
    let mut skip_next = false;
    for arg in out.iter_mut().skip(kill_at + 1) {
        if skip_next {
            skip_next = false;
            continue;
        }
        let Some(text) = arg.to_str() else { break };
        if text == "--" || !text.starts_with('-') || text == "-" {
            break;
        }
        if TAKES_VALUE.contains(&text) {
            skip_next = true;
            continue;
        }
        let name = &text[1..];
        if !name.starts_with('-') && name.parse::<Signal>().is_ok() {
            *arg = OsString::from(format!("--signal={name}"));
        }
    }
    out
}

/// Where the subcommand is: the first argument after the program name
/// that is not an option (`prochandle` has no global option that takes a
/// value).
fn subcommand_index(args: &[OsString]) -> Option<usize> {
    args.iter()
        .enumerate()
        .skip(1)
        .find(|(_, a)| !a.to_str().is_some_and(|t| t.starts_with('-')))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(line: &str) -> String {
        let args = line.split(' ').map(OsString::from).collect();
        let out: Vec<String> = rewrite(args)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        out.join(" ")
    }

    #[test]
    fn signal_forms_become_the_option() {
        assert_eq!(rewritten("p kill -9 42"), "p kill --signal=9 42");
        assert_eq!(rewritten("p kill -KILL 42"), "p kill --signal=KILL 42");
        assert_eq!(
            rewritten("p kill -SIGKILL 42"),
            "p kill --signal=SIGKILL 42"
        );
        // Real-time signals are Linux's: elsewhere -RTMIN+1 is no signal
        // form and is left for clap to refuse.
        if prochandle::Signal::rtmin().is_some() {
            assert_eq!(
                rewritten("p kill -RTMIN+1 42"),
                "p kill --signal=RTMIN+1 42"
            );
        }
        assert_eq!(
            rewritten("p kill --json -0 42"),
            "p kill --json --signal=0 42"
        );
    }

    #[test]
    fn everything_else_is_left_alone() {
        for line in [
            "p kill -s 9 42",
            "p kill -l 9",
            "p kill -L",
            "p kill -n 9 42",
            "p kill --timeout 5 -- -9",
            "p kill 42 -9",
            "p kill --then 9 42",
            "p wait -9 42",
            "p kill --match -f x",
            "p kill -P 1 -x x",
        ] {
            assert_eq!(rewritten(line), line);
        }
    }
}
