//! Searching messages by words: the query (`q`, `group`, `cursor`,
//! `perPage`) and its rules, the cursor, and the page of results, each a
//! message with the places of the words it was found by ([`Match`]).
//!
//! What a word is and how it is folded is in [`words`]. A message is
//! found when its text holds every word of the query (in any order);
//! results come newest first, and a page ends with an opaque `cursor` to
//! the next one (`null` when there is none).

mod params;
pub mod words;

pub use params::SearchParams;
pub use words::{Match, matches, terms_of};

use crate::ids::EntityId;
use crate::model::Message;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most characters of `q`, once trimmed.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most different words in `q`.
pub const MAX_QUERY_WORDS: usize = 10;
/// Results per page when the client does not say.
pub const DEFAULT_SEARCH_PER_PAGE: u32 = 20;
/// The most results one page may hold.
pub const MAX_SEARCH_PER_PAGE: u32 = 50;

/// A search query as received, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    /// The words to find.
    #[serde(default)]
    pub q: Option<String>,
    /// One group of the user, or none for all of them.
    #[serde(default)]
    pub group: Option<String>,
    /// Where the previous page ended.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Results per page, 1 to 50.
    #[serde(default)]
    pub per_page: Option<String>,
}

/// A validated search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// The distinct terms of `q` (folded words), in the order they came;
    /// none when `q` holds no word (then nothing is found).
    pub terms: Vec<String>,
    /// The group to search, or all of the user's.
    pub group: Option<EntityId>,
    /// Where to go on from.
    pub cursor: Option<SearchCursor>,
    /// Results per page.
    pub per_page: u32,
}

/// Why a search was refused (each is `invalid_argument`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// `q` is missing or blank.
    #[error("`q` must not be empty")]
    EmptyQuery,
    /// `q` is over [`MAX_QUERY_CHARS`] characters.
    #[error("`q` is {0} characters, over the limit of 200")]
    LongQuery(usize),
    /// `q` has more than [`MAX_QUERY_WORDS`] different words.
    #[error("`q` holds {0} different words; at most 10")]
    ManyWords(usize),
    /// `group` is not an id.
    #[error("`group`: {0}")]
    Group(String),
    /// `cursor` is not one this service gave.
    #[error("`cursor` is not a search cursor: `{0}`")]
    Cursor(String),
    /// `perPage` is not a whole number from 1 to 50.
    #[error("`perPage` must be a whole number from 1 to 50, got `{0}`")]
    PerPage(String),
}

impl SearchQuery {
    /// Validates the query.
    pub fn parse(&self) -> Result<SearchRequest, SearchError> {
        Ok(SearchRequest {
            terms: parse_q(self.q.as_deref())?,
            group: match &self.group {
                None => None,
                Some(group) => {
                    Some(EntityId::parse(group).map_err(|e| SearchError::Group(e.to_string()))?)
                }
            },
            cursor: self
                .cursor
                .as_deref()
                .map(SearchCursor::parse)
                .transpose()?,
            per_page: match &self.per_page {
                None => DEFAULT_SEARCH_PER_PAGE,
                Some(raw) => raw
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_SEARCH_PER_PAGE).contains(n))
                    .ok_or_else(|| SearchError::PerPage(raw.clone()))?,
            },
        })
    }
}

/// The distinct terms of `q`, in the order they came.
pub fn parse_q(q: Option<&str>) -> Result<Vec<String>, SearchError> {
    let q = q.map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(SearchError::EmptyQuery);
    }
    let chars = q.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(SearchError::LongQuery(chars));
    }
    let mut terms: Vec<String> = Vec::new();
    for word in words::words(q) {
        let term = words::fold(word.text);
        if !term.is_empty() && !terms.contains(&term) {
            terms.push(term);
        }
    }
    if terms.len() > MAX_QUERY_WORDS {
        return Err(SearchError::ManyWords(terms.len()));
    }
    Ok(terms)
}

/// Where a search goes on: below a message id (exclusive). As text, the
/// id's 24 hex digits; clients treat it as opaque. Cursors of earlier
/// versions, `<24 hex>.<digits>`, are still read (the suffix is ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCursor {
    /// Results are older than this id (24 lower-case hex; not always the
    /// id of a message).
    pub before: String,
}

