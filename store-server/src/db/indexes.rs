//! The indexes behind every query the store serves, created at start-up.
//!
//! | collection | index | serves |
//! |---|---|---|
//! | messages | `{group, seq}` unique | a group's pages and `before`/`after` cursors, at any depth |
//! | messages | `{nonceKey}` unique, sparse | `(from, nonce)` idempotency |
//! | messages | `{group, changedAt}` | `GET /group/{id}/changes` |
//! | groups | `{users}` | the groups of a user |
//! | groups | `{directKey}` unique, sparse | get-or-create of direct groups |
//! | groups | `{kind, topic}` | matchmaking rooms of a topic (`POST /group/match`) |
//!
//! `_id` serves the rest: one group, message or user, read markers
//! (`group|up`), and the all-messages, all-groups and all-users listings.

use super::Store;
use mongodb::IndexModel;
use mongodb::bson::doc;
use mongodb::options::IndexOptions;

impl Store {
    /// Creates the indexes; existing ones are left as they are.
    pub async fn ensure_indexes(&self) -> Result<(), mongodb::error::Error> {
        let unique = || IndexOptions::builder().unique(true).build();
        let unique_sparse = || IndexOptions::builder().unique(true).sparse(true).build();
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"group": 1, "seq": 1})
                    .options(unique())
                    .build(),
            )
            .await?;
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"nonceKey": 1})
                    .options(unique_sparse())
                    .build(),
            )
            .await?;
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"group": 1, "changedAt": 1})
                    .build(),
            )
            .await?;
        self.groups
            .create_index(IndexModel::builder().keys(doc! {"users": 1}).build())
            .await?;
        self.groups
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"directKey": 1})
                    .options(unique_sparse())
                    .build(),
            )
            .await?;
        self.groups
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"kind": 1, "topic": 1})
                    .build(),
            )
            .await?;
        Ok(())
    }
}
