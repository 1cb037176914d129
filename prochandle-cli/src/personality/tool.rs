//! What the procps personalities share: how a refusal is said, their
//! usage text, and the `-SIG` word kill and pkill take wherever it is.

use std::ffi::OsString;

use prochandle::Signal;

use super::pgrep::Mode;
use super::signals;

/// A refused command line: the message (if any), then the usage text or
/// the one-line hint (or, for a bad pattern, nothing more).
pub struct Refusal {
    pub message: Option<String>,
    pub usage: bool,
    pub hint: bool,
    /// getopt's own message: it begins with `argv[0]` as typed.
    pub from_getopt: bool,
}

impl Refusal {
    /// A getopt error: the message, then the usage.
    pub fn usage(refused: super::getopt::Refused) -> Refusal {
        Refusal {
            message: Some(refused.message),
            usage: true,
            hint: false,
            from_getopt: true,
        }
    }

    /// Says the message (under the name getopt or procps uses).
    pub fn say(&self) {
        match &self.message {
            Some(message) if self.from_getopt => {
                eprintln!("{}: {message}", super::typed_name());
            }
            Some(message) => crate::output::error(message),
            None => {}
        }
    }

    /// A bad value or missing criteria: the message, then the hint.
    pub fn message(message: impl Into<String>) -> Refusal {
        Refusal {
            message: Some(message.into()),
            usage: false,
            hint: true,
            from_getopt: false,
        }
    }

    /// The usage alone on stderr (`-?`).
    pub fn usage_alone() -> Refusal {
        Refusal {
            message: None,
            usage: true,
            hint: false,
            from_getopt: false,
        }
    }

    /// Nothing said, status 2 (a `--nslist` name procps does not know).
    pub fn silent() -> Refusal {
        Refusal {
            message: None,
            usage: false,
            hint: false,
            from_getopt: false,
        }
    }

    /// A message alone (a pattern the regex engine refuses).
    pub fn bare(message: impl Into<String>) -> Refusal {
        Refusal {
            message: Some(message.into()),
            usage: false,
            hint: false,
            from_getopt: false,
        }
    }
}

/// Removes and returns the first word that is `-` and a signal name or
/// number (procps reads it before its options, wherever it stands: `kill
/// -9 PID`, `pkill NAME -0`), by procps' rule ([`signals::procps_word`]):
/// a number from 0 to 93 is taken (one the kernel does not know fails
/// when sent, as with procps); a larger one is left for getopt, which
/// refuses it.
pub fn take_signal_word(args: &mut Vec<OsString>) -> Option<Signal> {
    let at = args.iter().position(|arg| {
        let text = arg.to_string_lossy();
        text.strip_prefix('-')
            .filter(|rest| !rest.is_empty())
            .is_some_and(|rest| signal_word(rest).is_some())
    })?;
    let word = args.remove(at);
    signal_word(&word.to_string_lossy()[1..])
}

fn signal_word(text: &str) -> Option<Signal> {
    signals::procps_word(text)
}

/// The usage text of pgrep, pkill or pidwait.
pub fn usage(mode: Mode) -> String {
    let own = match mode {
        Mode::Pgrep => {
            " -d, --delimiter <string>  output delimiter\n \
-l, --list-name           list PID and process name\n \
-a, --list-full           list PID and full command line\n \
-v, --inverse             negate the matching\n \
-w, --lightweight         list all TIDs\n \
-q, --quiet               print nothing, only the exit status\n     \
--identity            print PID:INODE (for kill) instead of the PID\n"
        }
        Mode::Pkill => {
            " -<sig>, --signal <sig>    the signal to send (name or number)\n \
-q, --queue <value>       send the signal with this integer value\n \
-e, --echo                say what is killed\n"
        }
        Mode::Pidwait => " -e, --echo                say the PIDs before waiting\n",
    };
    format!(
        "\nUsage:\n {} [options] <pattern>\n\nOptions:\n{own} \
-c, --count               count of matching processes\n \
-f, --full                match against the full command line\n \
-g, --pgroup <PGID,...>   match these process group IDs\n \
-G, --group <GID,...>     match these real group IDs\n \
-i, --ignore-case         match case-insensitively\n \
-n, --newest              select the most recently started\n \
-o, --oldest              select the least recently started\n \
-O, --older <seconds>     select those older than this\n \
-P, --parent <PPID,...>   match only children of these parents\n \
-s, --session <SID,...>   match these session IDs\n \
-t, --terminal <tty,...>  match by controlling terminal\n \
-u, --euid <ID,...>       match by effective IDs\n \
-U, --uid <ID,...>        match by real IDs\n \
-x, --exact               match the whole name exactly\n \
-F, --pidfile <file>      read a PID (or PID:INODE) from a file\n \
-L, --logpidfile          fail if the PID file is not locked\n \
-r, --runstates <state>   match these states [D,S,Z,...]\n \
-A, --ignore-ancestors    leave out our ancestors\n \
--cgroup <grp,...>        match these cgroup v2 paths\n \
--ns <PID>                match those in PID's namespaces\n \
--nslist <ns,...>         the namespace --ns compares: cgroup, ipc,\n                           \
mnt, net, pid, time, user or uts\n\n \
-h, --help     display this help and exit\n \
-V, --version  output version information and exit",
        crate::output::program()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn the_first_signal_word_is_taken_wherever_it_is() {
        let mut args = words("-USR1 -q 42 123");
        assert_eq!(take_signal_word(&mut args), Some(Signal::USR1));
        assert_eq!(args, words("-q 42 123"));
        let mut args = words("-e name -0");
        assert_eq!(take_signal_word(&mut args).map(Signal::as_raw), Some(0));
        assert_eq!(args, words("-e name"));
        let mut args = words("-q 42 123 -0garbage");
        assert_eq!(take_signal_word(&mut args), None);
        // Past procps' bound a number is no signal word, wherever it is.
        let mut args = words("-129 5 -70");
        assert_eq!(take_signal_word(&mut args).map(Signal::as_raw), Some(70));
        assert_eq!(args, words("-129 5"));
    }
}
