//! The options of `run` that control CMD's whole tree beyond holding it:
//! limits (`--memory-max`, `--tasks-max`, `--cpu-max`) and the tree's
//! accounting at the end (`--stats`, `--json`). Imports nothing of this
//! crate: `cli` flattens it into `run`'s arguments.

use clap::Args;
use prochandle::ScopeLimits;

/// `run`'s tree-control options.
#[derive(Args, Debug, Default, Clone)]
pub struct TreeControlArgs {
    /// At exit, print on stderr the whole tree's CPU user and system time,
    /// processes started and peak memory where the system counts them
    /// (like /usr/bin/time for the tree; --time is CMD alone).
    #[arg(long, conflicts_with_all = ["child_only", "foreground"])]
    pub stats: bool,
    /// Print --stats as one JSON object (on stderr: stdout is CMD's); also
    /// the form of --report's snapshot (one object per member).
    #[arg(long)]
    pub json: bool,
    /// Limit the tree's memory (bytes, or with a K, M, G or T suffix, powers
    /// of 1024). Refused (125, naming the missing controller) before CMD
    /// starts where it cannot be enforced.
    #[arg(long, value_name = "SIZE", value_parser = parse_size,
          conflicts_with_all = ["child_only", "foreground"])]
    pub memory_max: Option<u64>,
    /// Limit how many tasks (Linux: threads count) or processes (Windows)
    /// the tree may have at once; refused as --memory-max is.
    #[arg(long, value_name = "N", conflicts_with_all = ["child_only", "foreground"])]
    pub tasks_max: Option<u64>,
    /// Limit the tree's CPU to PERCENT of one CPU (150: one and a half);
    /// refused as --memory-max is.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent,
          conflicts_with_all = ["child_only", "foreground"])]
    pub cpu_max: Option<u32>,
}

impl TreeControlArgs {
    /// The limits asked for (none: empty).
    pub fn limits(&self) -> ScopeLimits {
        let mut limits = ScopeLimits::new();
        if let Some(bytes) = self.memory_max {
            limits = limits.memory_max(bytes);
        }
        if let Some(tasks) = self.tasks_max {
            limits = limits.tasks_max(tasks);
        }
        if let Some(percent) = self.cpu_max {
            limits = limits.cpu_max(percent);
        }
        limits
    }
}

/// `512`, `64K`, `256M`, `2G`, `1T` (powers of 1024; `KiB`, `MB`... too).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = trimmed[digits.len()..].to_ascii_uppercase();
    let shift = match suffix.trim_end_matches('B').trim_end_matches('I') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("{text:?}: a size is a number with K, M, G or T")),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?}: a size is a number with K, M, G or T"))?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?}: too large"))
}

/// `50`, `150%`: a positive percentage of one CPU.
pub fn parse_percent(text: &str) -> Result<u32, String> {
    match text.trim().trim_end_matches('%').parse::<u32>() {
        Ok(0) | Err(_) => Err(format!("{text:?}: a CPU limit is a positive percentage")),
        Ok(percent) => Ok(percent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_percentages_parse() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("2X").is_err());
        assert!(parse_size("").is_err());
        assert_eq!(parse_percent("150%"), Ok(150));
        assert!(parse_percent("0").is_err());
    }
}
