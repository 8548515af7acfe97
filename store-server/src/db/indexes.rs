//! The indexes behind every query the store serves, created at start-up.
//!
//! | collection | index | serves |
//! |---|---|---|
//! | messages | `{group, seq}` unique | a group's pages and `before`/`after` cursors, at any depth |
//! | messages | `{nonceKey}` unique, sparse | `(from, nonce)` idempotency |
//! | messages | `{group, changedAt}`, partial: changed messages only | `GET /group/{id}/changes` |
//! | messages | `{replyTo.id}`, sparse | the replies to a message, whose quotes follow its edits and delete |
//! | messages | `{mentions, group, seq}`, partial: messages that mention someone | a user's unread mentions per group |
//! | messages | `{terms, group, _id}` | search: a word's messages in a group, newest first |
//! | groups | `{users}` | the groups of a user |
//! | groups | `{directKey}` unique, sparse | get-or-create of direct groups |
//! | groups | `{kind, topic}` | matchmaking rooms of a topic (`POST /group/match`) |
//! | groups | `{retention.mode}`, sparse | the groups the retention sweep looks at (none of those kept forever) |
//! | users | `{nodes}` | the users of a chat node, when it stops or dies |
//! | nodes | `{seenAt}` | the live and the expired chat nodes |
//! | changes | `{at}`, TTL one hour | `GET /changes`, and expiring the change log |
//! | attachments | `{uploader, state}` | a user's stored bytes (the quota) |
//! | attachments | `{state, createdAt}` | the sweep of uploads no message took |
//! | attachments.files | `{filename, uploadDate}` | GridFS's own (the driver's) |
//! | attachments.chunks | `{files_id, n}` | GridFS's own: a file's chunks in order, and a range of them |
//!
//! `_id` serves the rest: one group, message, user, node or queue, read
//! markers (`group|up`), and the all-messages, all-groups and all-users listings.

use super::Store;
use mongodb::IndexModel;
use mongodb::bson::doc;
use mongodb::options::IndexOptions;

/// The name of the partial index of changed messages.
const CHANGES_INDEX: &str = "group_1_changedAt_1_changed";
/// The name of the full index it replaces.
const OLD_CHANGES_INDEX: &str = "group_1_changedAt_1";

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
        // Partial: only changed messages are indexed, so a new message does
        // not pay for this index (inserts were ~30 % slower with it full).
        let changed_only = IndexOptions::builder()
            .name(CHANGES_INDEX.to_owned())
            .partial_filter_expression(doc! {"changedAt": {"$exists": true}})
            .build();
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"group": 1, "changedAt": 1})
                    .options(changed_only)
                    .build(),
            )
            .await?;
        let sparse = || IndexOptions::builder().sparse(true).build();
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"replyTo.id": 1})
                    .options(sparse())
                    .build(),
            )
            .await?;
        // Partial, not sparse: a sparse compound index holds every document
        // that has any of its fields, and every message has `group`.
        let mentioning_only = IndexOptions::builder()
            .partial_filter_expression(doc! {"mentions": {"$exists": true}})
            .build();
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"mentions": 1, "group": 1, "seq": 1})
                    .options(mentioning_only)
                    .build(),
            )
            .await?;
        // Search (`db::search`): one range per word and group, in `_id`
        // order. Multikey: one entry per distinct word of a message.
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"terms": 1, "group": 1, "_id": -1})
                    .build(),
            )
            .await?;
        // The full index of earlier versions, if this database has it.
        if let Err(err) = self.messages.drop_index(OLD_CHANGES_INDEX).await {
            tracing::debug!(error = %err, "no earlier changes index to drop");
        }
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
        // Sparse: a group that keeps its messages forever has no
        // `retention`, so the sweep's query never meets it.
        self.groups
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"retention.mode": 1})
                    .options(sparse())
                    .build(),
            )
            .await?;
        self.users
            .create_index(IndexModel::builder().keys(doc! {"nodes": 1}).build())
            .await?;
        self.nodes
            .create_index(IndexModel::builder().keys(doc! {"seenAt": 1}).build())
            .await?;
        self.ensure_changes_index().await?;
        self.attachments
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"uploader": 1, "state": 1})
                    .build(),
            )
            .await?;
        self.attachments
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"state": 1, "createdAt": 1})
                    .build(),
            )
            .await?;
        // The GridFS indexes, as the driver makes them on a first upload
        // (with the same options, so that whichever comes first, the
        // other finds it there).
        let files = self
            .database()
            .collection::<mongodb::bson::Document>("attachments.files");
        files
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"filename": 1, "uploadDate": 1})
                    .build(),
            )
            .await?;
        let chunks = self
            .database()
            .collection::<mongodb::bson::Document>("attachments.chunks");
        chunks
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"files_id": 1, "n": 1})
                    .build(),
            )
            .await?;
        Ok(())
    }
}
