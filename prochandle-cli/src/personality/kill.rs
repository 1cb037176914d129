//! The `kill` personality: procps-ng kill(1)'s command line (`-SIG`
//! anywhere, `-s`, `-l [SIG]`, `-L`, `-q VALUE`), with util-linux kill's
//! additions (`-p`, `-a`, NAME targets, `-l 0xMASK`, `-d PID`, `-r`,
//! `PID:INODE`). Every target is pinned by a handle before it is
//! signalled: a PID recycled since it was typed or matched is never hit.
//! An option this personality does not know is refused, never read as a
//! target.

use std::ffi::OsString;

use prochandle::linux::ProcessExt;
use prochandle::{ErrorKind, Process, Signal};

use super::getopt::{self, Item, Spec, Value};
use super::signals;
use super::tables;
use super::tool;
use crate::output;
use crate::procs::{self, Proc};
use crate::target::Target;

const SPEC: Spec = Spec {
    shorts: "l::Ls:hVq:pad:r",
    longs: &[
        ("list", Value::Optional, 'l'),
        ("table", Value::None, 'L'),
        ("signal", Value::Required, 's'),
        ("help", Value::None, 'h'),
        ("version", Value::None, 'V'),
        ("queue", Value::Required, 'q'),
        ("pid", Value::None, 'p'),
        ("all", Value::None, 'a'),
        ("show-process-state", Value::Required, 'd'),
        ("require-handler", Value::None, 'r'),
        // procps reads `--s` as `--signal`; util-linux's
        // `--show-process-state`, which procps lacks, would make it
        // ambiguous. An exact name wins over prefixes.
        ("s", Value::Required, 's'),
    ],
    stop_at_operand: false,
    negative_numbers: true,
};

const USAGE: &str = "
Usage:
 kill [options] <pid>|<name>|<pid:inode> [...]

Options:
 <pid> [...]            signal every <pid> (-<pgid> a process group, -1 all)
 -<signal>, -s, --signal <signal>
                        the signal to send (a name or number)
 -q, --queue <value>    send the signal with this integer value
 -l, --list[=<signal>|=0x<mask>]
                        list signal names, or convert one to the other form
 -L, --table            list signal numbers and names as a table
 -p, --pid              print the PIDs a <name> selects; signal nothing
 -a, --all              <name> selects every user's processes, not only ours
 -r, --require-handler  signal only processes that catch the signal
 -d, --show-process-state <pid>
                        print the pending, blocked, ignored and caught signals

 -h, --help     display this help and exit
 -V, --version  output version information and exit";

/// What was asked for, once read.
struct Request {
    signal: Signal,
    value: Option<i32>,
    print_pids: bool,
    all_users: bool,
    require_handler: bool,
    targets: Vec<String>,
}

/// Runs `kill ARGS...` (without the program name).
pub fn main(args: &[OsString]) -> u8 {
    if args.is_empty() {
        eprintln!("{USAGE}");
        return 1;
    }
    let mut args = args.to_vec();
    // procps reads the first `-SIG` word, wherever it is, before its
    // options: `kill -9 PID`, `kill PID -KILL`.
    let signal = tool::take_signal_word(&mut args);
    let items = match getopt::parse(&SPEC, &args) {
        Ok(items) => items,
        Err(refused) => return refuse(&refused),
    };
    let mut request = Request {
        signal: signal.unwrap_or(Signal::TERM),
        value: None,
        print_pids: false,
        all_users: false,
        require_handler: false,
        targets: Vec::new(),
    };
    let operands: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            Item::Operand(word) => Some(word.to_string_lossy().into_owned()),
            Item::Opt(..) => None,
        })
        .collect();
    for item in items {
        let Item::Opt(key, value) = item else {
            continue;
        };
        if let Some(code) = option(&mut request, key, value, &operands) {
            return code;
        }
    }
    request.targets = operands;
    if request.targets.is_empty() {
        eprintln!("{USAGE}");
        return 1;
    }
    send_all(&request)
}

