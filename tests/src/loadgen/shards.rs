//! Latency histograms shared by thousands of connection tasks.
//!
//! One histogram per task would cost hundreds of kilobytes each; one shared
//! histogram would be a lock every task fights over. A few dozen shards,
//! picked by task index, are neither.

use crate::latency::{Latencies, Summary};
use std::sync::Mutex;
use std::time::Duration;

const SHARDS: usize = 64;

/// Latency histograms sharded by task index.
pub struct ShardedLatencies(Vec<Mutex<Latencies>>);

impl Default for ShardedLatencies {
    fn default() -> Self {
        Self((0..SHARDS).map(|_| Mutex::default()).collect())
    }
}

impl ShardedLatencies {
    /// Records one sample from task `task`.
    pub fn record(&self, task: usize, elapsed: Duration) {
        self.0[task % SHARDS]
            .lock()
            .expect("a latency shard is never poisoned")
            .record(elapsed);
    }

    /// The percentiles over every shard.
    pub fn summary(&self) -> Summary {
        let mut all = Latencies::default();
        for shard in &self.0 {
            all.merge(&shard.lock().expect("a latency shard is never poisoned"));
        }
        all.summary()
    }
}
