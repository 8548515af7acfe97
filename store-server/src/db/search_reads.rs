//! How much one search call reads, and the ObjectId arithmetic of reading
//! the index by time (docs/architecture.md, "Search").
//!
//! A call reads, below its cursor, the newest entries of each word of the
//! query, at most [`READ_LIMIT`] per word and read; a word with more
//! narrows the read to what was taken of it. A call makes at most
//! [`MAX_READS`] such reads, then answers what it found with a cursor to
//! go on from. An open range (no lower bound) is what costs least on both
//! servers: MongoDB walks each group's branch of the index from the newest
//! entry and stops at the limit; the MongoDB-wire server used in
//! development walks a word's whole range of the index for any range of
//! `_id` (a bounded window costs it as much as an open one), so fewer reads
//! is what makes it faster.

use mongodb::bson::oid::ObjectId;

/// The most entries one word's read takes.
pub const READ_LIMIT: i64 = 1024;
/// The most reads (of every word) one call makes.
pub const MAX_READS: usize = 4;

/// A stretch of ids: `lower <= _id < upper`, a missing bound is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive; `None` reads to the oldest message.
    pub lower: Option<ObjectId>,
    /// Exclusive; `None` reads to the newest message.
    pub upper: Option<ObjectId>,
}

/// The second an ObjectId was made in.
pub fn seconds(id: ObjectId) -> u64 {
    u64::from(u32::from_be_bytes(
        id.bytes()[..4].try_into().expect("4 bytes"),
    ))
}

/// The smallest ObjectId of second `second`.
pub fn at_second(second: u64) -> ObjectId {
    let mut bytes = [0u8; 12];
    let second = u32::try_from(second).unwrap_or(u32::MAX);
    bytes[..4].copy_from_slice(&second.to_be_bytes());
    ObjectId::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_seconds_convert_both_ways() {
        let id = ObjectId::new();
        assert!(at_second(seconds(id)) <= id);
        assert!(at_second(seconds(id) + 1) > id);
    }
}