/// A command line getopt refuses. procps silences getopt and says
/// `invalid argument X` (X its `optopt`, a NUL byte for an unknown long
/// option), then the usage, status 1, except for a digit: there procps
/// signals the negative of that one digit (`-129` becomes `kill(-1)`,
/// every process; `-0x10` our own group). An option never becomes a
/// target here: that word is refused, nothing is sent.
fn refuse(refused: &getopt::Refused) -> u8 {
    let Some(digit) = refused.letter.to_digit(10) else {
        output::error(format!("invalid argument {}", refused.letter));
        eprintln!("{USAGE}");
        return 1;
    };
    let word = &refused.word;
    let reached = match digit {
        0 => "our own process group".to_owned(),
        1 => "every process (-1)".to_owned(),
        group => format!("process group {group}"),
    };
    let mut message = format!(
        "{word}: neither a signal (numbers 0 to {}) nor an option; procps would signal {reached}: nothing sent",
        signals::procps_word_bound()
    );
    if word[1..].bytes().all(|b| b.is_ascii_digit()) {
        message.push_str(&format!(
            " (for process group {}, write -- {word})",
            &word[1..]
        ));
    }
    output::error(message);
    1
}

/// Applies one option; `Some(status)` when it ends the command.
fn option(
    request: &mut Request,
    key: char,
    value: Option<String>,
    operands: &[String],
) -> Option<u8> {
    match key {
        'l' => {
            let which = value.or_else(|| operands.first().cloned());
            Some(tables::list(which.as_deref()))
        }
        'L' => {
            tables::table();
            Some(0)
        }
        's' => {
            let text = value.unwrap_or_default();
            match signals::procps(&text) {
                Some(signal) => request.signal = signal,
                None => {
                    output::error(format!("unknown signal name {text}"));
                    return Some(1);
                }
            }
            None
        }
        'q' => {
            let text = value.unwrap_or_default();
            match text.trim_start().parse::<i32>() {
                Ok(n) => request.value = Some(n),
                Err(_) => {
                    output::error(format!(
                        "must be an integer value to be passed with the signal.: '{text}'"
                    ));
                    return Some(1);
                }
            }
            None
        }
        'p' => {
            request.print_pids = true;
            None
        }
        'a' => {
            request.all_users = true;
            None
        }
        'r' => {
            request.require_handler = true;
            None
        }
        'd' => Some(tables::show_state(&value.unwrap_or_default())),
        'h' => {
            output::line(USAGE);
            Some(0)
        }
        _ => {
            output::line(format_args!(
                "kill from prochandle {}",
                env!("CARGO_PKG_VERSION")
            ));
            Some(0)
        }
    }
}

/// Signals every target; 0 if all were signalled, else 1.
fn send_all(request: &Request) -> u8 {
    let me = Proc::read(std::process::id()).unwrap_or_default();
    let mut failed = false;
    for text in &request.targets {
        let pinned = match resolve(text, request, &me) {
            Ok(pinned) => pinned,
            Err(message) => {
                if !message.is_empty() {
                    output::error(message);
                }
                failed = true;
                continue;
            }
        };
        if request.print_pids {
            for process in &pinned {
                output::line(process.pid());
            }
            continue;
        }
        for process in pinned {
            if let Err(message) = send(request, &process) {
                output::error(message);
                failed = true;
            }
        }
    }
    u8::from(failed)
}

/// Sends the signal through the pin; a process that has exited but is not
/// yet reaped takes the signal as kill(2) lets it (and ignores it).
fn send(request: &Request, process: &Process) -> Result<(), String> {
    if request.require_handler && !catches(process, request.signal) {
        return Ok(());
    }
    let sent = match request.value {
        Some(value) => process.signal_with_value(request.signal, value),
        None => process.signal(request.signal),
    };
    match sent {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == ErrorKind::Done => Ok(()),
        Err(err) => Err(format!("({}): {}", process.pid(), errno_text(&err))),
    }
}

/// Whether the process has a handler for `signal` (`SigCgt`), read while
/// it is pinned.
fn catches(process: &Process, signal: Signal) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{}/status", process.pid()));
    let caught = status.ok().and_then(|text| {
        let mask = text.lines().find_map(|l| l.strip_prefix("SigCgt:"))?;
        u64::from_str_radix(mask.trim(), 16).ok()
    });
    process.info().is_ok()
        && caught.is_some_and(|mask| {
            let bit = signal.as_raw() - 1;
            (0..64).contains(&bit) && mask & (1 << bit) != 0
        })
}

