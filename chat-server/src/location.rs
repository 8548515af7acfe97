//! Which chat node a user should connect to (the dispatcher): rendezvous
//! (highest random weight) hashing of the user's `up` over the live,
//! non-draining nodes of the registry; without any, over `CHAT_NODES`;
//! without those either, this node.
//!
//! Every node computes the same answer from the same list, a user's devices
//! meet on one node, and a node joining or leaving moves only the users it
//! gains or loses (modulo hashing would move almost everyone).

use chat_wire::cluster::Node;
use chat_wire::ids::Up;
use xxhash_rust::xxh3::Xxh3;

/// Picks a node per user.
#[derive(Debug, Clone)]
pub struct NodeLocator {
    configured: Vec<String>,
    own_url: String,
}

impl NodeLocator {
    /// A locator falling back on `configured` (`CHAT_NODES`), then on
    /// `own_url` (`CHAT_PUBLIC_URL`).
    pub fn new(configured: Vec<String>, own_url: String) -> Self {
        Self {
            configured,
            own_url,
        }
    }

    /// This node's public URL.
    pub fn own_url(&self) -> &str {
        &self.own_url
    }

    /// The configured public URLs of every node (`CHAT_NODES`).
    pub fn configured(&self) -> &[String] {
        &self.configured
    }

    /// The node of `up` among the `live` nodes of the registry.
    pub fn node_for<'a>(&'a self, up: &Up, live: &'a [Node]) -> &'a str {
        let serving = live.iter().filter(|node| !node.draining);
        highest_weight(serving.map(|node| node.url.as_str()), up)
            .or_else(|| highest_weight(self.configured.iter().map(String::as_str), up))
            .unwrap_or(&self.own_url)
    }
}

/// The candidate with the highest weight for `up`; ties go to the smaller URL.
fn highest_weight<'a>(candidates: impl Iterator<Item = &'a str>, up: &Up) -> Option<&'a str> {
    candidates.max_by(|a, b| weight(a, up).cmp(&weight(b, up)).then(b.cmp(a)))
}

/// The weight of `node` for `up`: a stable 64-bit hash of the pair (XXH3,
/// the same on every node and every build; a zero byte separates the two,
/// which neither contains).
fn weight(node: &str, up: &Up) -> u64 {
    let mut hash = Xxh3::new();
    hash.update(node.as_bytes());
    hash.update(&[0]);
    hash.update(up.as_str().as_bytes());
    hash.digest()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn node(url: &str, draining: bool) -> Node {
        Node {
            id: chat_wire::cluster::NodeId::parse(url.replace(['/', ':'], "")).unwrap(),
            url: url.into(),
            draining,
            connections: 0,
            seen_at: chrono::Utc::now(),
        }
    }

    fn users() -> Vec<Up> {
        (0..2000)
            .map(|i| Up::parse(format!("up{i}")).unwrap())
            .collect()
    }

    #[test]
    fn without_nodes_everyone_goes_to_this_node() {
        let locator = NodeLocator::new(Vec::new(), "http://localhost:8080".into());
        assert_eq!(
            locator.node_for(&Up::parse("up1").unwrap(), &[]),
            "http://localhost:8080"
        );
    }

    #[test]
    fn users_spread_evenly_and_a_node_leaving_moves_only_its_users() {
        let locator = NodeLocator::new(Vec::new(), "unused".into());
        let three: Vec<Node> = (0..3)
            .map(|i| node(&format!("http://c{i}"), false))
            .collect();
        let before: HashMap<Up, String> = users()
            .into_iter()
            .map(|up| {
                let url = locator.node_for(&up, &three).to_owned();
                (up, url)
            })
            .collect();
        for n in &three {
            let share = before.values().filter(|url| **url == n.url).count();
            assert!(
                (500..=830).contains(&share),
                "{} got {share} of 2000",
                n.url
            );
        }
        let two = &three[..2];
        for (up, url) in &before {
            let after = locator.node_for(up, two);
            if url != "http://c2" {
                assert_eq!(after, url, "{up} did not need to move");
            } else {
                assert_ne!(after, "http://c2");
            }
        }
    }

    #[test]
    fn draining_nodes_are_skipped_and_the_configured_list_is_the_fallback() {
        let up = Up::parse("up7").unwrap();
        let configured = vec!["http://a".to_owned(), "http://b".to_owned()];
        let locator = NodeLocator::new(configured.clone(), "http://self".into());
        let only_draining = [node("http://d", true)];
        let fallback = locator.node_for(&up, &only_draining);
        assert!(configured.iter().any(|url| url == fallback), "{fallback}");
        let live = [node("http://d", true), node("http://e", false)];
        assert_eq!(locator.node_for(&up, &live), "http://e");
    }

    #[test]
    fn the_weight_is_stable_across_builds() {
        // XXH3's published value for "a": every node computes the same.
        assert_eq!(xxhash_rust::xxh3::xxh3_64(b"a"), 0xe6c6_32b6_1e96_4e1f);
        assert_eq!(
            weight("http://a", &Up::parse("up1").unwrap()),
            0xcf6e_f40b_4e84_8fcf
        );
        assert_eq!(
            weight("http://a", &Up::parse("up1").unwrap()),
            weight("http://a", &Up::parse("up1").unwrap())
        );
    }
}
