//! `attachments`: many clients upload a large file each at once through the
//! public gateway (`POST /chat/{group}/attachment`), then download them all
//! at once (`GET /chat/attachment/{id}`). Reports the throughput of each
//! phase in MiB/s, each request's latency, and the chat-server's and the
//! store-servers' resident memory, sampled every 50 ms: the uploads and
//! downloads are streamed, so the servers' memory must stay far below what
//! is in flight (clients x file size).
//!
//! The files are random bytes (nothing for the database to compress), the
//! same buffer for every client; each download is checked for its length.

use super::population::Population;
use super::report::Report;
use super::{Target, rss_bytes};
use crate::latency::Latencies;
use anyhow::{Context, bail};
use futures::future::try_join_all;
use reqwest::Body;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The knobs of an attachments run.
pub struct AttachmentsRun {
    /// Clients uploading at once (all members of one group).
    pub clients: usize,
    /// Bytes of each client's file.
    pub file_bytes: usize,
}

/// The part of the upload's answer this scenario reads.
#[derive(Deserialize)]
struct Uploaded {
    id: String,
    size: u64,
}

/// Runs the scenario and returns its report.
pub async fn run(
    target: &Target,
    population: &Population,
    knobs: &AttachmentsRun,
) -> anyhow::Result<Report> {
    let group = population
        .room_of(0)
        .context("the population has no room")?;
    let file: &'static [u8] = random_bytes(knobs.file_bytes).leak();
    let http = reqwest::Client::new();
    let base = format!("http://{}/chat", target.first());
    let total_mib = (knobs.clients * knobs.file_bytes) as f64 / 1_048_576.0;

    let watch = MemoryWatch::start(target);
    let started = Instant::now();
    let uploads = (0..knobs.clients).map(|index| {
        let http = http.clone();
        let url = format!(
            "{base}/{}/attachment?name=bench-{index}.bin",
            group.to_hex()
        );
        let token = population.tokens[index].clone();
        async move {
            let sent = Instant::now();
            let response = http
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/octet-stream")
                .body(Body::from(file))
                .send()
                .await?;
            let status = response.status();
            if !status.is_success() {
                bail!("upload answered {status}: {}", response.text().await?);
            }
            let uploaded: Uploaded = response.json().await?;
            if uploaded.size != file.len() as u64 {
                bail!("upload stored {} bytes of {}", uploaded.size, file.len());
            }
            anyhow::Ok((uploaded.id, sent.elapsed()))
        }
    });
    let uploaded = try_join_all(uploads).await?;
    let upload_seconds = started.elapsed().as_secs_f64();
    let upload_memory = watch.stop().await;

    let watch = MemoryWatch::start(target);
    let started = Instant::now();
    let downloads = uploaded.iter().enumerate().map(|(index, (id, _))| {
        let http = http.clone();
        let url = format!("{base}/attachment/{id}");
        let token = population.tokens[index].clone();
        let expected = knobs.file_bytes as u64;
        async move {
            let sent = Instant::now();
            let mut response = http.get(url).bearer_auth(token).send().await?;
            let status = response.status();
            if !status.is_success() {
                bail!("download answered {status}");
            }
            let mut received = 0u64;
            while let Some(chunk) = response.chunk().await? {
                received += chunk.len() as u64;
            }
            if received != expected {
                bail!("downloaded {received} bytes of {expected}");
            }
            anyhow::Ok(sent.elapsed())
        }
    });
    let downloaded = try_join_all(downloads).await?;
    let download_seconds = started.elapsed().as_secs_f64();
    let download_memory = watch.stop().await;

    let mut report = Report::new("attachments", &target.label);
    report
        .add("clients", knobs.clients)
        .add("fileMiB", knobs.file_bytes as f64 / 1_048_576.0)
        .add("inFlightMiB", total_mib)
        .add("uploadMiBPerSecond", total_mib / upload_seconds)
        .add("downloadMiBPerSecond", total_mib / download_seconds);
    let mut upload_latency = Latencies::default();
    uploaded
        .iter()
        .for_each(|(_, took)| upload_latency.record(*took));
    let mut download_latency = Latencies::default();
    downloaded
        .into_iter()
        .for_each(|took| download_latency.record(took));
    report
        .add_json("upload", &upload_latency.summary())
        .add_json("download", &download_latency.summary());
    upload_memory.add_to(&mut report, "upload");
    download_memory.add_to(&mut report, "download");
    Ok(report)
}

/// `len` bytes of xorshift noise: incompressible, and cheap to make. The
/// buffer lives for the whole run, shared by every client's request.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Samples the servers' resident memory every 50 ms while a phase runs.
struct MemoryWatch {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Memory>,
}

/// The resident memory of the chat-server and the store-servers (summed)
/// before a phase and at its highest during it, in bytes.
#[derive(Default)]
struct Memory {
    chat_before: Option<u64>,
    chat_peak: Option<u64>,
    stores_before: Option<u64>,
    stores_peak: Option<u64>,
}

impl MemoryWatch {
    fn start(target: &Target) -> Self {
        let chat = target.server_pid;
        let stores = target.store_pids.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let stores_rss = move || -> Option<u64> {
            (!stores.is_empty()).then(|| stores.iter().filter_map(|pid| rss_bytes(*pid)).sum())
        };
        let task = tokio::spawn(async move {
            let mut memory = Memory {
                chat_before: chat.and_then(rss_bytes),
                stores_before: stores_rss(),
                ..Memory::default()
            };
            while !stopped.load(Ordering::Relaxed) {
                memory.chat_peak = memory.chat_peak.max(chat.and_then(rss_bytes));
                memory.stores_peak = memory.stores_peak.max(stores_rss());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            memory
        });
        Self { stop, task }
    }

    async fn stop(self) -> Memory {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

impl Memory {
    fn add_to(&self, report: &mut Report, phase: &str) {
        let mib = |bytes: u64| bytes as f64 / 1_048_576.0;
        if let (Some(before), Some(peak)) = (self.chat_before, self.chat_peak) {
            report
                .add(&format!("{phase}ServerRssBeforeMiB"), mib(before))
                .add(&format!("{phase}ServerRssPeakMiB"), mib(peak));
        }
        if let (Some(before), Some(peak)) = (self.stores_before, self.stores_peak) {
            report
                .add(&format!("{phase}StoreRssBeforeMiB"), mib(before))
                .add(&format!("{phase}StoreRssPeakMiB"), mib(peak));
        }
    }
}
