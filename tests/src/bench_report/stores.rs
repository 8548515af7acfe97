//! One chat node on two store-server instances against one (series
//! `two-stores` and `one-store`, `scripts/bench-chat.sh stores`): `persist`
//! and `broadcast` on each, in one table with the ratio two/one. The
//! columns read as in the side-by-side table, the first over the second.
//!
//! On a machine whose cores the chat node, the stores, the database and
//! the load generator share, a second store cannot add throughput; the
//! table shows what spreading calls over instances costs: throughput,
//! latency and CPU time per stored message (of the stores together, from
//! loadgen's `--store-pid`, and of the chat node, from `--server-pid`).

use super::table::{Metric, compare_as, metric};
use super::{number, series_runs};
use serde_json::{Value, json};

/// The series of the runs on one store instance.
pub const ONE: &str = "one-store";
/// The series of the runs on two store instances.
pub const TWO: &str = "two-stores";

const STORES: &[Metric] = &[
    metric("persist: acked per second", "persist.ackedPerSecond", true),
    metric("persist: ack p99, ms", "persist.ackLatency.p99_ms", false),
    metric("persist: failed", "persist.failed", false),
    metric("persist: refused by a limit", "persist.limited", false),
    metric(
        "persist: store CPU per acked, µs",
        "persist.storeCpuPerAckedMicros",
        false,
    ),
    metric(
        "persist: chat CPU per acked, µs",
        "persist.serverCpuPerAckedMicros",
        false,
    ),
    metric(
        "broadcast: delivered per second",
        "broadcast.deliveredPerSecond",
        true,
    ),
    metric(
        "broadcast: latency p99, ms",
        "broadcast.latency.p99_ms",
        false,
    ),
    metric("broadcast: delivery ratio", "broadcast.deliveryRatio", true),
    metric("broadcast: acks failed", "broadcast.ackFailed", false),
    metric(
        "broadcast: acks refused by limit",
        "broadcast.ackLimited",
        false,
    ),
    metric(
        "broadcast: store CPU per acked, µs",
        "broadcast.storeCpuPerAckedMicros",
        false,
    ),
    metric(
        "broadcast: chat CPU per acked, µs",
        "broadcast.serverCpuPerAckedMicros",
        false,
    ),
];

/// The table of one store against two; empty without such runs.
pub fn table(runs: &[Value]) -> String {
    let (one, two) = (of_series(runs, ONE), of_series(runs, TWO));
    if one.is_none() && two.is_none() {
        return String::new();
    }
    let mut out = String::new();
    compare_as(
        &mut out,
        "store-servers behind one chat node",
        ["two stores", "one store", "two/one"],
        two.as_ref(),
        one.as_ref(),
        STORES,
    );
    out.push_str(&knobs(two.as_ref().or(one.as_ref())));
    out
}

/// The `persist` and `broadcast` runs of `series` (ours; the first of
/// each), as `{"persist": run, "broadcast": run}` with the CPU times per
/// acked message added; `None` when the series has neither.
fn of_series(runs: &[Value], series: &str) -> Option<Value> {
    let runs = series_runs(runs, series, "rust");
    let find = |scenario: &str| {
        runs.iter()
            .find(|run| run["scenario"] == scenario)
            .map(|run| per_acked(run))
    };
    let (persist, broadcast) = (find("persist"), find("broadcast"));
    if persist.is_none() && broadcast.is_none() {
        return None;
    }
    Some(json!({"persist": persist, "broadcast": broadcast}))
}

/// `run` with `storeCpuPerAckedMicros` and `serverCpuPerAckedMicros`: the
/// CPU time its processes used while it sent, per message acked as stored.
fn per_acked(run: &Value) -> Value {
    let mut run = run.clone();
    let acked = number(&run, "acked").filter(|&acked| acked > 0.0);
    for (from, to) in [
        ("storeCpuSeconds", "storeCpuPerAckedMicros"),
        ("serverCpuSeconds", "serverCpuPerAckedMicros"),
    ] {
        if let (Some(cpu), Some(acked), Some(fields)) =
            (number(&run, from), acked, run.as_object_mut())
        {
            fields.insert(to.to_owned(), json!(cpu * 1e6 / acked));
        }
    }
    run
}

