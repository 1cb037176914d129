//! `kill -l [N]` and `kill -L`: the system's signal names and numbers, as
//! kill(1) prints them. The list comes from the C library
//! ([`Signal::all`]: the named signals and the real-time range).

use prochandle::Signal;

use crate::exit_codes;
use crate::output;

/// Lines no wider than this, as procps wraps `kill -l`.
const WIDTH: usize = 80;

/// `kill -l`: every name, without `SIG`, wrapped; `kill -l N`: one
/// conversion (a number or exit status 128+N to a name, a name to its
/// number).
pub fn list(which: Option<&str>) -> u8 {
    match which {
        None => {
            for line in wrapped_names() {
                output::line(&line);
            }
            exit_codes::SUCCESS
        }
        Some(text) => match convert(text) {
            Ok(answer) => {
                output::line(&answer);
                exit_codes::SUCCESS
            }
            Err(message) => {
                output::error(message);
                exit_codes::FAILURE
            }
        },
    }
}

/// `kill -L`: number and name, seven to a line.
pub fn table() -> u8 {
    for line in table_lines() {
        output::line(&line);
    }
    exit_codes::SUCCESS
}

/// The conversion `kill -l N` prints.
pub fn convert(text: &str) -> Result<String, String> {
    let unknown = || format!("kill: unknown signal {text:?}");
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let number: i32 = text.parse().map_err(|_| unknown())?;
        // An exit status of a killed command (137) names its signal (9),
        // as the shells' kill -l does.
        let number = if number > 128 { number - 128 } else { number };
        return Signal::from_raw(number).bare_name().ok_or_else(unknown);
    }
    let signal: Signal = text.parse().map_err(|_| unknown())?;
    Ok(signal.as_raw().to_string())
}

fn wrapped_names() -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for name in Signal::all().into_iter().filter_map(Signal::bare_name) {
        if !line.is_empty() && line.len() + 1 + name.len() > WIDTH {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&name);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn table_lines() -> Vec<String> {
    let cells: Vec<String> = Signal::all()
        .into_iter()
        .filter_map(|s| Some(format!("{:2} {:<7}", s.as_raw(), s.bare_name()?)))
        .collect();
    // procps's layout: a space between cells, so that even the long
    // real-time names (RTMAX-12) stay apart.
    cells
        .chunks(7)
        .map(|row| row.join(" ").trim_end().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(convert("9").unwrap(), "KILL");
        assert_eq!(convert("137").unwrap(), "KILL");
        assert_eq!(convert("KILL").unwrap(), "9");
        assert_eq!(convert("sigterm").unwrap(), "15");
        assert!(convert("99999999999999").is_err());
        assert!(convert("BOGUS").is_err());
        assert!(convert("").is_err());
    }

    #[test]
    fn names_wrap_and_table_rows_hold_seven() {
        let lines = wrapped_names();
        assert!(lines.iter().all(|l| l.len() <= WIDTH));
        assert!(lines[0].starts_with("HUP INT QUIT"));
        let table = table_lines();
        assert!(table[0].starts_with(" 1 HUP      2 INT"), "{:?}", table[0]);
        assert!(table.iter().all(|l| l.split_whitespace().count() <= 14));
    }
}
