//! Queries on groups: create, read, list, join, leave, direct conversations.

use super::documents::{GroupDoc, entity_id, read_key};
use super::paging::{Total, find_page};
use super::{Store, db_error, is_duplicate_key};
use chat_wire::cluster::UserGroupIds;
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::{Group, GroupKind};
use chat_wire::paging::{Page, PageRequest};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use mongodb::options::ReturnDocument;
use service_kit::ApiError;
use std::collections::HashMap;

/// A group to create, already validated.
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// Display name.
    pub name: String,
    /// Kind.
    pub kind: GroupKind,
    /// Members, without duplicates, admins included.
    pub users: Vec<Up>,
    /// Admins.
    pub admins: Vec<Up>,
    /// Open to anyone.
    pub open: bool,
    /// History gate.
    pub history_min_online: u32,
    /// Matchmaking topic and capacity, for `match` groups.
    pub matching: Option<(String, u32)>,
    /// A pair's room made by the queues (see [`GroupDoc::pair`]).
    pub pair: bool,
}

impl Store {
    /// Inserts a new group.
    pub async fn create_group(&self, spec: GroupSpec) -> Result<Group, ApiError> {
        let doc = GroupDoc {
            admins: spec.admins,
            open: spec.open,
            history_min_online: i64::from(spec.history_min_online),
            topic: spec.matching.as_ref().map(|(topic, _)| topic.clone()),
            capacity: spec.matching.map(|(_, capacity)| i64::from(capacity)),
            pair: spec.pair,
            ..GroupDoc::new(spec.name, spec.kind, spec.users)
        };
        self.groups.insert_one(&doc).await.map_err(db_error)?;
        Ok(doc.into())
    }

    /// One group, or `not_found`.
    pub async fn group(&self, id: ObjectId) -> Result<GroupDoc, ApiError> {
        self.groups
            .find_one(doc! {"_id": id})
            .await
            .map_err(db_error)?
            .ok_or_else(|| group_not_found(id))
    }

    /// All groups, oldest first.
    pub async fn list_groups(&self, request: &PageRequest) -> Result<Page<Group>, ApiError> {
        let page = find_page(
            &self.groups,
            doc! {},
            doc! {"_id": 1},
            request,
            Total::Counted,
        )
        .await?;
        Ok(page.map(Group::from))
    }

    /// The groups `up` belongs to, oldest first, each with its `unread`
    /// count and how many of those mention `up` (`mentions`).
    pub async fn groups_of_user(
        &self,
        up: &Up,
        request: &PageRequest,
    ) -> Result<Page<Group>, ApiError> {
        let filter = doc! {"users": up.as_str()};
        let page = find_page(
            &self.groups,
            filter,
            doc! {"_id": 1},
            request,
            Total::Counted,
        )
        .await?;
        let keys: Vec<String> = page.items.iter().map(|g| read_key(&g.id, up)).collect();
        let read_seqs: HashMap<String, i64> = if keys.is_empty() {
            HashMap::new()
        } else {
            self.reads
                .find(doc! {"_id": {"$in": keys}})
                .await
                .map_err(db_error)?
                .try_collect::<Vec<_>>()
                .await
                .map_err(db_error)?
                .into_iter()
                .map(|read| (read.key, read.seq))
                .collect()
        };
        let read_seq = |doc: &GroupDoc| read_seqs.get(&read_key(&doc.id, up)).copied().unwrap_or(0);
        // What the retention sweep deleted is not unread: it cannot be read.
        let counted_from = |doc: &GroupDoc| read_seq(doc).max(doc.swept_through());
        let unread_groups: Vec<(ObjectId, i64)> = page
            .items
            .iter()
            .filter(|doc| doc.message_count > read_seq(doc))
            .map(|doc| (doc.id, read_seq(doc)))
            .collect();
        let mentions = self.unread_mentions(up, &unread_groups).await?;
        Ok(page.map(|doc| {
            let counted_from = counted_from(&doc);
            Group {
                unread: Some(unread_count(doc.message_count, counted_from)),
                mentions: Some(mentions.get(&doc.id).copied().unwrap_or(0)),
                ..Group::from(doc)
            }
        }))
    }

