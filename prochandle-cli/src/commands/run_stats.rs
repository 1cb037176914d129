//! `run --stats`: the whole tree's accounting at exit, on stderr (stdout
//! is CMD's), one line or, with `--json`, one JSON object. A figure the
//! system does not keep is `?` (JSON: `null`, with the reason under
//! `absent`), never 0.

use std::time::Duration;

use prochandle::{Measure, ScopeStats};
use serde_json::{json, Map, Value};

use crate::containment::Containment;
use crate::output;

/// Prints the tree's statistics; a failure to read them is said, not
/// fatal (CMD's status is the exit status).
pub fn print(containment: &Containment, real: Duration, json: bool) {
    let Some(stats) = containment.stats() else {
        return;
    };
    let (stats, mechanism) = match stats {
        Ok(found) => found,
        Err(err) => {
            output::error(format!("run: cannot read the tree's statistics: {err}"));
            return;
        }
    };
    if json {
        eprintln!("{}", as_json(&stats, real, &mechanism));
    } else {
        eprintln!("{}", as_line(&stats, real, &mechanism));
    }
}

fn text<T>(m: &Measure<T>, show: impl Fn(&T) -> String) -> String {
    m.known().map_or_else(|| "?".to_owned(), show)
}

fn secs(d: &Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

/// `tree: real 1.002s user 0.500s sys 0.020s processes ? peak ? (cgroup)`
fn as_line(stats: &ScopeStats, real: Duration, mechanism: &str) -> String {
    format!(
        "tree: real {:.3}s user {} sys {} processes {} peak {} ({mechanism})",
        real.as_secs_f64(),
        text(&stats.cpu_user, secs),
        text(&stats.cpu_system, secs),
        text(&stats.started, u64::to_string),
        text(&stats.peak_memory, |b| format!("{}KiB", b / 1024)),
    )
}

fn as_json(stats: &ScopeStats, real: Duration, mechanism: &str) -> Value {
    let mut absent = Map::new();
    let mut field = |name: &str, m: &Measure<Value>| -> Value {
        if let Some(why) = m.reason() {
            absent.insert(name.to_owned(), Value::from(why));
        }
        m.known().cloned().unwrap_or(Value::Null)
    };
    let seconds = |m: &Measure<Duration>| match m {
        Measure::Known(d) => Measure::Known(json!(d.as_secs_f64())),
        Measure::Absent(why) => Measure::Absent(why.clone()),
    };
    let count = |m: &Measure<u64>| match m {
        Measure::Known(n) => Measure::Known(json!(n)),
        Measure::Absent(why) => Measure::Absent(why.clone()),
    };
    let user = field("cpu_user_seconds", &seconds(&stats.cpu_user));
    let system = field("cpu_system_seconds", &seconds(&stats.cpu_system));
    let started = field("processes_started", &count(&stats.started));
    let peak = field("peak_memory_bytes", &count(&stats.peak_memory));
    json!({
        "tree": {
            "mechanism": mechanism,
            "real_seconds": real.as_secs_f64(),
            "cpu_user_seconds": user,
            "cpu_system_seconds": system,
            "processes_started": started,
            "peak_memory_bytes": peak,
            "absent": absent,
        }
    })
}
