//! `prochandle check`: the capability report, as text and JSON.
#![cfg(target_os = "linux")]

mod common;

use common::*;
use prochandle::{capabilities, Feature, PinMode};

/// The mode line `check` must print for this run's tier.
fn expected_mode() -> &'static str {
    match capabilities().pin_mode() {
        PinMode::Handle => "pidfd",
        PinMode::ProcDir if capabilities().is_available(Feature::ProcDirSignal) => {
            "/proc/<pid> directory (signals by pidfd_send_signal)"
        }
        PinMode::ProcDir => "/proc/<pid> directory (signals by kill after the check)",
        _ => "guarded PID",
    }
}

#[test]
fn text_report_names_every_feature_the_kernel_and_the_mode() {
    let out = run(&["check"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert!(text.contains(release.trim()), "{text}");
    for feature in Feature::ALL {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(feature.name()))
            .unwrap_or_else(|| panic!("no line for {feature}: {text}"));
        let works = line.split_whitespace().nth(1).unwrap();
        let expected = if capabilities().is_available(*feature) {
            "yes"
        } else {
            "no"
        };
        assert_eq!(works, expected, "{line}");
    }
    let mode = format!("handle mode: {}", expected_mode());
    assert!(text.contains(&mode), "{text}");
}

#[test]
fn json_report_matches_the_library_probe() {
    let out = run(&["check", "--json"]);
    assert_eq!(code(&out), 0);
    let value: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(value["handle_mode"], expected_mode());
    assert_eq!(value["pin_mode"], capabilities().pin_mode().name());
    assert_eq!(value["forced_pid"], capabilities().forced_pid_mode());
    let features = value["features"].as_array().unwrap();
    assert_eq!(features.len(), Feature::ALL.len());
    for (entry, feature) in features.iter().zip(Feature::ALL) {
        assert_eq!(entry["name"], feature.name());
        assert_eq!(entry["available"], capabilities().is_available(*feature));
        assert_eq!(entry["min_linux"].as_str(), feature.min_linux());
        // A feature that does not work says why.
        assert_eq!(
            entry["reason"].is_null(),
            capabilities().is_available(*feature)
        );
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(value["kernel"], release.trim());
}

#[test]
fn help_documents_the_exit_codes() {
    let out = run(&["--help"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    for piece in ["Exit status", "124", "125", "126", "127", "128+N"] {
        assert!(text.contains(piece), "{piece}: {text}");
    }
    let out = run(&["wait", "--help"]);
    assert!(stdout(&out).contains("PID:INODE"));
    assert!(stdout(&out).contains("124"));
}

#[test]
fn usage_errors_are_one_line_with_status_2() {
    let out = run(&["frobnicate"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["frobnicate"]);
    let out = run(&["wait"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["TARGET"]);
    let out = run(&["check", "--bogus"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["--bogus"]);
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}");
        let text = stdout(&out);
        assert!(
            text.contains("prochandle") && text.contains("nsenter"),
            "{shell}"
        );
    }
    let out = run(&["completions", "cmd.exe"]);
    assert_eq!(code(&out), 2);
    one_error_line(&out, &["cmd.exe"]);
}
