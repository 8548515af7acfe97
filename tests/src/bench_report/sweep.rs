//! The broadcast sweep (series `sweep`): for each server, the highest send
//! rate at which every message was delivered, no ack failed and the p99
//! latency stayed within [`P99_LIMIT_MS`].
//!
//! When two servers' latencies at the same load differ by orders of
//! magnitude, a ratio of latencies says little; the load each carries
//! within the same limits is the fair comparison.

use super::table::show;
use super::{number, series_runs};
use serde_json::Value;
use std::fmt::Write;

/// The p99 delivery latency a run may have to count as carried.
pub const P99_LIMIT_MS: f64 = 100.0;

const SERVERS: [&str; 2] = ["rust", "node"];

/// Why a run falls outside the limits, or `None` when it is within them.
fn shortfall(run: &Value) -> Option<&'static str> {
    if number(run, "deliveryRatio").is_none_or(|ratio| ratio < 1.0) {
        Some("undelivered")
    } else if number(run, "ackFailed").is_none_or(|failed| failed > 0.0) {
        Some("acks failed")
    } else if number(run, "latency.p99_ms").is_none_or(|p99| p99 > P99_LIMIT_MS) {
        Some("p99")
    } else {
        None
    }
}

/// The run at `rate` sends/s among `runs`.
fn at_rate<'a>(runs: &[&'a Value], rate: f64) -> Option<&'a Value> {
    runs.iter()
        .copied()
        .find(|run| number(run, "targetSendPerSecond") == Some(rate))
}

/// The sweep's table and summary; empty without sweep runs.
pub fn summary(runs: &[Value]) -> String {
    let by_server: Vec<Vec<&Value>> = SERVERS
        .iter()
        .map(|server| series_runs(runs, "sweep", server))
        .collect();
    let mut rates: Vec<f64> = by_server
        .iter()
        .flatten()
        .filter_map(|run| number(run, "targetSendPerSecond"))
        .collect();
    if rates.is_empty() {
        return String::new();
    }
    rates.sort_by(f64::total_cmp);
    rates.dedup();
    let mut out = String::new();
    let first = by_server.iter().flatten().next().copied();
    let knob = |key| first.and_then(|run| number(run, key)).unwrap_or(0.0);
    let _ = writeln!(
        out,
        "\nbroadcast sweep ({} clients, rooms of {}, {} s per rate)\n  \
         within the limits: every message delivered, no ack failed, p99 <= {P99_LIMIT_MS} ms",
        knob("clients"),
        knob("roomSize"),
        knob("seconds"),
    );
    let _ = writeln!(
        out,
        "  {:>8} {:>14} {:>14} {:>14} {:>14}",
        "sends/s", "rust p99 ms", "rust", "node p99 ms", "node"
    );
    for &rate in &rates {
        let mut line = format!("  {rate:>8}");
        for runs in &by_server {
            let run = at_rate(runs, rate);
            let p99 = run.and_then(|run| number(run, "latency.p99_ms"));
            let verdict = match run.map(shortfall) {
                None => "-",
                Some(None) => "within",
                Some(Some(why)) => why,
            };
            let _ = write!(line, " {:>14} {verdict:>14}", show(p99));
        }
        let _ = writeln!(out, "{line}");
    }
    let mut best = Vec::new();
    for (server, runs) in SERVERS.iter().zip(&by_server) {
        let carried = rates
            .iter()
            .rev()
            .find_map(|&rate| at_rate(runs, rate).filter(|run| shortfall(run).is_none()));
        let text = match carried {
            Some(run) => {
                best.push(number(run, "targetSendPerSecond"));
                format!(
                    "{} sends/s ({} delivered/s, p99 {} ms)",
                    show(number(run, "targetSendPerSecond")),
                    show(number(run, "deliveredPerSecond")),
                    show(number(run, "latency.p99_ms")),
                )
            }
            None if runs.is_empty() => {
                best.push(None);
                "not run".to_owned()
            }
            None => {
                best.push(None);
                "none of the rates".to_owned()
            }
        };
        let _ = writeln!(out, "  highest rate within the limits, {server}: {text}");
    }
    if let [Some(ours), Some(theirs)] = best[..] {
        let _ = writeln!(out, "  rust/node: {:.2}x", ours / theirs);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(server: &str, rate: f64, p99: f64, ratio: f64, failed: u64) -> Value {
        json!({"scenario": "broadcast", "series": "sweep", "server": server,
               "clients": 10000, "roomSize": 100, "seconds": 10.0,
               "targetSendPerSecond": rate, "deliveredPerSecond": rate * 99.0,
               "deliveryRatio": ratio, "ackFailed": failed, "latency": {"p99_ms": p99}})
    }

    #[test]
    fn the_highest_rate_within_every_limit_is_picked_for_each_server() {
        let runs = [
            run("rust", 300.0, 5.0, 1.0, 0),
            run("rust", 400.0, 20.0, 1.0, 0),
            run("rust", 500.0, 150.0, 1.0, 0),
            run("node", 300.0, 40.0, 1.0, 0),
            run("node", 400.0, 90.0, 0.99, 0),
            run("node", 500.0, 900.0, 1.0, 12),
        ];
        let text = summary(&runs);
        assert!(
            text.contains("highest rate within the limits, rust: 400 sends/s"),
            "{text}"
        );
        assert!(
            text.contains("highest rate within the limits, node: 300 sends/s"),
            "{text}"
        );
        assert!(text.contains("rust/node: 1.33x"), "{text}");
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("400"))
            .unwrap();
        assert!(
            line.contains("within") && line.contains("undelivered"),
            "{line}"
        );
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("500"))
            .unwrap();
        assert!(
            line.contains("p99") && line.contains("acks failed"),
            "{line}"
        );
    }

    #[test]
    fn no_sweep_runs_print_nothing() {
        let one_node =
            json!({"scenario": "broadcast", "server": "rust", "targetSendPerSecond": 300.0});
        assert!(summary(&[one_node]).is_empty());
    }
}
