//! Who hears of a user's presence (`online`, `offline`): the sockets in the
//! rooms of the user's groups, but neither the user's own nor those of the
//! users they blocked, and nobody while the user hides their presence.
//!
//! The users left out are left out by their `user:{up}` rooms, which every
//! socket of theirs joins on whichever node it is: a broadcast carries its
//! exceptions to every node of the cluster, so no node needs to know where
//! anyone's sockets are.

use super::{Audience, user_room};
use chat_wire::cluster::PresenceAudience;
use chat_wire::ids::Up;

/// The audience of news about the presence of `up`, in `groups`; none when
/// `up` hides their presence or is in no group (an empty list of rooms
/// would reach every socket).
pub fn audience(up: &Up, groups: Vec<String>, who: &PresenceAudience) -> Option<Audience> {
    if groups.is_empty() || who.hidden {
        return None;
    }
    let mut audience = Audience::rooms(groups).except_user(up);
    audience
        .except
        .extend(who.hidden_from.iter().map(user_room));
    Some(audience)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(name: &str) -> Up {
        Up::parse(name).unwrap()
    }

    #[test]
    fn the_user_and_those_they_blocked_are_left_out_and_nobody_hears_a_hidden_user() {
        let ana = up("ana");
        let who = PresenceAudience {
            hidden: false,
            hidden_from: vec![up("bea"), up("cid")],
        };
        let heard = audience(&ana, vec!["g1".into()], &who).unwrap();
        assert_eq!(heard.to, ["g1"]);
        assert_eq!(heard.except, ["user:ana", "user:bea", "user:cid"]);
        assert_eq!(heard.sender, None);
        let hidden = PresenceAudience {
            hidden: true,
            ..who.clone()
        };
        assert!(audience(&ana, vec!["g1".into()], &hidden).is_none());
        assert!(audience(&ana, Vec::new(), &who).is_none());
    }
}