/// The C library's words for the error, as kill(1) prints them.
pub fn errno_text(err: &prochandle::Error) -> String {
    match err.raw_os_error() {
        Some(errno) => output::os_message(&std::io::Error::from_raw_os_error(errno)),
        None if err.kind() == ErrorKind::NotFound => "No such process".to_owned(),
        None if err.kind() == ErrorKind::PermissionDenied => "Operation not permitted".to_owned(),
        None => err.to_string(),
    }
}

/// The processes a target names, each pinned: a PID (a thread's ID names
/// its process, as kill(2) takes it), an identity, `-PGID`, `-1` (every
/// process we may signal but PID 1 and ourselves), `0` (our group), or a
/// NAME.
fn resolve(text: &str, request: &Request, me: &Proc) -> Result<Vec<Process>, String> {
    if let Some(group) = text.strip_prefix('-') {
        let group: u32 = group
            .parse()
            .map_err(|_| format!("failed to parse argument: '{text}'"))?;
        return group_members(text, |p| group == 1 || p.pgrp == group);
    }
    if text == "0" {
        return group_members(text, |p| p.pgrp == me.pgrp);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return pid_target(text).map(|p| vec![p]);
    }
    if let Ok(target) = text.parse::<Target>() {
        return target
            .open(output::Action::Kill)
            .map(|p| vec![p])
            .map_err(|_| format!("({text}): No such process"));
    }
    let wanted: String = text.chars().take(15).collect();
    let mine = |p: &Proc| p.ruid == me.ruid || p.euid == me.euid;
    let found = procs::select(&[std::process::id()], |p| {
        p.comm == wanted && (request.all_users || mine(p))
    });
    if found.is_empty() {
        // util-linux's message, under its short name (`kill:`), as
        // util-linux prints it.
        let short = std::path::Path::new(output::program())
            .file_name()
            .map_or_else(|| "kill".into(), |n| n.to_string_lossy());
        eprintln!("{short}: cannot find process \"{text}\"");
        return Err(String::new());
    }
    Ok(found.into_iter().map(|m| m.process).collect())
}

/// A PID; a thread's ID is its process's (pinned, then checked that the
/// thread still belongs to it).
fn pid_target(text: &str) -> Result<Process, String> {
    let gone = || format!("({text}): No such process");
    let pid: u32 = text.parse().map_err(|_| gone())?;
    let tgid = crate::target::thread_group(pid).unwrap_or(pid);
    let process = Process::open(tgid).map_err(|err| format!("({text}): {}", errno_text(&err)))?;
    if tgid != pid && crate::target::thread_group(pid) != Some(tgid) {
        return Err(gone());
    }
    Ok(process)
}

/// Every process of a group (`judge`), pinned, ourselves last (kill(2)
/// with `0` reaches the caller too; with `-1` it does not).
fn group_members(text: &str, judge: impl Fn(&Proc) -> bool) -> Result<Vec<Process>, String> {
    let me = std::process::id();
    let everyone = text == "-1";
    let kernel_thread = |p: &Proc| p.pid == 2 || p.ppid == 2;
    let mut skip = vec![me];
    if everyone {
        skip.push(1);
    }
    let mut found: Vec<Process> = procs::select(&skip, |p| judge(p) && !kernel_thread(p))
        .into_iter()
        .map(|m| m.process)
        .collect();
    if !everyone && procs::pin(me, &judge).is_some() {
        found.extend(Process::current().ok());
    }
    if found.is_empty() {
        return Err(format!("({text}): No such process"));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn queue_takes_its_value_never_a_target() {
        let items = getopt::parse(&SPEC, &words("-q 42 123")).unwrap();
        assert_eq!(items[0], Item::Opt('q', Some("42".to_owned())));
        assert_eq!(items[1], Item::Operand("123".into()));
        assert_eq!(items.len(), 2);
        let items = getopt::parse(&SPEC, &words("-- -123")).unwrap();
        assert_eq!(items, vec![Item::Operand("-123".into())]);
        assert!(getopt::parse(&SPEC, &words("-z 1")).is_err());
    }
}
