//! The error answers of the OpenAPI documents, each defined once.
//!
//! A route lists the ones it can answer next to its own successes, e.g.
//! `responses((status = 200, body = Group), BadRequest, Unauthenticated,
//! NotFound, ServerErrors)`. Every error has the contract's body
//! (`ErrorBody`, which each document registers as a component).

use chat_wire::ErrorBody;
use std::collections::BTreeMap;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, ToSchema};

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build(),
        )
        .build()
        .into()
}

macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident { $($status:literal => $description:literal),+ $(,)? })+) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([
                        $(($status.to_owned(), error_response($description)),)+
                    ])
                }
            }
        )+
    };
}

error_responses! {
    /// `400 invalid_argument`.
    BadRequest {
        "400" => "`invalid_argument`: a bad id, field, body or query (see the message)",
    }
    /// `401 unauthenticated`: every route behind a token.
    Unauthenticated {
        "401" => "`unauthenticated`: the bearer token is missing or not valid",
    }
    /// `403 permission_denied`.
    Forbidden {
        "403" => "`permission_denied`: not a member, not the author, not an admin",
    }
    /// `404 not_found`.
    NotFound {
        "404" => "`not_found`: an unknown group, message or user",
    }
    /// `413 payload_too_large`: routes that read a body.
    PayloadTooLarge {
        "413" => "`payload_too_large`: the body is over 64 KiB, or a message text over its limit",
    }
    /// `500 internal` and `503 unavailable`: any route (a dependency
    /// unreachable, a request over the time limit, anything unexpected).
    ServerErrors {
        "500" => "`internal`: an unexpected failure; the cause is only logged",
        "503" => "`unavailable`: a dependency is unreachable or the request took too long; safe to retry",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_set_names_its_statuses_with_the_error_body() {
        let responses = ServerErrors::responses();
        assert_eq!(responses.keys().collect::<Vec<_>>(), vec!["500", "503"]);
        let json = serde_json::to_value(&responses["503"]).unwrap();
        assert_eq!(
            json["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
    }
}
