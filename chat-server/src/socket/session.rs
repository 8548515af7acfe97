//! What a socket knows about its user: who they are and which groups they
//! belong to, kept current on join, leave and kick so that sending a message
//! costs one store round trip (the write), not a membership lookup.

use chat_wire::ids::{EntityId, Up};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// The room every socket of a user joins, to reach all their devices.
pub fn user_room(up: &Up) -> String {
    format!("user:{up}")
}

/// Per-socket session, stored in the socket's extensions; cheap to clone.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user, from the token.
    pub up: Up,
    groups: Arc<RwLock<HashSet<EntityId>>>,
    counted: Arc<AtomicBool>,
}

impl Session {
    /// A session of `up`, member of `groups`.
    pub fn new(up: Up, groups: impl IntoIterator<Item = EntityId>) -> Self {
        Self {
            up,
            groups: Arc::new(RwLock::new(groups.into_iter().collect())),
            counted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether the user belongs to `group`, as far as this socket knows.
    pub fn is_member(&self, group: &EntityId) -> bool {
        self.groups
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(group)
    }

    /// `permission_denied` unless the user belongs to `group`.
    pub fn require_member(&self, group: &EntityId) -> Result<(), service_kit::ApiError> {
        if self.is_member(group) {
            Ok(())
        } else {
            Err(service_kit::ApiError::PermissionDenied(format!(
                "you are not a member of group {group}"
            )))
        }
    }

    /// Records that this socket is counted in presence.
    pub fn count(&self) {
        self.counted.store(true, Ordering::SeqCst);
    }

    /// Stops counting this socket: `true` only for the first call after
    /// [`Session::count`], so its departure is handled once.
    pub fn uncount(&self) -> bool {
        self.counted.swap(false, Ordering::SeqCst)
    }

    /// Records that the user joined `group`.
    pub fn joined(&self, group: EntityId) {
        self.groups
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(group);
    }

    /// Records that the user left `group`.
    pub fn left(&self, group: &EntityId) {
        self.groups
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(group);
    }

    /// The groups, as room names.
    pub fn rooms(&self) -> Vec<String> {
        let groups = self.groups.read().unwrap_or_else(|p| p.into_inner());
        groups.iter().map(|g| g.to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_follows_joins_and_leaves_across_clones() {
        let group = EntityId::parse("65f0c0ffee0000000000abcd").unwrap();
        let session = Session::new(Up::parse("up1").unwrap(), []);
        let clone = session.clone();
        assert!(!session.is_member(&group));
        clone.joined(group.clone());
        assert!(session.is_member(&group));
        assert_eq!(session.rooms(), vec![group.to_string()]);
        session.left(&group);
        assert!(!clone.is_member(&group));
        assert_eq!(user_room(&Up::parse("up1").unwrap()), "user:up1");
    }
}
