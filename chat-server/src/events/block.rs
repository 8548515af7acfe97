//! `block {up}`: the user blocks another one. Answers `{}`.
//!
//! From then on the blocked user cannot open or continue a direct
//! conversation with the user (the store refuses their messages with
//! `permission_denied`), nor see the user's presence in any group: the
//! user's `online` and `offline` leave their sockets out, and `presence`
//! and the history gate leave the user out for them. They are told nothing.

use super::{Ctx, Event, Handled};
use chat_wire::ids::Up;
use chat_wire::events::Empty;
use chat_wire::privacy::UserRef;
use service_kit::ApiError;

/// `block`.
pub struct Block;

impl Event for Block {
    const NAME: &'static str = "block";
    const WRITES: bool = true;
    type Payload = UserRef;
    type Reply = Empty;

    async fn handle(ctx: &Ctx<'_>, UserRef { up }: UserRef) -> Result<Handled<Empty>, ApiError> {
        not_oneself(ctx, &up, "block")?;
        ctx.state.store.block(ctx.up(), &up).await?;
        Ok(Handled::reply(Empty {}))
    }
}

/// `invalid_argument` when the user names themselves in `block` or
/// `unblock` (`verb`).
pub(super) fn not_oneself(ctx: &Ctx<'_>, up: &Up, verb: &str) -> Result<(), ApiError> {
    if up == ctx.up() {
        return Err(ApiError::InvalidArgument(format!(
            "you cannot {verb} yourself"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sockets::EngineRooms;
    use crate::session::Session;
    use chat_wire::ErrorCode;
    use socketioxide_core::Sid;

    #[tokio::test]
    async fn oneself_is_refused_before_the_store_is_asked() {
        let state = super::super::testing::state_without_store(&[]);
        let (_, io) = socketioxide::SocketIo::builder().build_svc();
        let rooms = EngineRooms::new(io, None);
        let me = Up::parse("up201900001").unwrap();
        let session = Session::new(me.clone(), u64::MAX);
        let ctx = Ctx {
            state: &state,
            rooms: &rooms,
            session: &session,
            socket: Sid::new(),
        };
        let code = async |up: &str| {
            let payload = UserRef {
                up: Up::parse(up).unwrap(),
            };
            Block::handle(&ctx, payload).await.err().map(|e| e.code())
        };
        assert_eq!(code("up201900001").await, Some(ErrorCode::InvalidArgument));
        // Another user goes to the store, which cannot be reached.
        assert_eq!(code("up201900002").await, Some(ErrorCode::Unavailable));
    }
}
