//! Which chat node a user should connect to: a stable hash of the `up` over
//! `CHAT_NODES`, or this node's public URL when no list is configured (the
//! seed's "pre-assign a server to a client").

use chat_wire::ids::Up;

/// Picks a node per user.
#[derive(Debug, Clone)]
pub struct NodeLocator {
    nodes: Vec<String>,
    own_url: String,
}

impl NodeLocator {
    /// A locator over `nodes`, falling back to `own_url`.
    pub fn new(nodes: Vec<String>, own_url: String) -> Self {
        Self { nodes, own_url }
    }

    /// The node of `up`; the same on every node and across restarts.
    pub fn node_for(&self, up: &Up) -> &str {
        if self.nodes.is_empty() {
            return &self.own_url;
        }
        let index = fnv1a(up.as_str().as_bytes()) % self.nodes.len() as u64;
        &self.nodes[index as usize]
    }
}

/// 64-bit FNV-1a: tiny, stable and well spread for short keys.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_nodes_everyone_goes_to_this_node() {
        let locator = NodeLocator::new(Vec::new(), "http://localhost:8080".into());
        assert_eq!(
            locator.node_for(&Up::parse("up1").unwrap()),
            "http://localhost:8080"
        );
    }

    #[test]
    fn users_are_spread_over_the_nodes_stably() {
        let nodes: Vec<String> = (0..4).map(|i| format!("http://chat{i}:8080")).collect();
        let locator = NodeLocator::new(nodes.clone(), "unused".into());
        let mut used = std::collections::HashSet::new();
        for i in 0..200 {
            let up = Up::parse(format!("up{i}")).unwrap();
            let node = locator.node_for(&up).to_owned();
            assert_eq!(locator.node_for(&up), node, "stable for the same user");
            used.insert(node);
        }
        assert_eq!(used.len(), 4, "every node gets users");
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
