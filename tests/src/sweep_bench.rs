//! The retention sweep's cost, for `store_bench sweep`: a group whose
//! messages are all due (sent two days ago, kept one day), seeded straight
//! into MongoDB; a sweep of it started through `POST /retention/sweep` and
//! followed in MongoDB (`sweep.through` of the group) until every message
//! is deleted, so that its rate can be measured alone and while writers
//! keep the store busy.

use crate::store_http::StoreHttp;
use anyhow::{Context, bail};
use mongodb::Database;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use serde::Serialize;
use serde_json::json;
use std::time::{Duration, Instant};
use store_server::db::documents::collections;

const SEED_BATCH: i64 = 10_000;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// How often the follower reads how far the sweep is.
const POLL: Duration = Duration::from_millis(100);

/// A group whose messages are all due for the sweep.
#[derive(Clone)]
pub struct SweepTarget {
    db: Database,
    group: ObjectId,
    messages: i64,
    store: StoreHttp,
}

/// What one sweep of a [`SweepTarget`] did.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepRun {
    /// Messages deleted.
    pub messages: i64,
    /// From the request to the last message deleted, in seconds.
    pub seconds: f64,
    /// Messages deleted per second.
    pub per_second: f64,
}

impl SweepTarget {
    /// Creates a group through `store`, fills it with
    /// `messages` messages sent two days ago (straight into MongoDB, as
    /// the store would have written them), and gives it a retention of one
    /// day: every message is due.
    pub async fn seed(
        store: StoreHttp,
        db: Database,
        messages: i64,
        name: &str,
    ) -> anyhow::Result<Self> {
        let group = ObjectId::parse_str(&store.create_group(name, &["sweeper"]).await?)?;
        let target = Self {
            db,
            group,
            messages,
            store,
        };
        target.fill().await?;
        target
            .store
            .post(
                &format!("/group/{}/retention", group.to_hex()),
                &json!({"mode": "days", "days": 1}),
            )
            .await?;
        Ok(target)
    }

    async fn fill(&self) -> anyhow::Result<()> {
        let messages = self.db.collection::<Document>(collections::MESSAGES);
        let sent = DateTime::now().timestamp_millis() - 2 * DAY_MS;
        let started = Instant::now();
        let mut seq = 1;
        while seq <= self.messages {
            let end = (seq + SEED_BATCH - 1).min(self.messages);
            let docs: Vec<Document> = (seq..=end)
                .map(|n| {
                    doc! {
                        "_id": ObjectId::new(), "group": self.group, "seq": n, "from": "sweeper",
                        "message": format!("swept message {n}"), "timestamp": DateTime::from_millis(sent + n),
                        "deleted": false, "reactions": [],
                    }
                })
                .collect();
            messages.insert_many(docs).await?;
            seq = end + 1;
            eprint!(
                "\rseeded {end}/{} in {:.0?}",
                self.messages,
                started.elapsed()
            );
        }
        eprintln!();
        self.db
            .collection::<Document>(collections::GROUPS)
            .update_one(
                doc! {"_id": self.group},
                doc! {"$set": {"messageCount": self.messages}},
            )
            .await?;
        Ok(())
    }

    /// Starts the sweep of the group and follows it until every message is
    /// deleted (or `limit` passes).
    pub async fn sweep(&self, limit: Duration) -> anyhow::Result<SweepRun> {
        let started = Instant::now();
        // The request answers 503 after the store's 10 s request timeout;
        // the sweep goes on by itself.
        let request = {
            let this = self.clone();
            tokio::spawn(async move {
                let path = format!("/retention/sweep?group={}", this.group.to_hex());
                let _ = this.store.post(&path, &json!({})).await;
            })
        };
        let groups = self.db.collection::<Document>(collections::GROUPS);
        loop {
            let group = groups
                .find_one(doc! {"_id": self.group})
                .await?
                .context("the swept group is gone")?;
            let through = group
                .get_document("sweep")
                .ok()
                .and_then(|sweep| sweep.get_i64("through").ok())
                .unwrap_or(0);
            if through >= self.messages {
                break;
            }
            if started.elapsed() > limit {
                bail!(
                    "the sweep deleted {through} of {} messages in {limit:?}",
                    self.messages
                );
            }
            tokio::time::sleep(POLL).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        request.abort();
        let left = self
            .db
            .collection::<Document>(collections::MESSAGES)
            .count_documents(doc! {"group": self.group})
            .await?;
        if left > 0 {
            bail!("{left} messages of the swept group are still stored");
        }
        Ok(SweepRun {
            messages: self.messages,
            seconds,
            per_second: self.messages as f64 / seconds,
        })
    }
}
