//! What the keeper and its owner say to each other over their socket.
//! Each message is one `write`, shorter than `PIPE_BUF`, so it arrives
//! whole; the owner's requests are 4-byte words, which a stream may split
//! (the keeper puts them together again).

use std::time::Duration;

use crate::state::{status_from_wait_word, ExitStatus, ProcessState, ResourceUsage, UnknownReason};

/// Report tags, keeper to owner.
pub(super) const STARTED: u8 = b'P';
pub(super) const FAILED: u8 = b'E';
const ENDED: u8 = b'S';
pub(super) const ENDED_LEN: usize = 1 + 4 + 8 + 8 + 8 + 1;

/// Replies, keeper to owner, to a freeze (1: whole, 0: not within the
/// limit, negative: the error's errno, negated, or -1) and to a thaw (0,
/// or an error as for a freeze).
pub(super) const FROZEN: u8 = b'F';
pub(super) const THAWED: u8 = b'T';

/// One request of the owner's, sent as one word: a signal is its number
/// (never negative), a thaw -1, a freeze within N ms -2 - N.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Request {
    Signal(i32),
    FreezeWithin(Duration),
    Thaw,
}

impl Request {
    pub(super) fn word(&self) -> i32 {
        match self {
            Request::Signal(raw) => *raw,
            Request::Thaw => -1,
            Request::FreezeWithin(limit) => {
                let millis = i32::try_from(limit.as_millis()).unwrap_or(i32::MAX);
                -2 - millis.min(i32::MAX - 2)
            }
        }
    }

    pub(super) fn from_word(word: i32) -> Request {
        match word {
            0.. => Request::Signal(word),
            -1 => Request::Thaw,
            _ => {
                Request::FreezeWithin(Duration::from_millis(u64::from((-2 - word).unsigned_abs())))
            }
        }
    }
}

pub(super) fn message(tag: u8, value: i32) -> [u8; 5] {
    let v = value.to_ne_bytes();
    [tag, v[0], v[1], v[2], v[3]]
}

/// The command's end as a wait word (-1: unknown) and its usage.
pub(super) fn encode_end(state: Option<&ProcessState>) -> [u8; ENDED_LEN] {
    let word = match state.map(ProcessState::status) {
        Some(ExitStatus::Exited(code)) => (code & 0xff) << 8,
        Some(ExitStatus::Signaled {
            signal,
            core_dumped,
        }) => signal.as_raw() | if core_dumped { 0x80 } else { 0 },
        _ => -1,
    };
    let usage = state.and_then(ProcessState::usage);
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let mut buf = [0u8; ENDED_LEN];
    buf[0] = ENDED;
    buf[1..5].copy_from_slice(&word.to_ne_bytes());
    if let Some(u) = usage {
        buf[5..13].copy_from_slice(&micros(u.user_time).to_ne_bytes());
        buf[13..21].copy_from_slice(&micros(u.system_time).to_ne_bytes());
        buf[21..29].copy_from_slice(&u.max_rss_bytes.unwrap_or(u64::MAX).to_ne_bytes());
        buf[29] = 1;
    }
    buf
}

pub(super) fn decode_end(pid: u32, buf: &[u8; ENDED_LEN]) -> Option<ProcessState> {
    if buf[0] != ENDED {
        return None;
    }
    let word = i32::from_ne_bytes(buf[1..5].try_into().ok()?);
    let u64_at = |i: usize| buf[i..i + 8].try_into().ok().map(u64::from_ne_bytes);
    let status = if word < 0 {
        ExitStatus::Unknown(UnknownReason::NotOurChild)
    } else {
        status_from_wait_word(word)
    };
    let usage = (buf[29] == 1).then(|| ResourceUsage {
        user_time: Duration::from_micros(u64_at(5).unwrap_or(0)),
        system_time: Duration::from_micros(u64_at(13).unwrap_or(0)),
        max_rss_bytes: u64_at(21).filter(|&b| b != u64::MAX),
    });
    Some(ProcessState::new(pid, status, usage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_survive_the_pipe() {
        for request in [
            Request::Signal(0),
            Request::Signal(15),
            Request::Thaw,
            Request::FreezeWithin(Duration::ZERO),
            Request::FreezeWithin(Duration::from_millis(200)),
        ] {
            assert_eq!(Request::from_word(request.word()), request);
        }
        let huge = Request::FreezeWithin(Duration::MAX).word();
        assert!(matches!(Request::from_word(huge), Request::FreezeWithin(_)));
    }

    #[test]
    fn an_end_survives_the_pipe() {
        for word in [0, 3 << 8, 9, 11 | 0x80] {
            let state = ProcessState::new(
                5,
                status_from_wait_word(word),
                Some(ResourceUsage {
                    user_time: Duration::from_micros(1_234),
                    system_time: Duration::from_micros(56),
                    max_rss_bytes: Some(4096),
                }),
            );
            assert_eq!(decode_end(5, &encode_end(Some(&state))), Some(state));
        }
        let unknown = decode_end(5, &encode_end(None)).unwrap();
        assert!(!unknown.status_known());
        assert!(unknown.usage().is_none());
    }
}
