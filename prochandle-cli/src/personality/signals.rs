//! Signal names and numbers as the replaced tools read and print them.

use prochandle::Signal;

/// The highest signal number a tool accepts: `SIGRTMAX` where there are
/// real-time signals, else 64.
fn bound() -> i32 {
    Signal::rtmax().map_or(64, Signal::as_raw)
}

/// GNU's signal operand (timeout `-s`): a number (an exit status 128+N
/// stands for N, as a shell's `$?`), or a name in any case with or
/// without `SIG`, `EXIT` for 0, `RTMIN+N`, `RTMAX-N`.
pub fn from_operand(text: &str) -> Option<Signal> {
    let number = if text.starts_with(|c: char| c.is_ascii_digit()) {
        let n: i64 = text.parse().ok()?;
        let n = i32::try_from(n).ok()?;
        // WIFSIGNALED: the low 7 bits name a signal (not 0, not 0x7f).
        let low = n & 0x7f;
        if low != 0 && low != 0x7f {
            low
        } else {
            n
        }
    } else {
        return by_name(text);
    };
    (0..=bound())
        .contains(&number)
        .then(|| Signal::from_raw(number))
}

/// A signal name in any case, with or without `SIG`; `EXIT` is 0; a
/// number after `SIG` is taken as a number.
pub fn by_name(text: &str) -> Option<Signal> {
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if bare == "EXIT" {
        return Some(Signal::from_raw(0));
    }
    if bare.is_empty() {
        return None;
    }
    bare.parse::<Signal>().ok()
}

/// procps' signal argument (`kill -s`, `-SIG`, `pkill --signal`): a
/// plain number up to the bound, or a name.
#[cfg(target_os = "linux")]
pub fn procps(text: &str) -> Option<Signal> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let n: i32 = text.parse().ok()?;
        return (0..=bound()).contains(&n).then(|| Signal::from_raw(n));
    }
    by_name(text).filter(|s| s.as_raw() != 0 || text.eq_ignore_ascii_case("exit"))
}

/// The name procps prints: `TERM`, `POLL` for `IO`, `RTMIN+1`; the
/// number for one without a name.
#[cfg(target_os = "linux")]
pub fn procps_name(signal: Signal) -> String {
    if signal == Signal::IO {
        return "POLL".to_owned();
    }
    signal
        .bare_name()
        .unwrap_or_else(|| signal.as_raw().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands() {
        assert_eq!(from_operand("KILL"), Some(Signal::KILL));
        assert_eq!(from_operand("sigkill"), Some(Signal::KILL));
        assert_eq!(from_operand("9"), Some(Signal::KILL));
        assert_eq!(from_operand("137"), Some(Signal::KILL));
        assert_eq!(from_operand("0").map(Signal::as_raw), Some(0));
        assert_eq!(from_operand("EXIT").map(Signal::as_raw), Some(0));
        assert_eq!(from_operand("ALRM"), Some(Signal::ALRM));
        for bad in ["", "FOO", "128", "9x", "SIG", "-1"] {
            assert_eq!(from_operand(bad), None, "{bad}");
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn procps_forms() {
        assert_eq!(procps("USR1"), Some(Signal::USR1));
        assert_eq!(procps("SIGUSR2"), Some(Signal::USR2));
        assert_eq!(procps("0").map(Signal::as_raw), Some(0));
        assert_eq!(procps("137"), None);
        assert_eq!(procps_name(Signal::IO), "POLL");
        assert_eq!(procps_name(Signal::HUP), "HUP");
    }
}
