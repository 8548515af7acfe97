//! `refresh token {token}`: a newer valid token of the same user extends
//! the socket's life past its current token's expiry (see `crate::expiry`).
//! Answers `{exp}`.

use super::{Ctx, Event, Handled};
use chat_wire::events::{RefreshToken as Payload, TokenExpiry};
use service_kit::ApiError;

/// `refresh token`.
pub struct RefreshToken;

impl Event for RefreshToken {
    const NAME: &'static str = "refresh token";
    const WRITES: bool = false;
    type Payload = Payload;
    type Reply = TokenExpiry;

    async fn handle(ctx: &Ctx<'_>, Payload { token }: Payload) -> Result<Handled<TokenExpiry>, ApiError> {
        let verified = ctx
            .state
            .jwt
            .verify(&token)
            .map_err(|_| ApiError::Unauthenticated("the token is invalid or expired".into()))?;
        if verified.up != *ctx.up() {
            return Err(ApiError::PermissionDenied(
                "the token is another user's".into(),
            ));
        }
        Ok(Handled::reply(TokenExpiry {
            exp: ctx.session.extend(verified.exp),
        }))
    }
}
