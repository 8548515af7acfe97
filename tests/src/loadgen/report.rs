//! What every scenario prints: a table for people and one JSON line for the
//! bench script, optionally appended to a results file.

use serde_json::{Map, Value};
use std::io::Write;
use std::path::Path;

/// The results of one scenario run, in the order they were added.
pub struct Report {
    fields: Map<String, Value>,
}

impl Report {
    /// A report of `scenario` against the server called `server`.
    pub fn new(scenario: &str, server: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("scenario".into(), scenario.into());
        fields.insert("server".into(), server.into());
        Self { fields }
    }

    /// Adds one result.
    pub fn add(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.fields.insert(key.to_owned(), value.into());
        self
    }

    /// Adds a serialisable result (a latency summary, say).
    pub fn add_json(&mut self, key: &str, value: &impl serde::Serialize) -> &mut Self {
        let value = serde_json::to_value(value).expect("results serialise");
        self.add(key, value)
    }

    /// Prints the table and the JSON line; appends the line to `results`.
    pub fn print(&self, results: Option<&Path>) -> anyhow::Result<()> {
        for (key, value) in &self.fields {
            match value {
                Value::Object(inner) => {
                    for (sub, value) in inner {
                        println!("  {:<28} {}", format!("{key}.{sub}"), plain(value));
                    }
                }
                value => println!("  {key:<28} {}", plain(value)),
            }
        }
        let line = Value::Object(self.fields.clone()).to_string();
        println!("{line}");
        if let Some(path) = results {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            writeln!(file, "{line}")?;
        }
        Ok(())
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.2}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}
