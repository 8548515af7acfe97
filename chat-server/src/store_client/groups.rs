//! Store calls about groups: reading them, membership, history, read
//! markers and who of a group is online.

use super::StoreClient;
use chat_wire::cluster::{GroupIds, GroupIdsOfUsers, GroupIdsRequest, GroupPresence};
use chat_wire::ids::{EntityId, Up};
use chat_wire::model::{Group, Message};
use chat_wire::paging::{Page, PageRequest};
use chat_wire::requests::{DirectGroupRequest, FindMatch, JoinGroup, MarkRead, ReadState};
use reqwest::Method;
use service_kit::ApiError;

/// Page size used when walking a whole list.
const WALK_PAGE: u32 = 100;

impl StoreClient {
    /// One group.
    pub async fn group(&self, id: &EntityId) -> Result<Group, ApiError> {
        self.call("group", self.request(Method::GET, &["group", id.as_str()]))
            .await
    }

    /// A group and its members online on a live chat node.
    pub async fn group_presence(&self, id: &EntityId) -> Result<GroupPresence, ApiError> {
        let path = ["group", id.as_str(), "presence"];
        self.call("group_presence", self.request(Method::GET, &path))
            .await
    }

    /// Every group of `up` (all pages).
    pub async fn groups_of_user(&self, up: &Up) -> Result<Vec<Group>, ApiError> {
        let mut groups = Vec::new();
        for page in 0.. {
            let request = self
                .request(Method::GET, &["group", "user", up.as_str()])
                .query(&[("page", page), ("perPage", WALK_PAGE)]);
            let batch: Page<Group> = self.call("groups_of_user", request).await?;
            groups.extend(batch.items);
            if !batch.has_more {
                break;
            }
        }
        Ok(groups)
    }

    /// The ids of every group of `up`: what a connecting socket joins.
    pub async fn group_ids_of_user(&self, up: &Up) -> Result<Vec<EntityId>, ApiError> {
        let path = ["group", "user", up.as_str(), "ids"];
        let answer: GroupIds = self
            .call("group_ids_of_user", self.request(Method::GET, &path))
            .await?;
        Ok(answer.ids)
    }

    /// The ids of every group of each of `ups` (one entry per listed user,
    /// in the order listed): what the connecting sockets of `ups` join.
    pub async fn group_ids_of_users(&self, ups: Vec<Up>) -> Result<GroupIdsOfUsers, ApiError> {
        let body = GroupIdsRequest { ups };
        self.call_read(
            "group_ids_of_users",
            self.request(Method::POST, &["group", "ids"]).json(&body),
        )
        .await
    }

    /// Adds `up` to a group if it is open or `up` is a member already
    /// (`permission_denied` otherwise), in one atomic step.
    pub async fn join_open_group(&self, id: &EntityId, up: &Up) -> Result<Group, ApiError> {
        let body = JoinGroup {
            up: up.clone(),
            only_if_open: true,
        };
        let request = self
            .request(Method::POST, &["group", id.as_str(), "users"])
            .json(&body);
        self.call("join_group", request).await
    }

    /// Removes `up` from a group.
    pub async fn leave_group(&self, id: &EntityId, up: &Up) -> Result<Group, ApiError> {
        let path = ["group", id.as_str(), "users", up.as_str()];
        self.call("leave_group", self.request(Method::DELETE, &path))
            .await
    }

    /// A page of a group's messages.
    pub async fn group_messages(
        &self,
        id: &EntityId,
        paging: &PageRequest,
    ) -> Result<Page<Message>, ApiError> {
        let request = self
            .request(Method::GET, &["group", "messages"])
            .query(&[("groupID", id.as_str())])
            .query(&paging.to_query());
        self.signed(self.call("group_messages", request).await)
    }

    /// The direct group of two users, created on first use.
    pub async fn direct_group(&self, a: &Up, b: &Up) -> Result<Group, ApiError> {
        let request = self
            .request(Method::POST, &["group", "direct"])
            .json(&DirectGroupRequest {
                users: vec![a.clone(), b.clone()],
            });
        self.call("direct_group", request).await
    }

    /// Moves the read marker of `up` in `group` to `message`.
    pub async fn mark_read(
        &self,
        group: &EntityId,
        up: &Up,
        message: &EntityId,
    ) -> Result<ReadState, ApiError> {
        let body = MarkRead {
            up: up.clone(),
            message_id: message.clone(),
        };
        let request = self
            .request(Method::POST, &["group", group.as_str(), "read"])
            .json(&body);
        self.call("mark_read", request).await
    }

    /// Messages of a group edited, deleted or reacted to after `since`.
    pub async fn changes(
        &self,
        group: &EntityId,
        since: &str,
        paging: &PageRequest,
    ) -> Result<Page<Message>, ApiError> {
        let request = self
            .request(Method::GET, &["group", group.as_str(), "changes"])
            .query(&[("since", since)])
            .query(&paging.to_query());
        self.signed(self.call("changes", request).await)
    }

    /// A place for `up` in a `match` group of `topic` with space, or a new one.
    pub async fn find_match(&self, up: &Up, topic: &str, capacity: u32) -> Result<Group, ApiError> {
        let body = FindMatch {
            up: up.clone(),
            topic: topic.to_owned(),
            capacity,
        };
        let request = self.request(Method::POST, &["group", "match"]).json(&body);
        self.call("find_match", request).await
    }
}
