//! Shared pieces of the end-to-end tests and of the benchmark binaries.
//!
//! - [`latency`]: latency recording and the percentiles every report prints.

pub mod latency;
