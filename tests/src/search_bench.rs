//! The search benchmark of `store_bench search`: `GET /message/search`
//! latency over a million messages in the 20 groups of one reader
//! ([`crate::search_seed`]), for a few query shapes, then the requests per
//! second of concurrent clients mixing them. It stops by itself.

use crate::latency::{Latencies, Summary};
use crate::search_seed::fill_groups;
use crate::store_http::StoreHttp;
use chat_wire::ids::Up;
use mongodb::bson::{doc, oid::ObjectId};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store_server::db::documents::collections;

/// The reader whose groups are searched.
const READER: &str = "searcher";

/// What to run.
#[derive(Debug, Clone)]
pub struct SearchBench {
    /// The store's base URL.
    pub store_url: String,
    /// The store's service token.
    pub token: String,
    /// Messages to search.
    pub messages: u64,
    /// Groups they are spread over.
    pub groups: usize,
    /// Requests per shape for the latencies.
    pub samples: usize,
    /// Concurrent clients of the throughput run.
    pub clients: usize,
    /// Seconds of the throughput run.
    pub seconds: u64,
    /// The store's MongoDB, to seed.
    pub mongodb_uri: String,
    /// The store's database.
    pub mongodb_db: String,
}

/// One query shape: its name and its query string (after `up=`).
struct Shape {
    name: &'static str,
    query: String,
}

/// Runs the benchmark and prints a table and one JSON line.
pub async fn run(bench: SearchBench) -> anyhow::Result<()> {
    let store = StoreHttp::new(&bench.store_url, &bench.token, Duration::from_secs(30))?;
    let groups = seed(&store, &bench).await?;
    let one = groups[0].to_hex();
    let shapes = [
        ("rare word, all groups", "q=zebra".to_owned()),
        ("rare word, one group", format!("q=zebra&group={one}")),
        ("common word, all groups", "q=hello".to_owned()),
        ("common word, one group", format!("q=hello&group={one}")),
        ("two words, all groups", "q=exam+friday".to_owned()),
        ("two words, one group", format!("q=exam+friday&group={one}")),
        ("no such word, all groups", "q=nowhere".to_owned()),
    ]
    .map(|(name, query)| Shape { name, query });
    println!(
        "shape                       requests  results  cursor  p50 ms  p99 ms  p99.9 ms  max ms"
    );
    let mut results = Vec::new();
    for shape in &shapes {
        let url = search_path(shape);
        let first = store.get(&url).await?;
        let found = first["items"].as_array().map_or(0, Vec::len);
        let cursor = !first["cursor"].is_null();
        let mut latencies = Latencies::default();
        for _ in 0..bench.samples {
            let sent = Instant::now();
            store.get(&url).await?;
            latencies.record(sent.elapsed());
        }
        let s: Summary = latencies.summary();
        println!(
            "{:<27} {:>8}  {:>7}  {:>6}  {:>6.2}  {:>6.2}  {:>8.2}  {:>6.2}",
            shape.name, s.count, found, cursor, s.p50_ms, s.p99_ms, s.p999_ms, s.max_ms
        );
        results.push(json!({"shape": shape.name, "query": shape.query, "firstPage": found, "cursor": cursor, "latency": s}));
    }
    let throughput = throughput(&store, &bench, &shapes).await?;
    println!(
        "mixed shapes, {} clients, {:.0} s: {:.0} searches/s, p50 {:.2} ms, p99 {:.2} ms, {} failed",
        bench.clients,
        throughput.seconds,
        throughput.rate,
        throughput.latency.p50_ms,
        throughput.latency.p99_ms,
        throughput.failed
    );
    println!(
        "{}",
        json!({"scenario": "search", "messages": bench.messages, "groups": bench.groups, "results": results,
            "throughput": {"clients": bench.clients, "seconds": throughput.seconds, "perSecond": throughput.rate,
                "latency": throughput.latency, "failed": throughput.failed}})
    );
    Ok(())
}

/// What the throughput run measured.
struct Throughput {
    seconds: f64,
    rate: f64,
    latency: Summary,
    failed: u64,
}

/// `clients` clients, each cycling over the shapes, for `seconds`.
async fn throughput(
    store: &StoreHttp,
    bench: &SearchBench,
    shapes: &[Shape],
) -> anyhow::Result<Throughput> {
    let urls: Arc<Vec<String>> = Arc::new(shapes.iter().map(search_path).collect());
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(bench.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..bench.clients {
        let (store, urls, failed) = (store.clone(), urls.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let mut n = client;
            while Instant::now() < deadline {
                let sent = Instant::now();
                match store.get(&urls[n % urls.len()]).await {
                    Ok(_) => latencies.record(sent.elapsed()),
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += 1;
            }
            latencies
        }));
    }
    let mut all = Latencies::default();
    for task in tasks {
        all.merge(&task.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let latency = all.summary();
    Ok(Throughput {
        seconds,
        rate: latency.count as f64 / seconds,
        latency,
        failed: failed.load(Ordering::Relaxed),
    })
}

/// The store route a shape asks, with its query.
fn search_path(shape: &Shape) -> String {
    format!("/message/search?up={READER}&perPage=20&{}", shape.query)
}

/// The reader's groups holding the messages: found from an earlier run,
/// else created through the store and filled straight into MongoDB.
async fn seed(store: &StoreHttp, bench: &SearchBench) -> anyhow::Result<Vec<ObjectId>> {
    let db = mongodb::Client::with_uri_str(&bench.mongodb_uri)
        .await?
        .database(&bench.mongodb_db);
    let groups = db.collection::<mongodb::bson::Document>(collections::GROUPS);
    let per_group = i64::try_from(bench.messages / bench.groups as u64)?;
    let names: Vec<String> = (0..bench.groups)
        .map(|g| format!("bench-search-{}-{g}", bench.messages))
        .collect();
    let mut found = Vec::new();
    for name in &names {
        if let Some(existing) = groups
            .find_one(doc! {"name": name, "messageCount": per_group})
            .await?
        {
            found.push(existing.get_object_id("_id")?);
        }
    }
    if found.len() == bench.groups {
        eprintln!(
            "reusing the {} groups of {} messages",
            bench.groups, bench.messages
        );
        return Ok(found);
    }
    let mut created = Vec::new();
    for name in &names {
        let id = store.create_group(name, &[READER, "writer"]).await?;
        created.push(ObjectId::parse_str(&id)?);
    }
    fill_groups(&db, &created, &Up::parse("writer")?, bench.messages).await?;
    Ok(created)
}
