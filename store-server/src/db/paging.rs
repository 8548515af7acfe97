//! Page-number reads shared by the listings that are not message cursors.

use super::db_error;
use chat_wire::paging::{Page, PageRequest};
use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::Document;
use serde::de::DeserializeOwned;
use service_kit::ApiError;

/// Reads page `request` of `filter` in `sort` order, counting `total` with
/// the filter. One more item than asked is read to learn `hasMore`.
pub async fn find_page<D>(
    collection: &Collection<D>,
    filter: Document,
    sort: Document,
    request: &PageRequest,
    total: u64,
) -> Result<Page<D>, ApiError>
where
    D: DeserializeOwned + Send + Sync,
{
    let per_page = u64::from(request.per_page);
    let mut items: Vec<D> = collection
        .find(filter)
        .sort(sort)
        .skip(request.offset())
        .limit(i64::try_from(per_page + 1).unwrap_or(i64::MAX))
        .await
        .map_err(db_error)?
        .try_collect()
        .await
        .map_err(db_error)?;
    let has_more = items.len() as u64 > per_page;
    items.truncate(request.per_page as usize);
    Ok(Page {
        items,
        page: request.page_number(),
        per_page: request.per_page,
        total,
        has_more,
    })
}
