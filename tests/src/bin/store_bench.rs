//! Benchmarks of the store-server over HTTP, as the chat-server uses it.
//!
//! - `post`: `POST /message` from many concurrent keep-alive clients; prints
//!   stored messages per second and latency percentiles.
//! - `history`: page latency at both ends of a group of a million messages
//!   (seeded straight into MongoDB once, then reused).
//! - `search`: `GET /message/search` latency over a million messages in a
//!   reader's 20 groups, by query shape, and concurrent searches per second
//!   (`chat_tests::search_bench`).
//! - `sweep`: the retention sweep: how fast it deletes alone, and `post`'s
//!   latency without it and while it runs (`chat_tests::sweep_bench`).
//!
//! The store must already run (see `scripts/bench-store.sh`). Results are
//! printed as a table and as one JSON line.

use anyhow::bail;
use chat_tests::latency::{Latencies, Summary};
use chat_tests::seed::{fill_group, id_at};
use chat_tests::store_http::StoreHttp;
use chat_tests::sweep_bench::SweepTarget;
use clap::{Parser, Subcommand};
use mongodb::bson::{doc, oid::ObjectId};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store_server::db::documents::collections;

#[derive(Parser)]
#[command(about = "Benchmarks of the store-server")]
struct Args {
    /// The store's base URL.
    #[arg(long, env = "STORE_URL", default_value = "http://127.0.0.1:3000")]
    store_url: String,
    /// The store's service token.
    #[arg(long, env = "STORE_API_TOKEN")]
    token: String,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Concurrent `POST /message`.
    Post {
        #[command(flatten)]
        load: Load,
    },
    /// Page latency in a group of `messages` messages.
    History {
        /// Messages in the group.
        #[arg(long, default_value_t = 1_000_000)]
        messages: i64,
        /// Requests per measured position.
        #[arg(long, default_value_t = 2000)]
        samples: usize,
        #[command(flatten)]
        mongo: Mongo,
    },
    /// Search latency and throughput over `messages` messages.
    Search {
        /// Messages to search.
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        /// Groups of the reader they are spread over.
        #[arg(long, default_value_t = 20)]
        groups: usize,
        /// Requests per query shape.
        #[arg(long, default_value_t = 500)]
        samples: usize,
        /// Concurrent clients of the throughput run.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Seconds of the throughput run.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        #[command(flatten)]
        mongo: Mongo,
    },
    /// The retention sweep alone, then `post` without it, while it runs,
    /// and without it again.
    Sweep {
        /// Due messages the sweep deletes alone.
        #[arg(long, default_value_t = 100_000)]
        messages: i64,
        /// Due messages it deletes while `post` runs; by default, as many
        /// as it deleted alone in one and a half `post` runs, so that it
        /// outlasts the writers.
        #[arg(long)]
        during: Option<i64>,
        /// What each `post` run sends.
        #[command(flatten)]
        load: Load,
        #[command(flatten)]
        mongo: Mongo,
    },
}

/// What `post` sends.
#[derive(Debug, Clone, Copy, clap::Args)]
struct Load {
    /// Concurrent keep-alive clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Groups the messages are spread over.
    #[arg(long, default_value_t = 16)]
    groups: usize,
}

/// The store's MongoDB, which the seeding scenarios write straight into.
#[derive(Debug, Clone, clap::Args)]
struct Mongo {
    /// MongoDB to seed (the store's).
    #[arg(long, env = "MONGODB_URI", default_value = "mongodb://127.0.0.1:27017")]
    mongodb_uri: String,
    /// The store's database.
    #[arg(long, env = "MONGODB_DB", default_value = "chat")]
    mongodb_db: String,
}

