//! What `react`, `edit message` and `delete message` answer once the store
//! changed a message: the Message as its group's readers may see it (its
//! text withheld while the history gate is closed, see [`super::gate`]),
//! also sent to the room's other sockets as `message updated`.

use super::{Ctx, Handled, gate};
use crate::rooms::Audience;
use crate::rooms::outgoing::Outgoing;
use chat_wire::model::Message;

/// The ack and the relay of a changed message.
pub async fn announce(ctx: &Ctx<'_>, message: Message) -> Handled<Message> {
    let message = match gate::as_readers_see_it(ctx.state, message.clone()).await {
        Ok(visible) => visible,
        Err(err) => {
            // The change is stored; whether the gate is open is unknown:
            // the text stays withheld rather than risk showing it.
            tracing::warn!(id = %message.id, error = %err, "cannot read the history gate; the changed message goes out without its text");
            message.without_text()
        }
    };
    let audience = Audience::others(ctx.socket, vec![message.group.to_string()]);
    Handled::reply(message.clone()).relay(audience, Outgoing::MessageUpdated(message))
}
