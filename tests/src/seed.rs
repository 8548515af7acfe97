//! Filling a group with many messages straight into MongoDB, in the store's
//! document shape, for the history benchmarks. A million messages through
//! the API would take minutes; this takes seconds and gives the same
//! documents and indexes the store would have written.

use anyhow::Context;
use chat_wire::ids::Up;
use mongodb::Database;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use std::time::Instant;
use store_server::db::documents::{MessageDoc, collections};

const BATCH: i64 = 10_000;

/// Appends `count` messages from `from` to `group` (sequence numbers 1 to
/// `count`) and records the count on the group document.
pub async fn fill_group(
    db: &Database,
    group: ObjectId,
    from: &Up,
    count: i64,
) -> anyhow::Result<()> {
    let coll = db.collection::<MessageDoc>(collections::MESSAGES);
    let started = Instant::now();
    let mut seq = 1;
    while seq <= count {
        let end = (seq + BATCH - 1).min(count);
        let docs: Vec<MessageDoc> = (seq..=end)
            .map(|n| {
                MessageDoc::sent(
                    ObjectId::new(),
                    group,
                    n,
                    from.clone(),
                    format!("history message {n}"),
                    DateTime::now(),
                )
            })
            .collect();
        coll.insert_many(docs).await?;
        seq = end + 1;
        eprint!("\rseeded {end}/{count} in {:.0?}", started.elapsed());
    }
    eprintln!();
    db.collection::<mongodb::bson::Document>(collections::GROUPS)
        .update_one(doc! {"_id": group}, doc! {"$set": {"messageCount": count}})
        .await?;
    Ok(())
}

/// The hex id of the message with sequence number `seq` in `group`.
pub async fn id_at(db: &Database, group: ObjectId, seq: i64) -> anyhow::Result<String> {
    db.collection::<MessageDoc>(collections::MESSAGES)
        .find_one(doc! {"group": group, "seq": seq})
        .await?
        .map(|message| message.id.to_hex())
        .context("a seeded message is missing")
}
