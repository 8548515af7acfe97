//! The tables of the runs against two nodes of each server: the broadcast
//! across nodes at several rates (series `cluster`), delivery latency
//! across nodes at light load (series `cross-node`), both side by side
//! with ratios, and the drain of a node (scenario `drain`, ours only).

use super::series_runs;
use super::table::{Metric, compare, metric};
use serde_json::Value;
use std::fmt::Write;

const CLUSTER: &[Metric] = &[
    metric("clients connected", "connected", true),
    metric("delivered per second", "deliveredPerSecond", true),
    metric("latency p50, ms", "latency.p50_ms", false),
    metric("latency p99, ms", "latency.p99_ms", false),
    metric("across nodes p99, ms", "crossNodeLatency.p99_ms", false),
    metric("delivery ratio", "deliveryRatio", true),
    metric("acks failed", "ackFailed", false),
];
const CROSS_NODE: &[Metric] = &[
    metric("clients connected", "connected", true),
    metric("across nodes p50, ms", "crossNodeLatency.p50_ms", false),
    metric("across nodes p99, ms", "crossNodeLatency.p99_ms", false),
    metric("within a node p50, ms", "sameNodeLatency.p50_ms", false),
    metric("within a node p99, ms", "sameNodeLatency.p99_ms", false),
    metric("delivery ratio", "deliveryRatio", true),
    metric("acks failed", "ackFailed", false),
];
const DRAIN: &[Metric] = &[
    metric("clients on the drained node", "opened", true),
    metric("migrate events received", "migrateReceived", true),
    metric("reconnected", "reconnected", true),
    metric(
        "  of them where migrate said",
        "reconnectedToMigrateUrl",
        true,
    ),
    metric("failed to reconnect", "reconnectFailed", false),
    metric("never closed by the node", "notClosed", false),
    metric("drain to last reconnect, s", "lastReconnectSeconds", false),
    metric("close to CONNECT gap p50, ms", "reconnectGap.p50_ms", false),
    metric("close to CONNECT gap p99, ms", "reconnectGap.p99_ms", false),
    metric("drained process exit, s", "serverExitSeconds", false),
];

/// The cluster, cross-node and drain tables; empty without such runs.
pub fn tables(runs: &[Value]) -> String {
    let mut out = String::new();
    let series: [(&str, &[Metric]); 2] = [("cluster", CLUSTER), ("cross-node", CROSS_NODE)];
    for (name, metrics) in series {
        let ours = series_runs(runs, name, "rust");
        let theirs = series_runs(runs, name, "node");
        // Runs come one per rate, in the same order for both servers.
        for index in 0..ours.len().max(theirs.len()) {
            let (a, b) = (ours.get(index).copied(), theirs.get(index).copied());
            let title = title(name, a.or(b));
            compare(&mut out, &title, a, b, metrics);
        }
    }
    let drains = |server| {
        runs.iter()
            .filter(move |run| run["scenario"] == "drain" && run["server"] == server)
    };
    let (ours, theirs): (Vec<_>, Vec<_>) = (drains("rust").collect(), drains("node").collect());
    for index in 0..ours.len().max(theirs.len()) {
        let (a, b) = (ours.get(index).copied(), theirs.get(index).copied());
        let run = a.or(b);
        let nodes = run.and_then(|run| run["servers"].as_u64()).unwrap_or(2);
        let title = match run.and_then(|run| run["nodeDrainSeconds"].as_f64()) {
            Some(spread) => format!("drain ({nodes} nodes, spread {spread} s)"),
            None => format!("drain ({nodes} nodes)"),
        };
        compare(&mut out, &title, a, b, DRAIN);
        for run in [a, b].into_iter().flatten() {
            if let Some(to) = run["reconnectedTo"].as_object() {
                let spread: Vec<String> = to
                    .iter()
                    .map(|(node, n)| format!("{n} to {node}"))
                    .collect();
                let _ = writeln!(
                    out,
                    "  {} reconnected: {}",
                    run["server"].as_str().unwrap_or("?"),
                    spread.join(", ")
                );
            }
        }
    }
    out
}

/// `heading (N nodes) at R sends/s`, from what the run says.
fn title(heading: &str, run: Option<&Value>) -> String {
    let Some(run) = run else {
        return heading.to_owned();
    };
    let nodes = run["servers"].as_u64().unwrap_or(0);
    let rate = run["targetSendPerSecond"].as_f64().unwrap_or(0.0);
    format!("{heading} ({nodes} nodes) at {rate} sends/s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cluster_runs_are_paired_by_rate_and_the_drain_is_ours_alone() {
        let run = |server: &str, rate: f64, delivered: f64| {
            json!({"scenario": "broadcast", "series": "cluster", "server": server,
                   "servers": 2, "clients": 400, "targetSendPerSecond": rate,
                   "deliveredPerSecond": delivered, "crossNodeLatency": {"p99_ms": 4.0}})
        };
        let runs = [
            run("rust", 100.0, 9900.0),
            run("rust", 250.0, 24750.0),
            run("node", 100.0, 4950.0),
            run("node", 250.0, 9900.0),
            json!({"scenario": "drain", "server": "rust", "servers": 2, "opened": 300,
                   "reconnected": 300, "reconnectedTo": {"127.0.0.1:4002": 300}}),
        ];
        let text = tables(&runs);
        assert!(text.contains("cluster (2 nodes) at 250 sends/s"), "{text}");
        let delivered: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("delivered per second"))
            .collect();
        assert_eq!(delivered.len(), 2, "{text}");
        assert!(delivered[1].contains("2.50x"), "{text}");
        assert!(text.contains("drain (2 nodes)"), "{text}");
        assert!(
            text.contains("rust reconnected: 300 to 127.0.0.1:4002"),
            "{text}"
        );
    }
}
