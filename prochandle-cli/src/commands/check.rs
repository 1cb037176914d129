//! `prochandle check`: what this system gives for process handles.

use prochandle::{capabilities, Availability, Capabilities, Feature, PinMode};
use serde_json::json;

use crate::exit_codes;
use crate::output;

pub fn run(json: bool) -> u8 {
    let caps = capabilities();
    let mode = match caps.pin_mode() {
        PinMode::Handle if cfg!(windows) => "process handle",
        PinMode::Handle => "pidfd",
        PinMode::ProcDir if caps.is_available(Feature::ProcDirSignal) => {
            "/proc/<pid> directory (signals by pidfd_send_signal)"
        }
        PinMode::ProcDir => "/proc/<pid> directory (signals by kill after the check)",
        _ => "guarded PID",
    };
    if json {
        print_json(caps, mode);
    } else {
        print_text(caps, mode);
    }
    exit_codes::SUCCESS
}

/// The report as one JSON object, every feature listed.
fn print_json(caps: &Capabilities, mode: &str) {
    let kernel = caps
        .platform()
        .strip_prefix("Linux ")
        .unwrap_or(caps.platform());
    let features: Vec<_> = caps
        .iter()
        .map(|(feature, availability)| {
            let (errno, reason) = match availability {
                Availability::Available => (None, None),
                Availability::Unavailable { errno, reason } => (*errno, Some(reason.clone())),
            };
            json!({
                "name": feature.name(),
                "available": availability.is_available(),
                "min_linux": feature.min_linux(),
                "errno": errno,
                "reason": reason,
            })
        })
        .collect();
    output::print_json(&json!({
        "platform": caps.platform(),
        "kernel": kernel,
        "handle_mode": mode,
        "pin_mode": caps.pin_mode().name(),
        "forced_pid": caps.forced_pid_mode(),
        "features": features,
    }));
}

/// The report as text: the system, the mode, a line per feature.
fn print_text(caps: &Capabilities, mode: &str) {
    let system = if cfg!(target_os = "linux") {
        "kernel"
    } else {
        "system"
    };
    output::line(format_args!("{system}: {}", caps.platform()));
    let forced = match std::env::var(prochandle::FORCE_PID_ENV) {
        Ok(value) if caps.forced_pid_mode() => format!(" (forced by PROCHANDLE_FORCE_PID={value})"),
        _ => String::new(),
    };
    output::line(format_args!("handle mode: {mode}{forced}"));
    for (feature, availability) in caps.iter() {
        // Elsewhere, Linux's features are all "no": listed in --json only.
        if !cfg!(target_os = "linux") && feature.min_linux().is_some() {
            continue;
        }
        let since = feature
            .min_linux()
            .map(|v| format!("Linux {v}+"))
            .unwrap_or_else(|| "(all of the below that a handle needs)".to_owned());
        match availability {
            Availability::Available => output::line(format_args!("  {feature:<25} yes  {since}")),
            Availability::Unavailable { errno, reason } => {
                let errno = errno
                    .map(|e| format!("errno {e} {}: ", errno_name(e)))
                    .unwrap_or_default();
                output::line(format_args!(
                    "  {feature:<25} no   {since}: {errno}{reason}"
                ))
            }
        }
    }
}

fn errno_name(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno)
        .to_string()
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_owned()
}
