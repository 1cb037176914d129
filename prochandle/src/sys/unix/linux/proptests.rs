//! Property tests for the `/proc` parsers: hostile process names, truncated
//! and oversized files, arbitrary bytes. None may panic, and none may return
//! a value other than the one the kernel wrote.

use proptest::prelude::*;

use super::parse_fdinfo_pid;
use super::procfs::{parse_stat, Stat};
use super::sigsys_guard::filter_active_in_status;

/// A process name as `prctl(PR_SET_NAME)` or `exec` can make it, and worse:
/// any bytes (the kernel keeps 15, we try more), biased towards the ones
/// that break naive parsers.
fn hostile_name() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            Just(b')'),
            Just(b'('),
            Just(b' '),
            Just(b'\n'),
            Just(b'\t'),
            Just(0xff),
            Just(b'0'),
            any::<u8>(),
        ],
        0..40,
    )
}

fn state() -> impl Strategy<Value = u8> {
    prop::sample::select(b"RSDZTtWXxKPI".to_vec())
}

/// A `stat` line as the kernel prints it (52 fields), with our values in
/// fields 3, 4, 5, 20 and 22 and `extra` more numbers after the last one.
fn stat_line(name: &[u8], s: &Stat, extra: usize) -> Vec<u8> {
    let mut v = b"4242 (".to_vec();
    v.extend_from_slice(name);
    v.extend_from_slice(b") ");
    let mut fields: Vec<String> = vec![
        (s.state as char).to_string(),
        s.ppid.to_string(),
        s.pgrp.to_string(),
    ];
    fields.extend((6..=19).map(|i| (i * 7).to_string()));
    fields.push(s.num_threads.to_string());
    fields.push("0".into());
    fields.push(s.start_time.to_string());
    fields.extend((23..=52 + extra).map(|i| (i * 3).to_string()));
    v.extend_from_slice(fields.join(" ").as_bytes());
    v.push(b'\n');
    v
}

fn any_stat() -> impl Strategy<Value = Stat> {
    (
        state(),
        any::<i32>(),
        any::<i32>(),
        0..i64::MAX,
        any::<u64>(),
    )
        .prop_map(|(state, ppid, pgrp, num_threads, start_time)| Stat {
            state,
            ppid,
            pgrp,
            num_threads,
            start_time,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn stat_fields_survive_any_name(name in hostile_name(), s in any_stat()) {
        prop_assert_eq!(parse_stat(&stat_line(&name, &s, 0)), Some(s));
    }

    #[test]
    fn oversized_stat_still_parses(name in hostile_name(), s in any_stat(), extra in prop_oneof![0usize..100, 1000usize..5000]) {
        prop_assert_eq!(parse_stat(&stat_line(&name, &s, extra)), Some(s));
    }

    #[test]
    fn truncated_stat_is_none_or_exact(name in hostile_name(), s in any_stat(), cut in any::<prop::sample::Index>()) {
        let line = stat_line(&name, &s, 0);
        let cut = cut.index(line.len());
        if let Some(got) = parse_stat(&line[..cut]) {
            prop_assert_eq!(got, s, "misparse of a file cut at {}", cut);
        }
    }

    #[test]
    fn stat_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_stat(&bytes);
    }

    #[test]
    fn fdinfo_pid_is_found_among_other_lines(
        pid in any::<i32>(),
        before in prop::collection::vec("[a-z_]{1,10}:\t[0-9a-f ]{0,12}", 0..6),
        after in prop::collection::vec("[a-z_]{1,10}:\t[0-9a-f ]{0,12}", 0..6),
    ) {
        // Real fdinfo: pos, flags, mnt_id, ino, then Pid and NSpid.
        let mut text = before.join("\n");
        text.push_str(&format!("\nPid:\t{pid}\nNSpid:\t{pid}\t7\n"));
        text.push_str(&after.join("\n"));
        prop_assert_eq!(parse_fdinfo_pid(&text), Some(pid));
    }

    #[test]
    fn fdinfo_without_pid_line_is_none(lines in prop::collection::vec("(pos|flags|mnt_id|ino|NSpid|eventfd-count):\t[0-9 ]{0,12}", 0..8)) {
        prop_assert_eq!(parse_fdinfo_pid(&lines.join("\n")), None);
    }

    #[test]
    fn fdinfo_never_panics(text in "\\PC*") {
        let _ = parse_fdinfo_pid(&text);
    }

    #[test]
    fn seccomp_line_is_read_exactly(
        name in "[^\n]{0,32}",
        mode in 0u32..3,
        filters in 0u32..9,
        pad in "[ \t]{0,3}",
    ) {
        // The kernel escapes newlines in Name, so it cannot fake a line; a
        // name that merely contains "Seccomp:" must not count.
        let text = format!(
            "Name:\t{name} Seccomp: 0\nUmask:\t0022\nState:\tS (sleeping)\nSeccomp:{pad}{mode}\nSeccomp_filters:\t{filters}\nSpeculation_Store_Bypass:\tthread vulnerable\n"
        );
        prop_assert_eq!(filter_active_in_status(&text), mode != 0);
    }

    #[test]
    fn status_without_seccomp_line_means_no_filter(lines in prop::collection::vec("(Name|State|Tgid|Pid|Seccomp_filters):\t[a-z0-9 ]{0,8}", 0..10)) {
        prop_assert!(!filter_active_in_status(&lines.join("\n")));
    }

    #[test]
    fn status_never_panics(text in "\\PC*") {
        let _ = filter_active_in_status(&text);
    }
}
