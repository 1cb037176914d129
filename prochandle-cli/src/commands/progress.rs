//! The live "waiting for ..." line on a terminal (stderr), for `wait` and
//! `kill --timeout`: how many targets of how many are still running,
//! which ones, and the time elapsed. Nothing when stderr is not a
//! terminal, with `--json` or with `--quiet`.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::target::Target;

/// How often the line is redrawn.
pub const TICK: Duration = Duration::from_millis(200);

/// How many running targets are named before `...`.
const NAMED: usize = 5;

/// The line, redrawn in place.
pub struct Progress {
    enabled: bool,
    shown: bool,
}

impl Progress {
    /// Drawn only if `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> Progress {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    /// When to wake next to redraw, given the deadline of the wait.
    pub fn wake(&self, deadline: Option<Instant>) -> Option<Instant> {
        let tick = self.enabled.then(|| Instant::now() + TICK);
        match (deadline, tick) {
            (Some(d), Some(t)) => Some(d.min(t)),
            (d, t) => d.or(t),
        }
    }

    pub fn draw(&mut self, targets: &[Target], running: &BTreeSet<usize>, elapsed: Duration) {
        if !self.enabled {
            return;
        }
        let names: Vec<String> = running.iter().map(|&i| targets[i].to_string()).collect();
        let line = render(&names, targets.len(), elapsed);
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[K{line}");
        let _ = stderr.flush();
        self.shown = true;
    }

    pub fn clear(&mut self) {
        if self.shown {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
            self.shown = false;
        }
    }
}

/// `waiting for 2 of 3: 41 42 (1.5s)`, naming at most five.
pub fn render(running: &[String], total: usize, elapsed: Duration) -> String {
    let mut names: Vec<&str> = running.iter().take(NAMED).map(String::as_str).collect();
    if running.len() > NAMED {
        names.push("...");
    }
    format!(
        "waiting for {} of {}: {} ({:.1}s)",
        running.len(),
        total,
        names.join(" "),
        elapsed.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_names_and_elapsed_time() {
        let names = ["41".to_owned(), "42:7".to_owned()];
        let line = render(&names, 3, Duration::from_millis(1500));
        assert_eq!(line, "waiting for 2 of 3: 41 42:7 (1.5s)");
    }

    #[test]
    fn names_at_most_five() {
        let names: Vec<String> = (1..=7).map(|n| n.to_string()).collect();
        let line = render(&names, 9, Duration::ZERO);
        assert_eq!(line, "waiting for 7 of 9: 1 2 3 4 5 ... (0.0s)");
    }
}
