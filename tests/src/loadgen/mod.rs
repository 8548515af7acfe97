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
//! - [`CpuWindow`]: the CPU time the server and the store-servers spent
//!   while a scenario sent.
//! - [`idle`], [`broadcast`], [`persist`], [`connect`], [`history`],
//!   [`drain`], [`attachments`]: the scenarios.
//! - [`migrate`]: one client following a draining node's `migrate` event.

pub mod acks;
pub mod attachments;
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
    /// The server's process id, for its memory use and CPU time.
    pub server_pid: Option<u32>,
    /// The store-servers' process ids, for their CPU time (`persist` and
    /// `broadcast`; empty when not given).
    pub store_pids: Vec<u32>,
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

/// Clock ticks per second of `/proc/<pid>/stat`'s times: `USER_HZ`, which
/// Linux fixes at 100 for user space (what `getconf CLK_TCK` prints).
const USER_HZ: f64 = 100.0;

/// CPU time (user and system, all threads) a process has used so far, in
/// seconds, from `/proc/<pid>/stat`; `None` when it cannot be read.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_seconds(&stat)
}

/// `utime + stime` of a `/proc/<pid>/stat` line, in seconds. The fields
/// are counted after the command's closing parenthesis (the command may
/// hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
fn parse_cpu_seconds(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

/// The CPU time of the server (`--server-pid`) and of the store-servers
/// (`--store-pid`) at the start of a scenario's sending window, to report
/// what they used until its end.
pub struct CpuWindow {
    server: Option<f64>,
    stores: Option<f64>,
}

impl CpuWindow {
    /// Reads the CPU times of `target`'s processes now.
    pub fn start(target: &Target) -> Self {
        Self {
            server: target.server_pid.and_then(cpu_seconds),
            stores: stores_cpu_seconds(&target.store_pids),
        }
    }

    /// Adds `serverCpuSeconds` and `storeCpuSeconds` (all store-servers
    /// together) used since [`CpuWindow::start`] to `report`, each when
    /// its processes were given and readable at both ends.
    pub fn finish(self, target: &Target, report: &mut report::Report) {
        let now = target.server_pid.and_then(cpu_seconds);
        if let (Some(before), Some(after)) = (self.server, now) {
            report.add("serverCpuSeconds", whole_ticks(after - before));
        }
        let now = stores_cpu_seconds(&target.store_pids);
        if let (Some(before), Some(after)) = (self.stores, now) {
            report
                .add("storeCpuSeconds", whole_ticks(after - before))
                .add("stores", target.store_pids.len());
        }
    }
}

/// `seconds` rounded to whole clock ticks: a difference of two readings
/// is a whole number of them, up to the float error of dividing by
/// [`USER_HZ`].
fn whole_ticks(seconds: f64) -> f64 {
    (seconds * USER_HZ).round() / USER_HZ
}

/// The CPU seconds of all `pids` together; `None` without pids or when
/// one cannot be read.
fn stores_cpu_seconds(pids: &[u32]) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&pid| cpu_seconds(pid)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_utime_plus_stime_in_ticks_of_user_hz() {
        // A command with a space and a parenthesis, utime 250, stime 50.
        let stat = "42 (chat (x) y) S 1 42 42 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 4 0";
        assert_eq!(parse_cpu_seconds(stat), Some(3.0));
        assert_eq!(parse_cpu_seconds("42 (short) S 1"), None);
        assert_eq!(whole_ticks(1.46 - 1.23).to_string(), "0.23");
    }

    #[test]
    fn this_process_has_used_some_cpu_time() {
        let seconds = cpu_seconds(std::process::id()).expect("our own /proc/<pid>/stat");
        assert!(seconds >= 0.0);
        assert_eq!(stores_cpu_seconds(&[]), None);
    }
}
