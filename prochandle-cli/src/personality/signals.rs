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

/// The highest number procps 4.0.2 takes as a signal word (`-NUM`):
/// its `signal_name_to_number` refuses a number N with N + `SIGRTMIN` over
/// 127, so 93 with the C library's `SIGRTMIN` of 34.
#[cfg(target_os = "linux")]
pub fn procps_word_bound() -> i32 {
    127 - Signal::rtmin().map_or(34, Signal::as_raw)
}

/// procps' reading of the text after the dash of a `-SIG` word (kill and
/// pkill look for the first one before their options): a name (`KILL`,
/// `SIGKILL`, `NULL` and `EXIT` for 0), or a number as `strtol` reads it
/// whole (blanks and a sign before the digits, `SIG9` too) from 0 to
/// [`procps_word_bound`], also after `RTMIN+`. Anything else is no
/// signal word: getopt then reads it as options.
#[cfg(target_os = "linux")]
pub fn procps_word(text: &str) -> Option<Signal> {
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if bare == "NULL" {
        return Some(Signal::from_raw(0));
    }
    let (offset, digits) = match bare.strip_prefix("RTMIN+") {
        Some(rest) => (Signal::rtmin().map_or(34, Signal::as_raw), rest),
        None => (0, bare),
    };
    if let Some(number) = whole_strtol(digits) {
        return (0..=i64::from(procps_word_bound()))
            .contains(&number)
            .then(|| Signal::from_raw(number as i32 + offset));
    }
    if offset != 0 || bare.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    procps(text)
}

/// `strtol(text, &end, 10)` when it reads all of `text`: C blanks, a
/// sign, at least one digit, nothing after (saturating, as it does).
#[cfg(target_os = "linux")]
fn whole_strtol(text: &str) -> Option<i64> {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = digits.bytes().fold(0i64, |value, digit| {
        value
            .saturating_mul(10)
            .saturating_add(i64::from(digit - b'0'))
    });
    Some(if negative { -value } else { value })
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

    #[test]
    #[cfg(target_os = "linux")]
    fn procps_signal_words() {
        let raw = |text: &str| procps_word(text).map(Signal::as_raw);
        let bound = procps_word_bound();
        assert_eq!(bound, 127 - Signal::rtmin().unwrap().as_raw());
        assert_eq!(raw("9"), Some(9));
        assert_eq!(raw("0009"), Some(9));
        assert_eq!(raw("+9"), Some(9));
        assert_eq!(raw(" 9"), Some(9));
        assert_eq!(raw("-0"), Some(0));
        assert_eq!(raw("SIG9"), Some(9));
        assert_eq!(raw("KILL"), Some(9));
        assert_eq!(raw("sigusr1"), Some(Signal::USR1.as_raw()));
        assert_eq!(raw("NULL"), Some(0));
        assert_eq!(raw("EXIT"), Some(0));
        assert_eq!(raw(&bound.to_string()), Some(bound));
        for word in [
            "129",
            "94",
            "-1",
            "9x",
            "0x10",
            "",
            "9 ",
            "99999999999999999999",
        ] {
            if word == "94" && bound != 93 {
                continue;
            }
            assert_eq!(raw(word), None, "{word:?}");
        }
        let rtmin = Signal::rtmin().unwrap().as_raw();
        assert_eq!(raw("RTMIN+1"), Some(rtmin + 1));
    }
}
