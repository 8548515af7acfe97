//! The side-by-side report of load generator results: [`table`] prints the
//! numbers of both servers with their ratios, [`plot`] draws broadcast
//! latency against load.

pub mod plot;
pub mod table;

use serde_json::Value;

/// A number at a JSON path such as `latency.p99_ms`.
pub fn number(run: &Value, path: &str) -> Option<f64> {
    path.split('.')
        .try_fold(run, |value, key| value.get(key))?
        .as_f64()
}

/// The runs of `scenario` against `server`, in file order.
pub fn runs_of<'a>(runs: &'a [Value], scenario: &str, server: &str) -> Vec<&'a Value> {
    runs.iter()
        .filter(|run| run["scenario"] == scenario && run["server"] == server)
        .collect()
}
