//! kill(1)'s listings: `-l` (names, wrapped as procps wraps them), `-l
//! SIG` (one form to the other), `-l 0xMASK` (util-linux: the names in a
//! mask), `-L` (procps' table) and `-d PID` (util-linux: a process's
//! signal masks).

use prochandle::linux::ProcessExt;
use prochandle::{Process, Signal};

use super::signals;
use crate::output;

/// The classic signals, 1 to 31, as procps lists them.
fn classic() -> Vec<Signal> {
    Signal::all()
        .into_iter()
        .filter(|s| (1..=31).contains(&s.as_raw()))
        .collect()
}

/// `-l`: every name on lines that wrap after column 73; `-l WHICH`: the
/// other form of one signal, or the names in a `0x` mask. An unknown
/// signal is said on stderr with status 0, as procps does.
pub fn list(which: Option<&str>) -> u8 {
    let Some(which) = which else {
        let mut text = String::new();
        let mut column = 0;
        for (i, signal) in classic().into_iter().enumerate() {
            if i > 0 {
                if column > 73 {
                    text.push('\n');
                    column = 0;
                } else {
                    text.push(' ');
                    column += 1;
                }
            }
            let name = signals::procps_name(signal);
            column += name.len();
            text.push_str(&name);
        }
        output::line(text);
        return 0;
    };
    if let Some(hex) = which.strip_prefix("0x") {
        let Ok(mask) = u64::from_str_radix(hex, 16) else {
            output::error(format!("invalid sigmask format: {which}"));
            return 1;
        };
        for name in mask_names(mask) {
            output::line(name);
        }
        return 0;
    }
    match convert(which) {
        Some(answer) => output::line(answer),
        None => output::error(format!("unknown signal name {which}")),
    }
    0
}

/// A number to its name (an exit status 128+N to N's, as `kill -l $?`),
/// or a name to its number.
fn convert(which: &str) -> Option<String> {
    if which.bytes().all(|b| b.is_ascii_digit()) && !which.is_empty() {
        let mut n: i32 = which.parse().ok()?;
        if n > 128 {
            n -= 128;
        }
        let signal = Signal::from_raw(n);
        return (n > 0)
            .then(|| signal.bare_name())?
            .map(|_| signals::procps_name(signal));
    }
    signals::by_name(which)
        .filter(|s| s.as_raw() > 0)
        .map(|s| s.as_raw().to_string())
}

/// The names of the signals whose bits are set (bit 0 is signal 1).
fn mask_names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| signals::procps_name(Signal::from_raw(bit + 1)))
        .collect()
}

/// `-L`: procps' table, seven cells of eleven columns a line.
pub fn table() {
    let cells: Vec<String> = classic()
        .into_iter()
        .map(|s| format!("{:2} {}", s.as_raw(), signals::procps_name(s)))
        .collect();
    for row in cells.chunks(7) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < 7 {
                line.push_str(&" ".repeat(11usize.saturating_sub(cell.len())));
            }
        }
        output::line(line);
    }
}

/// `-d PID`: each non-empty mask of `/proc/PID/status`, read while the
/// process is pinned, as `Label: NAME NAME `.
pub fn show_state(pid: &str) -> u8 {
    let Ok(pid) = pid.parse::<u32>() else {
        output::error(format!("invalid PID argument: '{pid}'"));
        return 1;
    };
    let status = Process::open(pid).ok().and_then(|process| {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        process.info().ok().map(|_| text)
    });
    let Some(status) = status else {
        output::error(format!("cannot open /proc/{pid}/status"));
        return 1;
    };
    let fields = [
        ("SigPnd:", "Pending (thread)"),
        ("ShdPnd:", "Pending (process)"),
        ("SigBlk:", "Blocked"),
        ("SigIgn:", "Ignored"),
        ("SigCgt:", "Caught"),
    ];
    for line in status.lines() {
        for (key, label) in fields {
            let Some(hex) = line.strip_prefix(key) else {
                continue;
            };
            let mask = u64::from_str_radix(hex.trim(), 16).unwrap_or(0);
            if mask != 0 {
                let names: String = mask_names(mask).iter().map(|n| format!("{n} ")).collect();
                output::line(format_args!("{label}: {names}"));
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(convert("9").as_deref(), Some("KILL"));
        assert_eq!(convert("137").as_deref(), Some("KILL"));
        assert_eq!(convert("HUP").as_deref(), Some("1"));
        assert_eq!(convert("SIGHUP").as_deref(), Some("1"));
        assert_eq!(convert("29").as_deref(), Some("POLL"));
        assert_eq!(convert("0"), None);
        assert_eq!(convert("x"), None);
        assert_eq!(mask_names(0b101), vec!["HUP", "QUIT"]);
    }
}
