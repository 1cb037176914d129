//! Durations as people type them: `500ms`, `2s`, `1.5m`, `1h`, `1d`, or a
//! bare number of seconds (as `timeout(1)` and `sleep(1)` take them).

use std::time::{Duration, Instant};

/// Parses a duration; the error says what is accepted.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "bad duration {text:?}: use a number with an optional unit ms, s, m, h or d (500ms, 2s, 1.5m)"
        )
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() || number.starts_with('.') && number.len() == 1 {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let seconds_per_unit = match unit {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(value * seconds_per_unit).map_err(|_| bad())
}

/// The instant `after` from `start`, or `None` (no deadline) when it lies
/// beyond what an `Instant` can hold: a timeout of a billion years is
/// waited for as if there were none, never an overflow.
pub fn deadline(start: Instant, after: Duration) -> Option<Instant> {
    start.checked_add(after)
}

/// Short human form: `500ms`, `2s`, `1.5s`, `90s`.
pub fn format(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else {
        let secs = duration.as_secs_f64();
        let text = format!("{secs:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("{text}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("0.25"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in ["", "s", "-1", "1x", "1.2.3", ".", "1e400", "ms5", "1 s"] {
            let err = parse(bad).unwrap_err();
            assert!(err.starts_with("bad duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_deadline_beyond_reach_is_none() {
        let now = Instant::now();
        assert_eq!(deadline(now, Duration::ZERO), Some(now));
        assert_eq!(deadline(now, Duration::MAX), None);
        // Beyond a Unix `Instant` (a timespec); Windows counts further.
        #[cfg(unix)]
        {
            let huge = parse("10000000000000000000").unwrap();
            assert_eq!(deadline(now, huge), None);
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format(Duration::from_millis(500)), "500ms");
        assert_eq!(format(Duration::from_secs(2)), "2s");
        assert_eq!(format(Duration::from_millis(1500)), "1.5s");
    }
}
