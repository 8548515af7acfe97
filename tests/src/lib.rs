//! Shared pieces of the end-to-end tests and of the benchmark binaries.
//!
//! - [`latency`]: latency recording and the percentiles every report prints.
//! - [`seed`]: filling a group with many messages straight into MongoDB.
//! - [`search_seed`], [`search_bench`]: a million messages to search, and
//!   the search benchmark of `store_bench`.
//! - [`sweep_bench`]: the retention sweep's cost, for `store_bench sweep`.
//! - [`store_http`]: the store's REST API as the benchmarks call it.
//! - [`loadgen`]: the chat load generator and its scenarios.
//! - [`bench_report`]: the side-by-side table and plot of its results.

pub mod bench_report;
pub mod latency;
pub mod loadgen;
pub mod search_bench;
pub mod search_seed;
pub mod seed;
pub mod store_http;
pub mod sweep_bench;