/// The line under the table with the knobs of the runs in `merged`.
fn knobs(merged: Option<&Value>) -> String {
    let knob = |path| merged.and_then(|runs| number(runs, path)).unwrap_or(0.0);
    format!(
        "  persist: {} clients; broadcast: {} clients, rooms of {}, {} sends/s\n",
        knob("persist.clients"),
        knob("broadcast.clients"),
        knob("broadcast.roomSize"),
        knob("broadcast.targetSendPerSecond"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persist(series: &str, per_second: f64, store_cpu: f64, p99: f64) -> Value {
        json!({"scenario": "persist", "series": series, "server": "rust", "clients": 256,
               "acked": per_second * 20.0, "ackedPerSecond": per_second, "failed": 0,
               "limited": 0, "ackLatency": {"p99_ms": p99},
               "storeCpuSeconds": store_cpu, "serverCpuSeconds": 10.0})
    }

    fn broadcast(series: &str, delivered: f64, failed: u64) -> Value {
        json!({"scenario": "broadcast", "series": series, "server": "rust",
               "clients": 10000, "roomSize": 100, "targetSendPerSecond": 1000.0,
               "acked": 20000, "deliveredPerSecond": delivered, "deliveryRatio": 1.0,
               "ackFailed": failed, "ackLimited": 0, "latency": {"p99_ms": 30.0}})
    }

    /// The line of the metric called `name` in `text`.
    fn line<'a>(text: &'a str, name: &str) -> &'a str {
        text.lines()
            .find(|line| line.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no line {name:?} in {text}"))
    }

    #[test]
    fn two_stores_are_compared_with_one_and_cpu_is_per_acked_message() {
        let runs = [
            persist(ONE, 6000.0, 1.2, 40.0),
            broadcast(ONE, 99000.0, 0),
            persist(TWO, 5400.0, 1.5, 50.0),
            broadcast(TWO, 98000.0, 3),
        ];
        let text = table(&runs);
        assert!(
            text.contains(
                "persist: 256 clients; broadcast: 10000 clients, rooms of 100, 1000 sends/s"
            ),
            "{text}"
        );
        let acked = line(&text, "persist: acked per second");
        assert!(
            acked.contains("5400") && acked.contains("6000") && acked.contains("0.90x"),
            "{acked}"
        );
        // 1.2 s / 120,000 messages = 10 µs; 1.5 s / 108,000 = 13.89 µs.
        let cpu = line(&text, "persist: store CPU per acked, µs");
        assert!(
            cpu.contains("13.89") && cpu.contains("10") && cpu.contains("1.39x"),
            "{cpu}"
        );
        let chat = line(&text, "persist: chat CPU per acked, µs");
        assert!(chat.contains("92.59") && chat.contains("83.33"), "{chat}");
        let failed = line(&text, "broadcast: acks failed");
        assert!(failed.contains('3'), "{failed}");
        // The broadcast runs carry no CPU times: nothing to divide.
        let cpu = line(&text, "broadcast: store CPU per acked, µs");
        assert!(
            cpu.ends_with("(lower is better)") && cpu.contains(" - "),
            "{cpu}"
        );
    }

    #[test]
    fn a_missing_series_shows_dashes_and_no_ratio() {
        let text = table(&[persist(ONE, 6000.0, 1.2, 40.0)]);
        let acked = line(&text, "persist: acked per second");
        let cells: Vec<&str> = acked.split_whitespace().collect();
        assert_eq!(cells[cells.len() - 3..], ["-", "6000", "-"], "{acked}");
    }

    #[test]
    fn no_store_runs_print_nothing() {
        let one_node = json!({"scenario": "persist", "server": "rust", "ackedPerSecond": 6000.0});
        let cluster = json!({"scenario": "broadcast", "series": "cluster", "server": "rust"});
        let mut other_server = persist(ONE, 6000.0, 1.0, 40.0);
        other_server["server"] = json!("node");
        assert!(table(&[one_node, cluster, other_server]).is_empty());
    }
}