impl SearchCursor {
    /// Parses a cursor's text.
    pub fn parse(raw: &str) -> Result<Self, SearchError> {
        let bad = || SearchError::Cursor(raw.chars().take(64).collect());
        let (before, legacy) = match raw.split_once('.') {
            Some((before, suffix)) => (before, Some(suffix)),
            None => (raw, None),
        };
        if before.len() != 24 || !before.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        if let Some(suffix) = legacy
            && (suffix.is_empty()
                || suffix.len() > 10
                || !suffix.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        Ok(Self {
            before: before.to_ascii_lowercase(),
        })
    }

    /// The cursor's text.
    pub fn format(&self) -> String {
        self.before.clone()
    }
}

/// A message found, with where its text holds the words searched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    /// The message.
    #[serde(flatten)]
    pub message: Message,
    /// The words of `message` that the query names, in order, in UTF-16
    /// code units: `message.slice(start, end)` in JavaScript.
    pub matches: Vec<Match>,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    /// Messages found, newest first. A page may hold fewer than `perPage`
    /// (even none) and still have a `cursor`: each call does a bounded
    /// amount of work.
    pub items: Vec<SearchHit>,
    /// The cursor of the next page, or `null` once everything was searched.
    pub cursor: Option<String>,
}

impl SearchPage {
    /// No results, nothing more.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            cursor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> SearchQuery {
        SearchQuery {
            q: Some(q.to_owned()),
            ..SearchQuery::default()
        }
    }

    #[test]
    fn q_gives_distinct_folded_terms_in_order() {
        let request = query("  Café the CAFE Thé  ").parse().unwrap();
        assert_eq!(request.terms, ["cafe", "the"]);
        assert_eq!(request.per_page, DEFAULT_SEARCH_PER_PAGE);
        assert_eq!(query("?!").parse().unwrap().terms, Vec::<String>::new());
    }

    #[test]
    fn bad_queries_are_refused() {
        assert_eq!(query("   ").parse(), Err(SearchError::EmptyQuery));
        assert_eq!(SearchQuery::default().parse(), Err(SearchError::EmptyQuery));
        assert_eq!(
            query(&"a".repeat(201)).parse(),
            Err(SearchError::LongQuery(201))
        );
        assert!(query(&"é".repeat(200)).parse().is_ok());
        assert_eq!(
            query("a b c d e f g h i j k").parse(),
            Err(SearchError::ManyWords(11))
        );
        assert!(query("a b c d e f g h i j a b").parse().is_ok());
        let mut q = query("x");
        q.per_page = Some("51".into());
        assert!(matches!(q.parse(), Err(SearchError::PerPage(_))));
        q.per_page = Some("50".into());
        q.group = Some("nothex".into());
        assert!(matches!(q.parse(), Err(SearchError::Group(_))));
    }

    #[test]
    fn cursors_read_back_what_they_wrote_and_refuse_anything_else() {
        let cursor = SearchCursor {
            before: "6b1575061f131a8da933d772".into(),
        };
        assert_eq!(SearchCursor::parse(&cursor.format()), Ok(cursor.clone()));
        let upper = SearchCursor::parse("6B1575061F131A8DA933D772").unwrap();
        assert_eq!(upper.before, "6b1575061f131a8da933d772");
        // An earlier version's cursor still reads.
        assert_eq!(
            SearchCursor::parse("6b1575061f131a8da933d772.3600"),
            Ok(cursor)
        );
        let pattern = regex::Regex::new(params::CURSOR_PATTERN).unwrap();
        assert!(pattern.is_match("6b1575061f131a8da933d772"));
        assert!(pattern.is_match("6b1575061f131a8da933d772.3600"));
        for bad in [
            "",
            "6b1575061f131a8da933d772.",
            "6b1575061f131a8da933d77.5",
            "6b1575061f131a8da933d77x",
            "6b1575061f131a8da933d772.-5",
            "6b1575061f131a8da933d772.12345678901",
        ] {
            assert!(SearchCursor::parse(bad).is_err(), "{bad}");
            assert!(!pattern.is_match(bad), "{bad}");
        }
    }

    #[test]
    fn a_hit_is_a_message_with_its_matches() {
        let json = serde_json::json!({
            "id": "6b1575061f131a8da933d772", "group": "6b1575061f131a8da933d770",
            "from": "up1", "message": "Café", "timestamp": "2026-12-06T14:45:26.000Z",
            "deleted": false, "reactions": {}, "attachments": [],
            "matches": [{"start": 0, "end": 4}]
        });
        let hit: SearchHit = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(hit.matches, [Match { start: 0, end: 4 }]);
        assert_eq!(serde_json::to_value(&hit).unwrap(), json);
    }
}
