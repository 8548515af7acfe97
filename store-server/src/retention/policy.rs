//! Setting a group's retention (`POST /group/{id}/retention`).

use crate::db::documents::entity_id;
use crate::db::{Store, db_error};
use chat_wire::ids::Up;
use chat_wire::model::Group;
use chat_wire::retention::Retention;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::options::ReturnDocument;
use service_kit::ApiError;

impl Store {
    /// Sets the retention of `group` (already validated). With `by`, only
    /// if `by` is an admin of the group, checked in the same update:
    /// `permission_denied` otherwise. `forever` removes the field, so the
    /// group reads as one that never had a retention. Messages already
    /// swept stay gone.
    pub async fn set_retention(
        &self,
        group: ObjectId,
        retention: Retention,
        by: Option<&Up>,
    ) -> Result<Group, ApiError> {
        let mut filter = doc! {"_id": group};
        if let Some(by) = by {
            filter.insert("admins", by.as_str());
        }
        let update = if retention.is_forever() {
            doc! {"$unset": {"retention": ""}}
        } else {
            let stored = mongodb::bson::to_bson(&retention)
                .map_err(|err| ApiError::Internal(anyhow::Error::new(err)))?;
            doc! {"$set": {"retention": stored}}
        };
        let changed = self
            .groups
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(db_error)?;
        match (changed, by) {
            (Some(changed), _) => Ok(changed.into()),
            (None, Some(by)) => {
                // Unknown group (`not_found`), or not an admin.
                self.group(group).await?;
                Err(ApiError::PermissionDenied(format!(
                    "only an admin of group {} may set its retention ({by} is not one)",
                    entity_id(group)
                )))
            }
            (None, None) => Err(crate::db::groups::group_not_found(group)),
        }
    }
}
