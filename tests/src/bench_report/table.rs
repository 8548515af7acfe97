//! The side-by-side table: for each scenario the numbers that matter, for
//! our server (`rust`) and the Node peer (`node`), and their ratio.

use super::{number, runs_of};
use serde_json::Value;
use std::fmt::Write;

/// One measured quantity of a scenario.
pub struct Metric {
    name: &'static str,
    path: &'static str,
    /// Whether a larger number is better (a rate) or worse (a latency).
    higher_is_better: bool,
}

/// A metric called `name`, read at the JSON `path` of a run.
pub const fn metric(name: &'static str, path: &'static str, higher_is_better: bool) -> Metric {
    Metric {
        name,
        path,
        higher_is_better,
    }
}

const IDLE: &[Metric] = &[
    metric("connections held", "held", true),
    metric("connections lost", "lost", false),
    metric(
        "server RSS per connection, KiB",
        "serverRssPerConnectionKiB",
        false,
    ),
];
const CONNECT: &[Metric] = &[
    metric("connections per second", "connectPerSecond", true),
    metric("handshake p99, ms", "latency.p99_ms", false),
    metric("failed", "failed", false),
];
const BROADCAST: &[Metric] = &[
    metric("delivered per second", "deliveredPerSecond", true),
    metric("latency p50, ms", "latency.p50_ms", false),
    metric("latency p99, ms", "latency.p99_ms", false),
    metric("latency p99.9, ms", "latency.p999_ms", false),
    metric("delivery ratio", "deliveryRatio", true),
    metric("acks failed", "ackFailed", false),
    metric("acks refused by a limit", "ackLimited", false),
];
const PERSIST: &[Metric] = &[
    metric("acked per second", "ackedPerSecond", true),
    metric("ack p99, ms", "ackLatency.p99_ms", false),
    metric("failed", "failed", false),
    metric("refused by a limit", "limited", false),
];
const HISTORY: &[Metric] = &[
    metric("newest page p99, ms", "newest page.p99_ms", false),
    metric("before 50% deep p99, ms", "before, 50% deep.p99_ms", false),
    metric(
        "before oldest end p99, ms",
        "before, oldest end.p99_ms",
        false,
    ),
    metric(
        "page at oldest end p99, ms",
        "page at the oldest end.p99_ms",
        false,
    ),
    metric("all positions p99, ms", "all.p99_ms", false),
];

const ATTACHMENTS: &[Metric] = &[
    metric("upload, MiB/s", "uploadMiBPerSecond", true),
    metric("upload p99, ms", "upload.p99_ms", false),
    metric("download, MiB/s", "downloadMiBPerSecond", true),
    metric("download p99, ms", "download.p99_ms", false),
    metric("in flight, MiB", "inFlightMiB", true),
    metric("server RSS before, MiB", "uploadServerRssBeforeMiB", false),
    metric(
        "server RSS peak, upload, MiB",
        "uploadServerRssPeakMiB",
        false,
    ),
    metric(
        "server RSS peak, download, MiB",
        "downloadServerRssPeakMiB",
        false,
    ),
];

/// The whole table as text.
pub fn side_by_side(runs: &[Value]) -> String {
    let mut out = String::new();
    let sections: [(&str, &[Metric]); 6] = [
        ("idle", IDLE),
        ("connect", CONNECT),
        ("broadcast", BROADCAST),
        ("persist", PERSIST),
        ("history", HISTORY),
        ("attachments", ATTACHMENTS),
    ];
    for (scenario, metrics) in sections {
        let ours = runs_of(runs, scenario, "rust");
        let theirs = runs_of(runs, scenario, "node");
        // Broadcast runs come in a sweep of rates; pair them by position.
        for index in 0..ours.len().max(theirs.len()) {
            let (a, b) = (ours.get(index).copied(), theirs.get(index).copied());
            let title = match a.or(b).and_then(|run| number(run, "targetSendPerSecond")) {
                Some(rate) => format!("{scenario} at {rate} sends/s"),
                None => scenario.to_owned(),
            };
            compare(&mut out, &title, a, b, metrics);
        }
    }
    out
}

/// Appends one section: `title`, then each metric of run `a` (ours) and
/// run `b` (the Node peer's) and their ratio; a missing run shows `-`.
pub fn compare(
    out: &mut String,
    title: &str,
    a: Option<&Value>,
    b: Option<&Value>,
    metrics: &[Metric],
) {
    compare_as(out, title, ["rust", "node", "rust/node"], a, b, metrics);
}

/// [`compare`] with other column headings: `labels` names the columns of
/// `a`, of `b` and of their ratio `a/b`.
pub fn compare_as(
    out: &mut String,
    title: &str,
    labels: [&str; 3],
    a: Option<&Value>,
    b: Option<&Value>,
    metrics: &[Metric],
) {
    let [first, second, over] = labels;
    let _ = writeln!(out, "\n{title:<38} {first:>12} {second:>12} {over:>10}");
    for m in metrics {
        let x = a.and_then(|run| number(run, m.path));
        let y = b.and_then(|run| number(run, m.path));
        let ratio = match (x, y) {
            (Some(x), Some(y)) if y != 0.0 && x > 0.0 && x / y < 0.1 => {
                format!("1/{:.0}", y / x)
            }
            (Some(x), Some(y)) if y != 0.0 => format!("{:.2}x", x / y),
            _ => "-".to_owned(),
        };
        let mark = if m.higher_is_better {
            ""
        } else {
            " (lower is better)"
        };
        let _ = writeln!(
            out,
            "  {:<36} {:>12} {:>12} {:>10}{mark}",
            m.name,
            show(x),
            show(y),
            ratio
        );
    }
}

/// A number as the tables show it: whole, or two decimals below 100.
pub fn show(value: Option<f64>) -> String {
    match value {
        None => "-".to_owned(),
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_ratio_is_ours_over_theirs() {
        let runs = [
            json!({"scenario": "persist", "server": "rust", "ackedPerSecond": 6000.0, "failed": 0}),
            json!({"scenario": "persist", "server": "node", "ackedPerSecond": 2000.0, "failed": 0}),
        ];
        let table = side_by_side(&runs);
        let line = table
            .lines()
            .find(|line| line.contains("acked per second"))
            .unwrap();
        assert!(
            line.contains("6000") && line.contains("2000") && line.contains("3.00x"),
            "{line}"
        );
    }

    #[test]
    fn runs_of_a_series_stay_out_of_the_scenario_tables() {
        let runs = [
            json!({"scenario": "broadcast", "server": "rust", "targetSendPerSecond": 250.0}),
            json!({"scenario": "broadcast", "server": "rust", "targetSendPerSecond": 900.0, "series": "sweep"}),
        ];
        let table = side_by_side(&runs);
        assert!(table.contains("broadcast at 250 sends/s"), "{table}");
        assert!(!table.contains("900"), "{table}");
    }
}
