//! The chat load generator: many lean Socket.IO clients against a chat
//! server (ours or the Node peer), or several nodes of one, in the
//! scenarios of `docs/benchmarks.md`.
//!
//! - [`client`]: the lean Socket.IO-over-WebSocket client.
//! - [`acks`]: the acks a sending client waits for.
//! - [`population`]: users, groups and tokens of a run, seeded in MongoDB.
//! - [`ramp`]: opening many connections at a bounded concurrency, with progress.
//! - [`shards`]: latency histograms shared by thousands of tasks.
//! - [`report`]: the table and the JSON line every scenario prints.
//! - [`idle`], [`broadcast`], [`persist`], [`connect`], [`history`],
//!   [`drain`]: the scenarios.
//! - [`migrate`]: one client following a draining node's `migrate` event.

pub mod acks;
pub mod broadcast;
pub mod client;
pub mod connect;
pub mod drain;
pub mod history;
pub mod idle;
pub mod migrate;
pub mod persist;
pub mod population;
pub mod ramp;
pub mod report;
pub mod shards;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Where and how a scenario connects.
#[derive(Debug, Clone)]
pub struct Target {
    /// The chat servers' addresses (nodes of one cluster, or one server).
    /// Connection `index` goes to `servers[index % servers.len()]`: users
    /// of a room have contiguous indexes, so with rooms at least as large
    /// as the list every room has members on every node.
    pub servers: Vec<SocketAddr>,
    /// Local addresses connections are spread over, each good for about
    /// 28,000 ephemeral ports towards one server address.
    pub sources: Vec<IpAddr>,
    /// What the report calls the server (`rust`, `node`).
    pub label: String,
    /// The server's process id, for its memory use.
    pub server_pid: Option<u32>,
}

impl Target {
    /// `count` loopback source addresses from 127.0.0.2 up.
    pub fn loopback_sources(count: u8) -> Vec<IpAddr> {
        (0..count.max(1))
            .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i)))
            .collect()
    }

    /// The source address of connection `index`.
    pub fn source(&self, index: usize) -> IpAddr {
        self.sources[index % self.sources.len()]
    }

    /// Which of [`Target::servers`] connection `index` goes to.
    pub fn node_of(&self, index: usize) -> usize {
        index % self.servers.len()
    }

    /// The server connection `index` goes to.
    pub fn server_for(&self, index: usize) -> SocketAddr {
        self.servers[self.node_of(index)]
    }

    /// The first server: the one single-server scenarios use.
    pub fn first(&self) -> SocketAddr {
        self.servers[0]
    }

    /// This target with its first server alone.
    pub fn first_only(&self) -> Self {
        Self {
            servers: vec![self.first()],
            ..self.clone()
        }
    }
}

/// Raises this process's open-file limit to its hard limit; returns it.
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(err) => {
            eprintln!("could not raise the open-file limit: {err}");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    }
}

/// Resident memory of a process in bytes, from `/proc/<pid>/status`.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
