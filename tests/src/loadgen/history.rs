//! `history`: latency of a 20-message page at several depths of a group of
//! a million messages, through the server's public REST gateway
//! (`GET /chat/{group}/message`), as an app scrolling back would ask.
//!
//! The group is seeded once per database and reused by later runs.

use super::Target;
use super::report::Report;
use crate::latency::Latencies;
use crate::seed::{fill_group, id_at};
use anyhow::bail;
use chat_server::jwt::JwtKeys;
use chat_wire::ids::Up;
use chat_wire::model::GroupKind;
use mongodb::Database;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde_json::json;
use std::time::{Duration, Instant};
use store_server::db::documents::{GroupDoc, collections};

/// The knobs of a history run.
pub struct HistoryRun {
    /// Messages in the group.
    pub messages: i64,
    /// Requests per position (fewer if `budget` runs out first).
    pub samples: usize,
    /// Time allowed per position.
    pub budget: Duration,
}

/// Runs the scenario and returns its report.
pub async fn run(
    target: &Target,
    db: &Database,
    jwt_secret: &str,
    knobs: &HistoryRun,
) -> anyhow::Result<Report> {
    let reader = Up::parse("lghistoryreader")?;
    let group = seeded_group(db, &reader, knobs.messages).await?;
    let token = JwtKeys::new(jwt_secret).mint(&reader, Duration::from_secs(3600))?;
    let http = reqwest::Client::new();
    let base = format!(
        "http://{}/chat/{}/message?perPage=20",
        target.first(),
        group.to_hex()
    );
    let depth = |fraction: f64| ((knobs.messages as f64) * (1.0 - fraction)) as i64;
    let positions = [
        ("newest page", "page=0".to_owned()),
        (
            "before, 10% deep",
            format!("before={}", id_at(db, group, depth(0.1)).await?),
        ),
        (
            "before, 50% deep",
            format!("before={}", id_at(db, group, depth(0.5)).await?),
        ),
        (
            "before, 90% deep",
            format!("before={}", id_at(db, group, depth(0.9)).await?),
        ),
        (
            "before, oldest end",
            format!("before={}", id_at(db, group, 21).await?),
        ),
        (
            "page at the oldest end",
            format!("page={}", (knobs.messages - 1) / 20),
        ),
    ];
    let mut report = Report::new("history", &target.label);
    report.add("messages", knobs.messages);
    let mut all = Latencies::default();
    for (name, query) in positions {
        let url = format!("{base}&{query}");
        let mut latencies = Latencies::default();
        let started = Instant::now();
        for _ in 0..knobs.samples {
            let sent = Instant::now();
            let response = http.get(&url).bearer_auth(&token).send().await?;
            let status = response.status();
            let body: serde_json::Value = response.json().await?;
            latencies.record(sent.elapsed());
            let items = body["items"].as_array().map_or(0, Vec::len);
            if !status.is_success() || items != 20 {
                bail!("{name}: expected 20 messages, got {status} with {items}");
            }
            if started.elapsed() > knobs.budget {
                break;
            }
        }
        all.merge(&latencies);
        report.add(name, json!(latencies.summary()));
    }
    report.add_json("all", &all.summary());
    Ok(report)
}

/// The group holding `messages` messages that `reader` may read: found
/// from an earlier run, else created and filled.
async fn seeded_group(db: &Database, reader: &Up, messages: i64) -> anyhow::Result<ObjectId> {
    let name = format!("loadgen history {messages}");
    let groups = db.collection::<GroupDoc>(collections::GROUPS);
    if let Some(existing) = groups
        .find_one(doc! {"name": &name, "messageCount": messages})
        .await?
    {
        eprintln!("reusing the seeded group {name}");
        return Ok(existing.id);
    }
    let group = GroupDoc::new(name, GroupKind::Group, vec![reader.clone()]);
    groups.insert_one(&group).await?;
    fill_group(db, group.id, reader, messages).await?;
    Ok(group.id)
}