    /// The ids of every group of `up`, oldest first: one indexed read of
    /// ids alone.
    pub async fn group_ids_of_user(&self, up: &Up) -> Result<Vec<EntityId>, ApiError> {
        let found: Vec<Document> = self
            .groups
            .clone_with_type::<Document>()
            .find(doc! {"users": up.as_str()})
            .projection(doc! {"_id": 1})
            .sort(doc! {"_id": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        Ok(found
            .iter()
            .filter_map(|group| group.get_object_id("_id").ok())
            .map(entity_id)
            .collect())
    }

    /// The ids of every group of each of `ups`, oldest first, one entry per
    /// listed user in the order listed: one indexed read for all of them,
    /// which brings each group's members (the ids alone cannot tell whose
    /// group it is).
    pub async fn group_ids_of_users(&self, ups: &[Up]) -> Result<Vec<UserGroupIds>, ApiError> {
        let asked: Vec<&str> = ups.iter().map(Up::as_str).collect();
        let groups: Vec<Document> = self
            .groups
            .clone_with_type::<Document>()
            .find(doc! {"users": {"$in": &asked}})
            .projection(doc! {"_id": 1, "users": 1})
            .sort(doc! {"_id": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let mut ids_of: HashMap<&str, Vec<EntityId>> =
            asked.iter().map(|up| (*up, Vec::new())).collect();
        for group in &groups {
            let (Ok(id), Ok(members)) = (group.get_object_id("_id"), group.get_array("users"))
            else {
                continue;
            };
            for member in members.iter().filter_map(|member| member.as_str()) {
                if let Some(ids) = ids_of.get_mut(member) {
                    ids.push(entity_id(id));
                }
            }
        }
        Ok(ups
            .iter()
            .map(|up| UserGroupIds {
                up: up.clone(),
                ids: ids_of.get(up.as_str()).cloned().unwrap_or_default(),
            })
            .collect())
    }

    /// Adds `up` to a group (idempotent). Direct groups keep their two users.
    /// With `only_if_open`, a closed group is refused unless `up` is already
    /// a member, in the same atomic step as the join: a kick cannot land
    /// between a check and the join and be undone by it.
    pub async fn join_group(
        &self,
        id: ObjectId,
        up: &Up,
        only_if_open: bool,
    ) -> Result<Group, ApiError> {
        let mut filter = doc! {"_id": id, "kind": {"$ne": "direct"}};
        if only_if_open {
            filter.insert(
                "$or",
                vec![doc! {"open": true}, doc! {"users": up.as_str()}],
            );
        }
        let joined = self
            .groups
            .find_one_and_update(filter, doc! {"$addToSet": {"users": up.as_str()}})
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)?;
        if let Some(group) = joined {
            return Ok(group.into());
        }
        let group = self.group(id).await?;
        if group.users.contains(up) {
            return Ok(group.into());
        }
        Err(ApiError::PermissionDenied(
            if group.kind == GroupKind::Direct {
                format!("group {id} is a direct conversation; no one else can join it")
            } else {
                format!("group {id} is not open; ask an admin to add you")
            },
        ))
    }

    /// Removes `up` from a group's members and admins (idempotent). A direct
    /// conversation cannot be left: its two users are what it is.
    pub async fn leave_group(&self, id: ObjectId, up: &Up) -> Result<Group, ApiError> {
        let group = self.group(id).await?;
        if group.kind == GroupKind::Direct {
            return Err(ApiError::PermissionDenied(format!(
                "group {id} is a direct conversation; it cannot be left"
            )));
        }
        self.groups
            .find_one_and_update(
                doc! {"_id": id},
                doc! {"$pull": {"users": up.as_str(), "admins": up.as_str()}},
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)?
            .map(Group::from)
            .ok_or_else(|| group_not_found(id))
    }

    /// The direct group of two users, created on first use; `true` when created.
    ///
    /// The unique `directKey` makes two concurrent creations end with one
    /// group: the loser of the race reads the winner's.
    pub async fn direct_group(&self, a: &Up, b: &Up) -> Result<(Group, bool), ApiError> {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        let key = format!("{first}|{second}");
        if let Some(existing) = self.find_direct(&key).await? {
            return Ok((existing, false));
        }
        let doc = GroupDoc {
            direct_key: Some(key.clone()),
            ..GroupDoc::new(
                format!("{first} & {second}"),
                GroupKind::Direct,
                vec![first.clone(), second.clone()],
            )
        };
        match self.groups.insert_one(&doc).await {
            Ok(_) => Ok((doc.into(), true)),
            Err(err) if is_duplicate_key(&err) => self
                .find_direct(&key)
                .await?
                .map(|group| (group, false))
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("direct group {key} vanished"))),
            Err(err) => Err(db_error(err)),
        }
    }

    /// Raises the message count of each group to at least its number in
    /// `counts`, in one write.
    pub async fn raise_message_counts(
        &self,
        counts: &HashMap<ObjectId, i64>,
    ) -> Result<(), ApiError> {
        let updates: Vec<Document> = counts
            .iter()
            .map(|(id, count)| doc! {"q": {"_id": id}, "u": {"$max": {"messageCount": count}}})
            .collect();
        self.run_updates(super::documents::collections::GROUPS, updates)
            .await
    }

    /// The number of the newest message of a group, known to be at least
    /// `floor`. Only numbers above the floor are scanned: usually none.
    pub async fn newest_seq_above(&self, group: ObjectId, floor: i64) -> Result<i64, ApiError> {
        let newest = self
            .messages
            .clone_with_type::<Document>()
            .find_one(doc! {"group": group, "seq": {"$gt": floor}})
            .sort(doc! {"seq": -1})
            .projection(doc! {"seq": 1})
            .await
            .map_err(db_error)?;
        Ok(newest.and_then(|d| d.get_i64("seq").ok()).unwrap_or(floor))
    }

    async fn find_direct(&self, key: &str) -> Result<Option<Group>, ApiError> {
        Ok(self
            .groups
            .find_one(doc! {"directKey": key})
            .await
            .map_err(db_error)?
            .map(Group::from))
    }
}

/// The `not_found` error of a group.
pub fn group_not_found(id: ObjectId) -> ApiError {
    ApiError::NotFound(format!("group {} not found", entity_id(id)))
}

/// Messages after the read marker; never negative.
pub fn unread_count(message_count: i64, read_seq: i64) -> u64 {
    u64::try_from(message_count.saturating_sub(read_seq)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unread_never_goes_below_zero() {
        assert_eq!(unread_count(10, 4), 6);
        assert_eq!(unread_count(10, 10), 0);
        assert_eq!(unread_count(3, 5), 0);
    }
}
