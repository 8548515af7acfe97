//! A million messages to search, written straight into MongoDB in the
//! store's document shape (search terms included), for the search
//! benchmark: one reader in `groups` groups, the messages spread evenly
//! over the last year and over the groups, each of six words drawn from a
//! known mix, so that a word's share of the messages is known:
//!
//! | word | in |
//! |---|---|
//! | `hello` | 1 message in 10 (common) |
//! | `exam`, `friday` | 1 in 50 each, independently (both: 1 in 2,500) |
//! | `zebra` | 1 in 9,973 (rare; a prime, so it falls in every group) |
//! | `t0` … `t4999` | 4 of them per message, 1 in 1,250 each |

use anyhow::Context;
use chat_wire::ids::Up;
use mongodb::Database;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use std::time::Instant;
use store_server::db::documents::{MessageDoc, collections};

const BATCH: usize = 10_000;
/// How far back the oldest message is.
const YEAR_SECONDS: u64 = 365 * 86_400;
/// Synthetic filler words.
const FILLER_WORDS: u64 = 5_000;

/// The text of message `n` (deterministic).
pub fn text_of(n: u64) -> String {
    let mut state = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut words: Vec<String> = (0..4)
        .map(|_| format!("t{}", next() % FILLER_WORDS))
        .collect();
    if next() % 10 == 0 {
        words.push("hello".into());
    }
    if next() % 50 == 0 {
        words.push("exam".into());
    }
    if next() % 50 == 0 {
        words.push("friday".into());
    }
    if n % 9_973 == 7 {
        words.push("zebra".into());
    }
    words.join(" ")
}

/// Writes `count` messages from `from` over `groups` (message `n` goes to
/// group `n % groups.len()`), the oldest a year ago, and sets each group's
/// count and a creation time before its first message.
pub async fn fill_groups(
    db: &Database,
    groups: &[ObjectId],
    from: &Up,
    count: u64,
) -> anyhow::Result<()> {
    let coll = db.collection::<MessageDoc>(collections::MESSAGES);
    let now = u64::try_from(DateTime::now().timestamp_millis() / 1000)?;
    let start = now - YEAR_SECONDS;
    let started = Instant::now();
    let mut n = 0u64;
    while n < count {
        let end = (n + BATCH as u64).min(count);
        let docs: Vec<MessageDoc> = (n..end)
            .map(|i| {
                let second = start + i * YEAR_SECONDS / count;
                let groups_len = groups.len() as u64;
                MessageDoc::sent(
                    id_at(second, i),
                    groups[(i % groups_len) as usize],
                    i64::try_from(i / groups_len + 1).unwrap_or(i64::MAX),
                    from.clone(),
                    text_of(i),
                    DateTime::from_millis(i64::try_from(second * 1000).unwrap_or(0)),
                )
            })
            .collect();
        coll.insert_many(docs).await?;
        n = end;
        eprint!("\rseeded {n}/{count} in {:.0?}", started.elapsed());
    }
    eprintln!();
    let per_group = count / groups.len() as u64;
    let created = DateTime::from_millis(i64::try_from((start - 86_400) * 1000)?);
    for group in groups {
        db.collection::<mongodb::bson::Document>(collections::GROUPS)
            .update_one(
                doc! {"_id": group},
                doc! {"$set": {"messageCount": i64::try_from(per_group)?, "createdAt": created}},
            )
            .await
            .context("updating a seeded group")?;
    }
    Ok(())
}

/// A unique ObjectId of second `second` (message `n`).
fn id_at(second: u64, n: u64) -> ObjectId {
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&u32::try_from(second).unwrap_or(u32::MAX).to_be_bytes());
    bytes[4..].copy_from_slice(&n.to_be_bytes());
    ObjectId::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_come_in_their_shares() {
        let texts: Vec<String> = (0..100_000).map(text_of).collect();
        let share = |word: &str| {
            texts
                .iter()
                .filter(|t| t.split(' ').any(|w| w == word))
                .count()
        };
        assert!(
            (9_000..11_000).contains(&share("hello")),
            "{}",
            share("hello")
        );
        assert!((1_700..2_300).contains(&share("exam")));
        assert_eq!(share("zebra"), 11);
        assert_eq!(text_of(42), text_of(42));
    }
}
