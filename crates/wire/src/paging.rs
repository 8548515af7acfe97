//! Paging: the query every list takes and the envelope every list returns.
//!
//! A list is read either by page number (`page`, `perPage`) or, for messages,
//! from a cursor (`before` or `after` a message id). The raw query is kept as
//! text so that `page=-1` or `perPage=abc` get a precise `invalid_argument`
//! instead of a generic deserialisation failure.

use crate::ids::EntityId;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// Items per page when the client does not say.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// The most items one page may hold.
pub const MAX_PER_PAGE: u32 = 100;
/// The highest page number: far beyond any real list, and small enough
/// that `page * perPage` never overflows a database's 64-bit skip.
pub const MAX_PAGE: u64 = 1_000_000;

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The page number (0 when read from a cursor).
    pub page: u64,
    /// The page size asked for.
    pub per_page: u32,
    /// How many items the whole list holds.
    pub total: u64,
    /// Whether another page follows in the direction read.
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Changes the items, keeping the paging facts.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
            has_more: self.has_more,
        }
    }
}

/// The paging query as received, before validation.
///
/// Values may come as query-string text or as JSON numbers (some clients
/// send GET arguments as a JSON body, docs/store-api.md). The OpenAPI documents describe it
/// with [`crate::schema::PageParams`] (lists read by page only) and
/// [`crate::schema::CursorPageParams`] (a group's messages).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageQuery {
    /// Page number, from 0 (default 0) to 1,000,000.
    #[serde(default, deserialize_with = "text_or_number")]
    pub page: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[serde(default, deserialize_with = "text_or_number")]
    pub per_page: Option<String>,
    /// Messages only: the ones older than this message id, newest first.
    #[serde(default, deserialize_with = "text_or_number")]
    pub before: Option<String>,
    /// Messages only: the ones newer than this message id, oldest first.
    #[serde(default, deserialize_with = "text_or_number")]
    pub after: Option<String>,
}

/// Where in a list to read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// By page number (newest first for messages).
    Page(u64),
    /// Older than a message, newest first.
    Before(EntityId),
    /// Newer than a message, oldest first.
    After(EntityId),
}

/// A validated paging request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Where to read from.
    pub position: Position,
    /// Items per page, within 1..=100.
    pub per_page: u32,
}

/// Why a paging query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    /// `page` is not a whole number from 0 to [`MAX_PAGE`].
    #[error("`page` must be a whole number from 0 to 1000000, got `{0}`")]
    Page(String),
    /// `perPage` is not a whole number from 1 to 100.
    #[error("`perPage` must be a whole number from 1 to 100, got `{0}`")]
    PerPage(String),
    /// `before`/`after` is not a message id.
    #[error("`{0}` must be a message id: {1}")]
    Cursor(&'static str, String),
    /// More than one position was given.
    #[error("give at most one of `page`, `before` and `after`")]
    Conflict,
    /// A cursor was given to a list that is not one of messages.
    #[error("`before` and `after` are only accepted on lists of messages")]
    CursorNotAllowed,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            position: Position::Page(0),
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageQuery {
    /// Validates a query for a list that accepts message cursors.
    pub fn parse_with_cursor(&self) -> Result<PageRequest, PagingError> {
        let per_page = match self.per_page.as_deref() {
            None => DEFAULT_PER_PAGE,
            Some(raw) => raw
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                .ok_or_else(|| PagingError::PerPage(raw.to_owned()))?,
        };
        let page = self
            .page
            .as_deref()
            .map(|raw| {
                raw.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|page| *page <= MAX_PAGE)
                    .ok_or_else(|| PagingError::Page(raw.to_owned()))
            })
            .transpose()?;
        let cursor = |name: &'static str, raw: &Option<String>| {
            raw.as_deref()
                .map(|raw| {
                    EntityId::parse(raw).map_err(|e| PagingError::Cursor(name, e.to_string()))
                })
                .transpose()
        };
        let before = cursor("before", &self.before)?;
        let after = cursor("after", &self.after)?;
        let position = match (page, before, after) {
            (page, None, None) => Position::Page(page.unwrap_or(0)),
            (None, Some(id), None) => Position::Before(id),
            (None, None, Some(id)) => Position::After(id),
            _ => return Err(PagingError::Conflict),
        };
        Ok(PageRequest { position, per_page })
    }

    /// Validates a query for a list read by page number only.
    pub fn parse_pages_only(&self) -> Result<PageRequest, PagingError> {
        if self.before.is_some() || self.after.is_some() {
            return Err(PagingError::CursorNotAllowed);
        }
        self.parse_with_cursor()
    }

    /// Fills the fields missing here from `other` (query string wins over body).
    pub fn or(self, other: PageQuery) -> PageQuery {
        PageQuery {
            page: self.page.or(other.page),
            per_page: self.per_page.or(other.per_page),
            before: self.before.or(other.before),
            after: self.after.or(other.after),
        }
    }
}

