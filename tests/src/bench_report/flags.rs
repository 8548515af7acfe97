//! Runs that did not measure only what they say: any refused, failed or
//! lost send, connection or ack is listed under its scenario and server.
//! Refusals by a limit (`rate_limited`) mean the run measured that limit,
//! not the server: `bench_report` fails when it finds one.

use serde_json::Value;
use std::fmt::Write;

/// The counters of a run that must be 0, with what they count.
const COUNTERS: &[(&str, &str)] = &[
    ("limited", "refused by a limit"),
    ("ackLimited", "acks refused by a limit"),
    ("failed", "failed"),
    ("ackFailed", "acks failed"),
    ("lost", "lost"),
];

/// What a results file says about its runs' refusals and failures.
#[derive(Debug, Default, PartialEq)]
pub struct Flags {
    /// One line per run with a counter above 0.
    pub lines: Vec<String>,
    /// Whether any run was refused by a limit.
    pub limited: bool,
}

/// Checks every run of `runs`.
pub fn check(runs: &[Value]) -> Flags {
    let mut flags = Flags::default();
    for run in runs {
        let mut found = String::new();
        for (key, what) in COUNTERS {
            let count = run.get(*key).and_then(Value::as_u64).unwrap_or(0);
            if count > 0 {
                let _ = write!(
                    found,
                    "{}{count} {what}",
                    if found.is_empty() { "" } else { ", " }
                );
                flags.limited |= key.ends_with("imited");
            }
        }
        if !found.is_empty() {
            let scenario = run["scenario"].as_str().unwrap_or("?");
            let server = run["server"].as_str().unwrap_or("?");
            let series = run
                .get("series")
                .and_then(Value::as_str)
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            flags
                .lines
                .push(format!("{scenario}{series} against {server}: {found}"));
        }
    }
    flags
}

/// The flagged runs as a section of the report (empty when none).
pub fn section(flags: &Flags) -> String {
    if flags.lines.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nFLAGGED runs (refused, failed or lost):\n");
    for line in &flags.lines {
        let _ = writeln!(out, "  {line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_run_with_any_refusal_or_failure_is_flagged_and_limits_are_told_apart() {
        let clean =
            json!({"scenario": "persist", "server": "rust", "limited": 0, "failed": 0, "lost": 0});
        assert_eq!(check(std::slice::from_ref(&clean)), Flags::default());
        let failed =
            json!({"scenario": "broadcast", "server": "node", "ackFailed": 3, "ackLimited": 0});
        let flags = check(&[clean.clone(), failed]);
        assert_eq!(flags.lines, vec!["broadcast against node: 3 acks failed"]);
        assert!(!flags.limited);
        let limited = json!({"scenario": "persist", "server": "rust", "limited": 7, "failed": 1});
        let flags = check(&[clean, limited]);
        assert_eq!(
            flags.lines,
            vec!["persist against rust: 7 refused by a limit, 1 failed"]
        );
        assert!(flags.limited);
        assert!(section(&flags).contains("FLAGGED"));
    }
}
