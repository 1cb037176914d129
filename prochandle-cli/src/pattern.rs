//! The one way a PATTERN becomes a regex, for the native `--match`
//! selection and the pgrep family alike: `-x` anchors the whole
//! alternation, `-i` folds case, and the engine's size limits bound the
//! memory a pattern may take. What differs between the callers (the
//! limits, the wording of a refusal) is theirs to pass or to add.
//!
//! Linux only (matching reads `/proc`); imports nothing of this crate.

use regex::{Regex, RegexBuilder};

/// How much the engine may build for one pattern; a pattern beyond it is
/// refused rather than allowed to take the memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The compiled program's size (`RegexBuilder::size_limit`).
    pub program: usize,
    /// The lazy DFA's cache (`RegexBuilder::dfa_size_limit`); `None`
    /// keeps the engine's default.
    pub lazy_dfa: Option<usize>,
}

/// Compiles `text`, anchored to the whole subject when `exact`, caseless
/// when `ignore_case`. The error is the engine's reason in one line (its
/// last), for the caller to word.
pub fn compile(
    text: &str,
    exact: bool,
    ignore_case: bool,
    limits: Limits,
) -> Result<Regex, String> {
    let anchored = if exact {
        format!("^(?:{text})$")
    } else {
        text.to_owned()
    };
    let mut builder = RegexBuilder::new(&anchored);
    builder
        .case_insensitive(ignore_case)
        .size_limit(limits.program);
    if let Some(lazy_dfa) = limits.lazy_dfa {
        builder.dfa_size_limit(lazy_dfa);
    }
    builder.build().map_err(|e| {
        let text = e.to_string();
        text.lines().last().unwrap_or_default().trim().to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        program: 1 << 20,
        lazy_dfa: None,
    };

    #[test]
    fn anchoring_case_and_limits() {
        assert!(compile("a|b", true, false, SMALL).unwrap().is_match("b"));
        assert!(!compile("a|b", true, false, SMALL).unwrap().is_match("ab"));
        assert!(compile("AB", false, true, SMALL).unwrap().is_match("xab"));
        let why = compile("a(", false, false, SMALL).unwrap_err();
        assert!(!why.is_empty() && !why.contains('\n'), "{why}");
        assert!(compile("a{1000}{1000}", false, false, SMALL).is_err());
    }
}