impl PageRequest {
    /// The page number, 0 for cursor reads.
    pub fn page_number(&self) -> u64 {
        match self.position {
            Position::Page(page) => page,
            _ => 0,
        }
    }

    /// How many items come before this page in page mode.
    pub fn offset(&self) -> u64 {
        self.page_number().saturating_mul(u64::from(self.per_page))
    }

    /// The query that reads this page again (for clients and the store client).
    pub fn to_query(&self) -> PageQuery {
        let mut query = PageQuery {
            per_page: Some(self.per_page.to_string()),
            ..PageQuery::default()
        };
        match &self.position {
            Position::Page(page) => query.page = Some(page.to_string()),
            Position::Before(id) => query.before = Some(id.to_string()),
            Position::After(id) => query.after = Some(id.to_string()),
        }
        query
    }
}

/// Accepts `"3"` as well as `3` (query text or a JSON body).
pub(crate) fn text_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Integer(i64),
        Float(f64),
    }
    Ok(
        Option::<Raw>::deserialize(deserializer)?.map(|raw| match raw {
            Raw::Text(text) => text,
            Raw::Integer(n) => n.to_string(),
            Raw::Float(n) => n.to_string(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(page: Option<&str>, per_page: Option<&str>) -> PageQuery {
        PageQuery {
            page: page.map(str::to_owned),
            per_page: per_page.map(str::to_owned),
            ..PageQuery::default()
        }
    }

    #[test]
    fn defaults_to_the_first_page_of_twenty() {
        assert_eq!(
            PageQuery::default().parse_pages_only().unwrap(),
            PageRequest::default()
        );
    }

    #[test]
    fn refuses_bad_page_numbers_and_sizes() {
        assert!(matches!(
            query(Some("-1"), None).parse_pages_only(),
            Err(PagingError::Page(_))
        ));
        assert!(matches!(
            query(Some("x"), None).parse_pages_only(),
            Err(PagingError::Page(_))
        ));
        assert!(matches!(
            query(None, Some("0")).parse_pages_only(),
            Err(PagingError::PerPage(_))
        ));
        assert!(matches!(
            query(None, Some("101")).parse_pages_only(),
            Err(PagingError::PerPage(_))
        ));
        assert!(matches!(
            query(None, Some("2.5")).parse_pages_only(),
            Err(PagingError::PerPage(_))
        ));
        assert!(
            query(Some("1000000"), Some("100"))
                .parse_pages_only()
                .is_ok()
        );
        assert!(matches!(
            query(Some("1000001"), None).parse_pages_only(),
            Err(PagingError::Page(_))
        ));
        assert!(matches!(
            query(Some("184467440737095516"), None).parse_pages_only(),
            Err(PagingError::Page(_)),
        ));
    }

    #[test]
    fn accepts_the_edges_of_the_range() {
        let request = query(Some("7"), Some("100")).parse_pages_only().unwrap();
        assert_eq!(request.position, Position::Page(7));
        assert_eq!(request.per_page, 100);
        assert_eq!(request.offset(), 700);
        assert_eq!(
            query(None, Some("1")).parse_pages_only().unwrap().per_page,
            1
        );
    }

    #[test]
    fn cursors_are_ids_and_exclusive_of_each_other_and_of_pages() {
        let id = "65f0c0ffee0000000000abcd";
        let before = PageQuery {
            before: Some(id.into()),
            ..PageQuery::default()
        };
        assert_eq!(
            before.parse_with_cursor().unwrap().position,
            Position::Before(EntityId::parse(id).unwrap())
        );
        assert_eq!(
            before.parse_pages_only(),
            Err(PagingError::CursorNotAllowed)
        );
        let both = PageQuery {
            before: Some(id.into()),
            after: Some(id.into()),
            ..PageQuery::default()
        };
        assert_eq!(both.parse_with_cursor(), Err(PagingError::Conflict));
        let page_and_cursor = PageQuery {
            page: Some("1".into()),
            after: Some(id.into()),
            ..PageQuery::default()
        };
        assert_eq!(
            page_and_cursor.parse_with_cursor(),
            Err(PagingError::Conflict)
        );
        let bad = PageQuery {
            after: Some("nope".into()),
            ..PageQuery::default()
        };
        assert!(matches!(
            bad.parse_with_cursor(),
            Err(PagingError::Cursor("after", _))
        ));
    }

    #[test]
    fn numbers_from_a_json_body_are_accepted() {
        let query: PageQuery = serde_json::from_str(r#"{"page": 2, "perPage": 5}"#).unwrap();
        assert_eq!(query.parse_pages_only().unwrap().offset(), 10);
    }

    #[test]
    fn a_request_survives_the_round_trip_through_its_query() {
        let request = query(Some("3"), Some("9")).parse_pages_only().unwrap();
        assert_eq!(request.to_query().parse_pages_only().unwrap(), request);
    }
}
