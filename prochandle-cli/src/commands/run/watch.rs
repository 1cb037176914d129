//! The watch over CMD while it runs: signals forwarded, the timeout and
//! `--kill-after` fired as timeout(1) does, the report at the first alarm,
//! and then what `--leaks` asks for.

use std::time::{Duration, Instant};

use prochandle::relay::{Event, Relay};
use prochandle::{Process, Signal};

use super::{leaks, report, Job, Voice};
use crate::containment::Containment;
use crate::output;

/// How the watch over CMD ended.
pub(super) struct Watched {
    pub(super) result: prochandle::Result<()>,
    pub(super) timed_out: bool,
    /// Members left when CMD exited (`--leaks`).
    pub(super) leaked: usize,
}

/// Forwards signals and keeps the timeout until CMD exits, then deals
/// with what it left as `--leaks` says.
pub(super) fn watch(
    job: &Job,
    process: &Process,
    containment: &Containment,
    relay: Relay,
    started: Instant,
) -> Watched {
    let mut watch = Watch {
        process,
        containment,
        relay,
        name: job.command[0].to_string_lossy().into_owned(),
        term_signal: job.signal,
        kill_after: job.kill_after.filter(|d| !d.is_zero()),
        alarm: job.timeout.and_then(|t| started.checked_add(t)),
        timed_out: false,
        verbose: job.verbose,
        voice: job.voice,
        report: job.report.as_ref(),
    };
    let mut result = watch.until_exit();
    let mut leaked = 0;
    if result.is_ok() {
        match leaks::after_exit(job.leaks, &mut watch) {
            Ok(count) => leaked = count,
            Err(err) => result = Err(err),
        }
    }
    Watched {
        result,
        timed_out: watch.timed_out,
        leaked,
    }
}

/// The state of one `run` while CMD runs: timeout(1)'s `cleanup` rules
/// over a poll loop.
pub(super) struct Watch<'a> {
    pub(super) process: &'a Process,
    pub(super) containment: &'a Containment,
    pub(super) relay: Relay,
    /// CMD's name, for `--verbose`.
    name: String,
    /// What the next alarm sends: `--signal`, then `SIGKILL` once the
    /// `--kill-after` delay has started.
    term_signal: Signal,
    /// Not yet started (it starts once, at the first signal sent).
    kill_after: Option<Duration>,
    /// When the timeout (or the kill-after delay) runs out.
    pub(super) alarm: Option<Instant>,
    timed_out: bool,
    verbose: bool,
    voice: Voice,
    /// `--report`: described once, at the first alarm.
    report: Option<&'a report::ReportPlan>,
}

impl Watch<'_> {
    /// Forwards signals and fires the alarm until CMD exits; does not reap.
    fn until_exit(&mut self) -> prochandle::Result<()> {
        loop {
            match self.relay.wait(self.process, self.alarm)? {
                Event::Exited => return Ok(()),
                Event::Signal(signal) => self.on_signal(signal)?,
                Event::TimedOut => {
                    self.alarm = None;
                    self.on_signal(Signal::ALRM)?;
                }
            }
        }
    }

    /// timeout(1)'s reaction to a signal: `SIGALRM` means the timeout ran
    /// out and sends the timeout signal; any other is passed on as it is.
    /// The first one sent starts the `--kill-after` delay.
    pub(super) fn on_signal(&mut self, received: Signal) -> prochandle::Result<()> {
        let mut signal = received;
        if received == Signal::ALRM {
            if let Some(plan) = self.report.take() {
                report::snapshot(plan, self.process, self.containment);
            }
            self.timed_out = true;
            signal = self.term_signal;
        }
        if let Some(delay) = self.kill_after.take() {
            self.term_signal = Signal::KILL;
            self.alarm = Instant::now().checked_add(delay);
        }
        if self.verbose {
            output::error(match self.voice {
                Voice::Native => format!(
                    "run: sending signal {} to command {:?}",
                    short_name(signal),
                    self.name
                ),
                // timeout(1) names signal 0 `EXIT`, as sig2str does.
                Voice::Timeout => format!(
                    "sending signal {} to command {}",
                    if signal.as_raw() == 0 {
                        "EXIT".to_owned()
                    } else {
                        short_name(signal)
                    },
                    output::quoted(&self.name)
                ),
            });
        }
        self.containment.signal(self.process, signal)
    }
}

/// `TERM` for `SIGTERM`, as timeout(1) names signals; else the number.
fn short_name(signal: Signal) -> String {
    match signal.name() {
        Some(name) => name.trim_start_matches("SIG").to_owned(),
        None => signal.as_raw().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_timeouts() {
        assert_eq!(short_name(Signal::TERM), "TERM");
        assert_eq!(short_name(Signal::from_raw(40)), "40");
    }
}
