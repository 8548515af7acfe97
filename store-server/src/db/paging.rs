//! Page-number reads shared by the listings that are not message cursors.

use super::db_error;
use chat_wire::paging::{Page, PageRequest};
use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::Document;
use serde::de::DeserializeOwned;
use service_kit::ApiError;

/// How a listing's `total` is counted when the page alone does not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// `countDocuments` with the listing's filter.
    Counted,
    /// The collection's metadata count (for a listing of every document).
    Estimated,
}

/// Reads page `request` of `filter` in `sort` order. One more item than
/// asked is read to learn `hasMore`; `total` is counted only when the page
/// does not already tell it (a last page that is not empty, or an empty
/// first page), so a short listing costs one query.
pub async fn find_page<D>(
    collection: &Collection<D>,
    filter: Document,
    sort: Document,
    request: &PageRequest,
    total: Total,
) -> Result<Page<D>, ApiError>
where
    D: DeserializeOwned + Send + Sync,
{
    let per_page = u64::from(request.per_page);
    let mut items: Vec<D> = collection
        .find(filter.clone())
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
    let total = match total_from_page(request.offset(), items.len(), has_more) {
        Some(total) => total,
        None => match total {
            Total::Counted => collection.count_documents(filter).await,
            Total::Estimated => collection.estimated_document_count().await,
        }
        .map_err(db_error)?,
    };
    Ok(Page {
        items,
        page: request.page_number(),
        per_page: request.per_page,
        total,
        has_more,
    })
}

/// The listing's total when the page read shows where the listing ends.
fn total_from_page(offset: u64, items: usize, has_more: bool) -> Option<u64> {
    let ends_here = !has_more && (items > 0 || offset == 0);
    ends_here.then(|| offset + items as u64)
}

#[cfg(test)]
mod tests {
    use super::total_from_page;

    #[test]
    fn a_page_that_reaches_the_end_tells_the_total() {
        assert_eq!(total_from_page(0, 0, false), Some(0));
        assert_eq!(total_from_page(0, 7, false), Some(7));
        assert_eq!(total_from_page(40, 3, false), Some(43));
    }

    #[test]
    fn a_full_page_or_one_past_the_end_needs_a_count() {
        assert_eq!(total_from_page(0, 20, true), None);
        assert_eq!(total_from_page(40, 0, false), None);
    }
}
