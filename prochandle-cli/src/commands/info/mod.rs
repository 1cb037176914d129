//! `prochandle info`: what a process is, read through its handle. What
//! can be said depends on the platform, one file each: Linux (`linux`),
//! Windows (`windows`), macOS and FreeBSD (`guarded`).

#[cfg(any(target_os = "macos", target_os = "freebsd"))]
#[path = "guarded.rs"]
mod platform;
#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod platform;
#[cfg(windows)]
#[path = "windows.rs"]
mod platform;

use crate::exit_codes;
use crate::output;
use crate::target::Target;

pub fn run(json: bool, targets: &[Target]) -> u8 {
    let mut failed = false;
    for (n, target) in targets.iter().enumerate() {
        match platform::describe(target) {
            Ok(described) if json => output::print_json(&described.to_json(target)),
            Ok(described) => {
                if n > 0 {
                    output::line("");
                }
                described.print(target);
            }
            Err(message) => {
                failed = true;
                output::error(&message);
                if json {
                    output::print_json(&output::error_json(target, &message));
                }
            }
        }
    }
    if failed {
        exit_codes::FAILURE
    } else {
        exit_codes::SUCCESS
    }
}

/// The state line: running, or how it ended (`None` while it runs).
#[cfg(not(target_os = "linux"))]
fn state_text(ended: Option<&str>) -> String {
    match ended {
        None => "running".to_owned(),
        Some(status) => format!("exited ({status})"),
    }
}

/// One `name value` row of the text form.
fn row(name: &str, value: impl std::fmt::Display) {
    output::line(format_args!("{name:<10} {value}"));
}
