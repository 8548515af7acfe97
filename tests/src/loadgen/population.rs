//! The users of a run, the groups (rooms) they are in, and their tokens.
//!
//! Groups are written straight into MongoDB in the store's document shape,
//! so the same population works for our stack (the store reads them) and for
//! the Node peer (which reads the same shape from its own database). User
//! names carry a run id: runs never share users or groups.

use chat_server::jwt::JwtKeys;
use chat_wire::ids::Up;
use chat_wire::model::GroupKind;
use mongodb::Database;
use mongodb::bson::oid::ObjectId;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store_server::db::documents::{GroupDoc, collections};

/// How long minted tokens stay valid: longer than any run.
const TOKEN_TTL: Duration = Duration::from_secs(6 * 3600);

/// Users, their rooms and tokens.
pub struct Population {
    /// User `i`'s id.
    pub users: Vec<Up>,
    /// User `i`'s JWT.
    pub tokens: Vec<String>,
    /// The rooms; user `i` is in `rooms[i / room_size]` (none when 0).
    pub rooms: Vec<ObjectId>,
    /// Members per room.
    pub room_size: usize,
    /// The order in which the users connect.
    pub arrival: Arrival,
}

/// The order in which a ramp connects the users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Arrival {
    /// Spread over the rooms: one member of each room in turn, as the users
    /// of many groups do when they come online in the morning.
    #[default]
    Mixed,
    /// Room by room: every member of a room, then the next room's. Each
    /// room fills within a moment, so a member's socket hears of most of
    /// the room at once.
    ByRoom,
}

impl Population {
    /// Seeds `clients` users in rooms of `room_size` (0: no rooms) and mints
    /// their tokens with `jwt_secret`; they connect in `arrival` order.
    pub async fn seed(
        db: &Database,
        jwt_secret: &str,
        scenario: &str,
        clients: usize,
        room_size: usize,
        arrival: Arrival,
    ) -> anyhow::Result<Self> {
        let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() % 100_000_000;
        let users: Vec<Up> = (0..clients)
            .map(|i| Up::parse(format!("lg{scenario}{run}x{i}")))
            .collect::<Result<_, _>>()?;
        let keys = JwtKeys::new(jwt_secret);
        let tokens = users
            .iter()
            .map(|up| keys.mint(up, TOKEN_TTL))
            .collect::<Result<_, _>>()?;
        let rooms = if room_size == 0 {
            Vec::new()
        } else {
            insert_rooms(db, &users, room_size, &format!("{scenario}{run}")).await?
        };
        Ok(Self {
            users,
            tokens,
            rooms,
            room_size,
            arrival,
        })
    }

    /// The indexes of the first `count` users in the order they connect.
    pub fn arrivals(&self, count: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..count).collect();
        if self.arrival == Arrival::Mixed && self.room_size > 1 {
            // One member of each room in turn: by place in the room first.
            order.sort_by_key(|&index| (index % self.room_size, index / self.room_size));
        }
        order
    }

    /// The room of user `index`, if any.
    pub fn room_of(&self, index: usize) -> Option<ObjectId> {
        (self.room_size > 0).then(|| self.rooms[index / self.room_size])
    }
}

async fn insert_rooms(
    db: &Database,
    users: &[Up],
    room_size: usize,
    run: &str,
) -> anyhow::Result<Vec<ObjectId>> {
    let docs: Vec<GroupDoc> = users
        .chunks(room_size)
        .enumerate()
        .map(|(n, members)| {
            GroupDoc::new(
                format!("loadgen {run} room {n}"),
                GroupKind::Group,
                members.to_vec(),
            )
        })
        .collect();
    let ids = docs.iter().map(|doc| doc.id).collect();
    let groups = db.collection::<GroupDoc>(collections::GROUPS);
    for batch in docs.chunks(1000) {
        groups.insert_many(batch).await?;
    }
    Ok(ids)
}
