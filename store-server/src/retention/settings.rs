//! The sweep's settings (`STORE_RETENTION_*`), part of the store's
//! configuration (`config::StoreConfig`).

use clap::Args;
use std::time::Duration;

/// How often, how much at a time and how gently the sweep deletes.
#[derive(Debug, Clone, Args)]
pub struct RetentionSettings {
    /// Seconds between two background sweeps of this instance (jittered
    /// by up to a tenth); 0 turns the background sweep off (the
    /// `POST /retention/sweep` route still sweeps).
    #[arg(long = "retention-sweep-seconds", env = "STORE_RETENTION_SWEEP_SECONDS",
        value_name = "STORE_RETENTION_SWEEP_SECONDS", default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub sweep_seconds: u64,

    /// Messages deleted at most per batch (one read, one delete): small
    /// batches hold the database for a few milliseconds at a time.
    #[arg(long = "retention-batch", env = "STORE_RETENTION_BATCH",
        value_name = "STORE_RETENTION_BATCH", default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,

    /// Milliseconds between two batches, so that a sweep with much to
    /// delete leaves the database to the writers in between (with 100
    /// messages a batch, about 900 messages a second: docs/benchmarks.md).
    #[arg(long = "retention-pause-ms", env = "STORE_RETENTION_PAUSE_MS",
        value_name = "STORE_RETENTION_PAUSE_MS", default_value_t = 100,
        value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub pause_ms: u64,

    /// Seconds a message is kept at least, whatever its group's retention:
    /// a message number is never free again while a writer of another
    /// store instance may still hold an older count (docs/architecture.md,
    /// "Retention").
    #[arg(long = "retention-min-age-seconds", env = "STORE_RETENTION_MIN_AGE_SECONDS",
        value_name = "STORE_RETENTION_MIN_AGE_SECONDS", default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub min_age_seconds: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            sweep_seconds: 60,
            batch: 100,
            pause_ms: 100,
            min_age_seconds: 60,
        }
    }
}

impl RetentionSettings {
    /// The time between background sweeps, if they run.
    pub fn every(&self) -> Option<Duration> {
        (self.sweep_seconds > 0).then(|| Duration::from_secs(self.sweep_seconds))
    }

    /// The pause between batches.
    pub fn pause(&self) -> Duration {
        Duration::from_millis(self.pause_ms)
    }

    /// The youngest a message may be to be swept.
    pub fn min_age(&self) -> Duration {
        Duration::from_secs(self.min_age_seconds)
    }
}
