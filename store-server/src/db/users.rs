//! Queries on users: list, read, create or update.

use super::documents::UserDoc;
use super::paging::{Total, find_page};
use super::{Store, db_error};
use chat_wire::ids::Up;
use chat_wire::model::User;
use chat_wire::paging::{Page, PageRequest};
use chat_wire::requests::UserUpdate;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::options::ReturnDocument;
use service_kit::ApiError;

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
