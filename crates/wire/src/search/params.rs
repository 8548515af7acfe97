//! The OpenAPI description of a search's query: exactly what
//! [`super::SearchQuery::parse`] accepts, so that a client (or a fuzzer)
//! reading the document sends nothing the services refuse, except a `q`
//! of more than ten different words, a rule no pattern states.

use super::{DEFAULT_SEARCH_PER_PAGE, MAX_QUERY_CHARS, MAX_SEARCH_PER_PAGE};
use crate::schema::{trimmed_text_pattern, whole_number};
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema};

/// The regex of a search cursor's text (a suffix `.<digits>`, which
/// earlier versions wrote, is still accepted and ignored).
pub const CURSOR_PATTERN: &str = r"^[0-9a-fA-F]{24}(\.[0-9]{1,10})?$";

/// `q`, `group`, `cursor` and `perPage` of a search.
#[derive(Debug, Clone, Copy)]
pub struct SearchParams;

fn parameter(
    name: &str,
    required: bool,
    schema: impl Into<RefOr<Schema>>,
    description: &str,
) -> Parameter {
    let required = match required {
        true => utoipa::openapi::Required::True,
        false => utoipa::openapi::Required::False,
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(required)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

fn text(pattern: String, max_length: Option<usize>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(max_length)
        .pattern(Some(pattern))
        .build()
}

impl IntoParams for SearchParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut per_page = whole_number(
            1,
            u64::from(MAX_SEARCH_PER_PAGE),
            "Results per page (default 20).",
        );
        per_page.default = Some(DEFAULT_SEARCH_PER_PAGE.into());
        let mut group = match crate::ids::EntityId::schema() {
            RefOr::T(Schema::Object(id)) => id,
            _ => Object::with_type(Type::String),
        };
        group.description = Some("One group of the user; all of them when absent.".into());
        vec![
            parameter(
                "q",
                true,
                // Trimming may remove any number of spaces around the text.
                text(trimmed_text_pattern(MAX_QUERY_CHARS), None),
                "The words to find, all of them, in any order, case and accents aside. \
                 Trimmed; then 1 to 200 characters and at most 10 different words. A `q` \
                 without any letter or digit finds nothing.",
            ),
            parameter("group", false, group, "One group of the user."),
            parameter(
                "cursor",
                false,
                text(CURSOR_PATTERN.to_owned(), Some(35)),
                "The `cursor` of the previous page, as it was answered.",
            ),
            parameter(
                "perPage",
                false,
                per_page,
                "Results per page, 1 to 50 (default 20).",
            ),
        ]
    }
}
