//! Queries on users: list, read, create or update, and the names of those
//! who share a group with someone.

use super::documents::UserDoc;
use super::paging::{Total, find_page};
use super::{Store, db_error};
use chat_wire::ids::Up;
use chat_wire::model::User;
use chat_wire::names::UserName;
use chat_wire::paging::{Page, PageRequest};
use chat_wire::requests::UserUpdate;
use futures::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::options::ReturnDocument;
use service_kit::ApiError;
use std::collections::{HashMap, HashSet};

impl Store {
    /// All users, by `up`.
    pub async fn list_users(&self, request: &PageRequest) -> Result<Page<User>, ApiError> {
        let page = find_page(
            &self.users,
            doc! {},
            doc! {"_id": 1},
            request,
            Total::Counted,
        )
        .await?;
        Ok(page.map(User::from))
    }

    /// One user, or `not_found`.
    pub async fn user(&self, up: &Up) -> Result<User, ApiError> {
        self.users
            .find_one(doc! {"_id": up.as_str()})
            .await
            .map_err(db_error)?
            .map(User::from)
            .ok_or_else(|| ApiError::NotFound(format!("user {up} not found")))
    }

    /// Creates the user or updates the given fields; `true` when created.
    /// Going offline records `lastSeen`.
    pub async fn upsert_user(&self, up: &Up, update: UserUpdate) -> Result<(User, bool), ApiError> {
        let (set, set_on_insert) = user_update_documents(up, &update, DateTime::now());
        let mut changes = doc! {"$setOnInsert": set_on_insert.clone()};
        if !set.is_empty() {
            changes.insert("$set", set.clone());
        }
        // One atomic step, whose answer is this write's own result and never
        // a concurrent one's: the document before, with the same `$set` and
        // `$setOnInsert` applied here.
        let before = self
            .users
            .clone_with_type::<Document>()
            .find_one_and_update(doc! {"_id": up.as_str()}, changes)
            .upsert(true)
            .return_document(ReturnDocument::Before)
            .await
            .map_err(db_error)?;
        let created = before.is_none();
        let mut after = before.unwrap_or_else(|| {
            let mut inserted = doc! {"_id": up.as_str()};
            inserted.extend(set_on_insert);
            inserted
        });
        after.extend(set);
        let user: UserDoc = mongodb::bson::from_document(after)
            .map_err(|err| ApiError::Internal(anyhow::Error::new(err).context("reading a user")))?;
        Ok((user.into(), created))
    }
}

impl Store {
    /// The names of the users of `ups` who share a group with `asker` (or
    /// are `asker`), in the order asked, each once; the others are left
    /// out. A user without a document or a name has the name `""`.
    pub async fn names_for(&self, asker: &Up, ups: &[Up]) -> Result<Vec<UserName>, ApiError> {
        let asked: Vec<&str> = ups.iter().map(Up::as_str).collect();
        let shared_groups: Vec<Document> = self
            .groups
            .clone_with_type::<Document>()
            .find(doc! {"$and": [{"users": asker.as_str()}, {"users": {"$in": &asked}}]})
            .projection(doc! {"users": 1})
            .await
            .map_err(db_error)?
            .try_collect()
            .await
            .map_err(db_error)?;
        let mut known: HashSet<&str> = HashSet::from([asker.as_str()]);
        for group in &shared_groups {
            let members = group.get_array("users").map_err(|err| {
                ApiError::Internal(anyhow::Error::new(err).context("reading a group's members"))
            })?;
            known.extend(members.iter().filter_map(|member| member.as_str()));
        }
        let mut visible: Vec<&Up> = Vec::new();
        for up in ups {
            if known.contains(up.as_str()) && !visible.contains(&up) {
                visible.push(up);
            }
        }
        let ids: Vec<&str> = visible.iter().map(|up| up.as_str()).collect();
        let names: HashMap<String, String> = self
            .users
            .clone_with_type::<Document>()
            .find(doc! {"_id": {"$in": ids}})
            .projection(doc! {"name": 1})
            .await
            .map_err(db_error)?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(db_error)?
            .into_iter()
            .filter_map(|user| {
                let up = user.get_str("_id").ok()?.to_owned();
                Some((up, user.get_str("name").unwrap_or_default().to_owned()))
            })
            .collect();
        Ok(visible
            .into_iter()
            .map(|up| UserName {
                up: up.clone(),
                name: names.get(up.as_str()).cloned().unwrap_or_default(),
            })
            .collect())
    }
}

/// The `$set` of the given fields and the `$setOnInsert` defaults of the
/// others; a field is never in both.
fn user_update_documents(up: &Up, update: &UserUpdate, now: DateTime) -> (Document, Document) {
    let mut set = Document::new();
    let mut defaults = Document::new();
    match &update.username {
        Some(username) => set.insert("username", username),
        None => defaults.insert("username", up.as_str()),
    };
    match &update.name {
        Some(name) => set.insert("name", name),
        None => defaults.insert("name", ""),
    };
    match update.online {
        Some(online) => {
            set.insert("online", online);
            if !online {
                set.insert("lastSeen", now);
            }
        }
        None => {
            defaults.insert("online", false);
        }
    }
    (set, defaults)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_fields_are_set_and_the_others_only_defaulted() {
        let up = Up::parse("up1").unwrap();
        let now = DateTime::from_millis(1);
        let update = UserUpdate {
            name: Some("Ana".into()),
            online: Some(false),
            ..UserUpdate::default()
        };
        let (set, defaults) = user_update_documents(&up, &update, now);
        assert_eq!(set, doc! {"name": "Ana", "online": false, "lastSeen": now});
        assert_eq!(defaults, doc! {"username": "up1"});
    }

    #[test]
    fn going_online_does_not_touch_last_seen() {
        let up = Up::parse("up1").unwrap();
        let update = UserUpdate {
            online: Some(true),
            ..UserUpdate::default()
        };
        let (set, _) = user_update_documents(&up, &update, DateTime::now());
        assert!(!set.contains_key("lastSeen"));
    }
}