impl Mongo {
    async fn database(&self) -> anyhow::Result<mongodb::Database> {
        Ok(mongodb::Client::with_uri_str(&self.mongodb_uri)
            .await?
            .database(&self.mongodb_db))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = StoreHttp::new(&args.store_url, &args.token, Duration::from_secs(30))?;
    match args.scenario {
        Scenario::Post { load } => post(client, load).await.map(drop),
        Scenario::History {
            messages,
            samples,
            mongo,
        } => history(client, messages, samples, mongo.database().await?).await,
        Scenario::Search {
            messages,
            groups,
            samples,
            clients,
            seconds,
            mongo,
        } => {
            chat_tests::search_bench::run(chat_tests::search_bench::SearchBench {
                store_url: args.store_url.trim_end_matches('/').to_owned(),
                token: args.token,
                messages,
                groups,
                samples,
                clients,
                seconds,
                mongodb_uri: mongo.mongodb_uri,
                mongodb_db: mongo.mongodb_db,
            })
            .await
        }
        Scenario::Sweep {
            messages,
            during,
            load,
            mongo,
        } => sweep(client, mongo.database().await?, messages, during, load).await,
    }
}

/// The longest a sweep may take before the benchmark gives up.
const SWEEP_LIMIT: Duration = Duration::from_secs(1800);

async fn sweep(
    store: StoreHttp,
    db: mongodb::Database,
    messages: i64,
    during: Option<i64>,
    load: Load,
) -> anyhow::Result<()> {
    eprintln!("seeding {messages} due messages");
    let alone = SweepTarget::seed(store.clone(), db.clone(), messages, "bench-sweep-alone").await?;
    let alone = alone.sweep(SWEEP_LIMIT).await?;
    println!(
        "sweep alone: {} messages in {:.1} s: {:.0} messages/s",
        alone.messages, alone.seconds, alone.per_second
    );
    let during = during.unwrap_or_else(|| {
        let enough = alone.per_second * load.seconds as f64 * 1.5;
        ((enough / 1000.0).ceil() as i64 * 1000).max(10_000)
    });
    eprintln!("seeding {during} due messages");
    let target = SweepTarget::seed(store.clone(), db, during, "bench-sweep-during").await?;
    let quiet = post(store.clone(), load).await?;
    let sweeping = tokio::spawn(async move { target.sweep(SWEEP_LIMIT).await });
    let busy = post(store.clone(), load).await?;
    let swept = sweeping.await??;
    println!(
        "sweep during post: {} messages in {:.1} s: {:.0} messages/s{}",
        swept.messages,
        swept.seconds,
        swept.per_second,
        if swept.seconds < load.seconds as f64 {
            " (it ended before the writers: part of their run had no sweep)"
        } else {
            ""
        }
    );
    let after = post(store, load).await?;
    println!(
        "{}",
        json!({"scenario": "sweep", "alone": alone, "during": swept,
            "post": {"before": quiet, "whileSweeping": busy, "after": after}})
    );
    Ok(())
}

async fn post(store: StoreHttp, load: Load) -> anyhow::Result<Value> {
    let Load {
        clients,
        seconds,
        groups,
    } = load;
    let users: Vec<String> = (0..clients).map(|i| format!("bench{i}")).collect();
    let mut group_ids = Vec::new();
    for g in 0..groups {
        group_ids.push(
            store
                .create_group(&format!("bench-post-{g}"), &users)
                .await?,
        );
    }
    let group_ids = Arc::new(group_ids);
    // Nonces differ from one run to the next: reused ones would be answered
    // as retries of the earlier run's messages.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let failures = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (store, group_ids, failures, from) = (
            store.clone(),
            group_ids.clone(),
            failures.clone(),
            users[client].clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::default();
            let mut n = 0usize;
            while Instant::now() < deadline {
                let group = &group_ids[(client + n) % group_ids.len()];
                let body = json!({"group": group, "from": from, "message": format!("message {n} of {from}"), "nonce": format!("{run}-{from}-{n}")});
                let sent = Instant::now();
                match store.post("/message", &body).await {
                    Ok(_) => latencies.record(sent.elapsed()),
                    Err(_) => {
                        failures.fetch_add(1, Ordering::Relaxed);
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
    let elapsed = started.elapsed().as_secs_f64();
    let summary = all.summary();
    let rate = summary.count as f64 / elapsed;
    println!("scenario  clients  seconds  stored/s  p50 ms  p99 ms  p99.9 ms  failed");
    println!(
        "post      {clients:>7}  {elapsed:>7.1}  {rate:>8.0}  {:>6.2}  {:>6.2}  {:>8.2}  {}",
        summary.p50_ms,
        summary.p99_ms,
        summary.p999_ms,
        failures.load(Ordering::Relaxed)
    );
    let report = json!({"scenario": "post", "clients": clients, "seconds": elapsed, "storedPerSecond": rate,
        "latency": summary, "failed": failures.load(Ordering::Relaxed)});
    println!("{report}");
    Ok(report)
}

async fn history(
    store: StoreHttp,
    messages: i64,
    samples: usize,
    db: mongodb::Database,
) -> anyhow::Result<()> {
    let group = seed_history(&store, messages, &db).await?;
    let id_at = |seq: i64| id_at(&db, group, seq);
    let oldest_page = (messages - 1) / 20;
    let positions = [
        ("page 0 (newest)", "page=0".to_owned()),
        ("page at the oldest end", format!("page={oldest_page}")),
        ("before, oldest end", format!("before={}", id_at(21).await?)),
        ("after, oldest end", format!("after={}", id_at(1).await?)),
        (
            "before, middle",
            format!("before={}", id_at(messages / 2).await?),
        ),
    ];
    println!("position                   requests  p50 ms  p99 ms  p99.9 ms  max ms");
    let mut results = Vec::new();
    for (name, query) in positions {
        let path = format!(
            "/group/messages?groupID={}&perPage=20&{query}",
            group.to_hex()
        );
        let first = store.get(&path).await?;
        let items = first["items"].as_array().map_or(0, Vec::len);
        if items != 20 {
            bail!("{name}: expected 20 messages, got {items}");
        }
        let mut latencies = Latencies::default();
        for _ in 0..samples {
            let sent = Instant::now();
            store.get(&path).await?;
            latencies.record(sent.elapsed());
        }
        let s: Summary = latencies.summary();
        println!(
            "{name:<26} {:>8}  {:>6.2}  {:>6.2}  {:>8.2}  {:>6.2}",
            s.count, s.p50_ms, s.p99_ms, s.p999_ms, s.max_ms
        );
        results.push(json!({"position": name, "latency": s}));
    }
    println!(
        "{}",
        json!({"scenario": "history", "messages": messages, "results": results})
    );
    Ok(())
}

/// A group holding `messages` messages: found from an earlier run, else
/// created through the store and filled straight into MongoDB.
async fn seed_history(
    store: &StoreHttp,
    messages: i64,
    db: &mongodb::Database,
) -> anyhow::Result<ObjectId> {
    let name = format!("bench-history-{messages}");
    let groups = db.collection::<mongodb::bson::Document>(collections::GROUPS);
    if let Some(existing) = groups
        .find_one(doc! {"name": &name, "messageCount": messages})
        .await?
    {
        eprintln!("reusing {name}");
        return Ok(existing.get_object_id("_id")?);
    }
    let group = ObjectId::parse_str(store.create_group(&name, &["reader", "writer"]).await?)?;
    fill_group(db, group, &chat_wire::Up::parse("writer")?, messages).await?;
    Ok(group)
}
