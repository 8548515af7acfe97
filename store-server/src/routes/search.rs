//! `GET /message/search`: a user's messages found by words
//! (docs/store-api.md, "Search").

use super::DATA_TAG;
use super::input::{parse_id, parse_up};
use crate::db::search::Search;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chat_wire::ErrorBody;
use chat_wire::search::{SearchPage, SearchParams, SearchQuery};
use serde::Deserialize;
use service_kit::responses::{ServerErrors, Unauthenticated};
use service_kit::{ApiError, AppQuery};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, PartialSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The most groups `openGated` may name.
const MAX_OPEN_GATED: usize = 100;

/// The route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_messages))
}

/// The store's query: the search's, plus whose groups and the gate.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoreSearchQuery {
    up: Option<String>,
    q: Option<String>,
    group: Option<String>,
    cursor: Option<String>,
    per_page: Option<String>,
    skip_gated: Option<String>,
    open_gated: Option<String>,
}

/// `up`, `skipGated` and `openGated`.
struct StoreParams;

impl IntoParams for StoreParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let parameter = |name: &str, required, schema, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(required)
                .schema(Some(schema))
                .description(Some(description))
                .build()
        };
        let open_gated = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!(
                "^[0-9a-fA-F]{{24}}(,[0-9a-fA-F]{{24}}){{0,{}}}$",
                MAX_OPEN_GATED - 1
            )));
        vec![
            parameter(
                "up",
                utoipa::openapi::Required::True,
                chat_wire::ids::Up::schema(),
                "The user whose groups are searched.",
            ),
            parameter(
                "skipGated",
                utoipa::openapi::Required::False,
                ObjectBuilder::new().schema_type(Type::Boolean).into(),
                "Leave out the groups with `historyMinOnline > 0`, except those of `openGated` \
                 (default false).",
            ),
            parameter(
                "openGated",
                utoipa::openapi::Required::False,
                open_gated.into(),
                "With `skipGated`: gated groups whose history may be shown now, comma-separated \
                 (at most 100).",
            ),
        ]
    }
}

/// Search a user's messages
///
/// The messages of `up`'s groups (or of one, `group`) whose text holds
/// every word of `q`, whatever their case and accents, newest first, each
/// with `matches`: where those words are in its text (UTF-16 code units).
/// Deleted messages are never found. A page ends with a `cursor` to the
/// next one, `null` at the end; a call reads a bounded part of the index,
/// so a page may hold fewer than `perPage` results and still have a
/// cursor. `q` holds 1 to 200 characters and at most 10 different words.
#[utoipa::path(get, path = "/message/search", tag = DATA_TAG, params(StoreParams, SearchParams),
    responses((status = 200, body = SearchPage),
        (status = 400, body = ErrorBody, description = "`invalid_argument`: a bad `up`, `q`, `group`, `cursor`, `perPage` or `openGated`"),
        Unauthenticated,
        (status = 403, body = ErrorBody, description = "`permission_denied`: `up` is not a member of `group`"),
        (status = 404, body = ErrorBody, description = "`not_found`: an unknown `group`"),
        ServerErrors))]
async fn search_messages(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<StoreSearchQuery>,
) -> Result<Json<SearchPage>, ApiError> {
    let up = parse_up(
        query
            .up
            .as_deref()
            .ok_or_else(|| ApiError::InvalidArgument("`up` is required".into()))?,
    )?;
    let request = SearchQuery {
        q: query.q,
        group: query.group,
        cursor: query.cursor,
        per_page: query.per_page,
    }
    .parse()
    .map_err(|err| ApiError::InvalidArgument(err.to_string()))?;
    let skip_gated = match query.skip_gated.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::InvalidArgument(format!(
                "`skipGated` must be `true` or `false`, got `{other}`"
            )));
        }
    };
    let open_gated = match query.open_gated.as_deref() {
        None => Vec::new(),
        Some(list) => {
            let ids = list
                .split(',')
                .map(parse_id)
                .collect::<Result<Vec<_>, _>>()?;
            if ids.len() > MAX_OPEN_GATED {
                return Err(ApiError::InvalidArgument(
                    "`openGated` names at most 100 groups".into(),
                ));
            }
            ids
        }
    };
    let search = Search {
        up,
        terms: request.terms,
        group: request.group.as_ref().map(crate::db::documents::object_id),
        cursor: request.cursor,
        per_page: request.per_page,
        open_gated: skip_gated.then_some(open_gated),
    };
    Ok(Json(state.store.search(&search).await?))
}
