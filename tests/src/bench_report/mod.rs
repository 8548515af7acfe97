//! The side-by-side report of load generator results: [`table`] prints the
//! numbers of both servers with their ratios, [`cluster`] the runs against
//! two nodes of each and the drain, [`sweep`] the highest broadcast rate
//! each server carries within its limits, [`stores`] one chat node on two
//! store-servers against one, [`plot`] draws broadcast latency against
//! load, [`flags`] lists the runs with refused or failed sends.
//!
//! A run may belong to a series (its `series` field, e.g. `sweep`): the
//! scenario tables and the plot take the runs of no series, each series
//! has a table of its own.

pub mod cluster;
pub mod flags;
pub mod plot;
pub mod stores;
pub mod sweep;
pub mod table;

use serde_json::Value;

/// A number at a JSON path such as `latency.p99_ms`.
pub fn number(run: &Value, path: &str) -> Option<f64> {
    path.split('.')
        .try_fold(run, |value, key| value.get(key))?
        .as_f64()
}

/// The runs of `scenario` against `server` that belong to no series, in
/// file order.
pub fn runs_of<'a>(runs: &'a [Value], scenario: &str, server: &str) -> Vec<&'a Value> {
    runs.iter()
        .filter(|run| run["scenario"] == scenario && run["server"] == server)
        .filter(|run| run.get("series").is_none())
        .collect()
}

/// The runs of `series` against `server`, in file order.
pub fn series_runs<'a>(runs: &'a [Value], series: &str, server: &str) -> Vec<&'a Value> {
    runs.iter()
        .filter(|run| run["series"] == series && run["server"] == server)
        .collect()
}
