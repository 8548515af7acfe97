//! Three store-server processes on one database, written and read at once
//! through all of them, one killed with SIGKILL halfway: afterwards every
//! invariant of docs/architecture.md ("Several store instances") is
//! checked against what the clients saw and what MongoDB holds: numbers
//! without gaps, each taken once; readers paging with `after` never
//! skipped a message; every acked message stored once under the id its
//! sender was told; membership changed through one instance applied at
//! once through another; totals and unread counts exact through every
//! instance.
//!
//! The run is random (which instance each call goes to, which messages are
//! sent twice at once); its seed is printed, and `INSTANCES_SEED` replays
//! it.

use crate::helpers::{TOKEN, mongodb_uri, temp_dir, unique};
use futures::future::join_all;
use mongodb::bson::{Document, doc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store_server::db::Store;
use tokio::process::{Child, Command};

const INSTANCES: usize = 3;
const WRITERS: usize = 6;
const MESSAGES_PER_WRITER: usize = 60;
/// The instance killed with SIGKILL once a third of the messages are acked.
const VICTIM: usize = 2;

/// A tiny deterministic generator (xorshift64*), so a run can be replayed.
#[derive(Clone)]
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The fleet: the instances' URLs and processes, and whether each is alive.
struct Fleet {
    urls: Vec<String>,
    children: Mutex<Vec<Option<Child>>>,
    killed: AtomicBool,
    http: reqwest::Client,
}

impl Fleet {
    async fn start(database: &str) -> Arc<Self> {
        let mut urls = Vec::new();
        let mut children = Vec::new();
        for _ in 0..INSTANCES {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new(env!("CARGO_BIN_EXE_store-server"))
                .env_clear()
                .env("RUST_LOG", "warn")
                .env("STORE_ADDR", format!("127.0.0.1:{port}"))
                .env("MONGODB_URI", mongodb_uri())
                .env("MONGODB_DB", database)
                .env("STORE_API_TOKEN", TOKEN)
                .env("STORE_LOG_DIR", temp_dir("store-instances-logs"))
                .env("STORE_DRAIN_SECONDS", "0")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("cannot start the store-server binary");
            urls.push(format!("http://127.0.0.1:{port}"));
            children.push(Some(child));
        }
        let fleet = Arc::new(Self {
            urls,
            children: Mutex::new(children),
            killed: AtomicBool::new(false),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        });
        for url in &fleet.urls {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !fleet
                .http
                .get(format!("{url}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
            {
                assert!(Instant::now() < deadline, "{url} was not ready in 30 s");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        fleet
    }

    fn kill(&self, index: usize) {
        let child = self.children.lock().unwrap()[index].take();
        if let Some(mut child) = child {
            child.start_kill().expect("SIGKILL");
        }
        self.killed.store(true, Ordering::Release);
    }

    /// The instances that were not killed.
    fn live(&self) -> Vec<usize> {
        (0..INSTANCES)
            .filter(|i| !(*i == VICTIM && self.killed.load(Ordering::Acquire)))
            .collect()
    }

    async fn call(
        &self,
        instance: usize,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.urls[instance]))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// Sends a message with a nonce to `first`, and again to the next
    /// instances while the answer is not an ack (as a chat node retries).
    async fn send(&self, first: usize, body: &Value) -> Value {
        for attempt in 0..40 {
            let instance = (first + attempt) % INSTANCES;
            match self
                .call(instance, reqwest::Method::POST, "/message", Some(body))
                .await
            {
                Ok((status, message)) if status.is_success() => return message,
                Ok((status, answer)) if status.is_client_error() => {
                    panic!("{body} was refused: {status} {answer}")
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        panic!("{body} was never acked");
    }
}

/// What a reader saw, in order.
type Seen = Arc<Mutex<Vec<String>>>;

/// Pages forward with `after` through random live instances until told
/// to stop, then until a page comes back empty.
async fn read_forward(
    fleet: Arc<Fleet>,
    group: String,
    start: String,
    seen: Seen,
    stop: Arc<AtomicBool>,
    mut random: Random,
) {
    let mut cursor = start;
    loop {
        let stopping = stop.load(Ordering::Acquire);
        let live = fleet.live();
        let instance = live[random.below(live.len())];
        let path = format!("/group/messages?groupID={group}&after={cursor}&perPage=37");
        let Ok((StatusCode::OK, page)) = fleet
            .call(instance, reqwest::Method::GET, &path, None)
            .await
        else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let items = page["items"].as_array().cloned().unwrap_or_default();
        for item in &items {
            cursor = item["id"].as_str().unwrap().to_owned();
            seen.lock().unwrap().push(cursor.clone());
        }
        if items.is_empty() {
            if stopping {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[tokio::test]
async fn three_instances_keep_every_invariant_through_concurrent_writers_and_a_sigkill() {
    let seed = std::env::var("INSTANCES_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("INSTANCES_SEED={seed}");
    let database = unique("instances");
    let fleet = Fleet::start(&database).await;
    let writers: Vec<String> = (0..WRITERS).map(|i| format!("w{i}")).collect();
    let churned = "m0".to_owned();
    let mut users: Vec<&str> = writers.iter().map(String::as_str).collect();
    users.push(&churned);
    let mut groups = Vec::new();
    for name in ["g0", "g1"] {
        let body = json!({"name": name, "users": users, "admins": []});
        let (status, group) = fleet
            .call(0, reqwest::Method::POST, "/group", Some(&body))
            .await
            .unwrap();
        assert_eq!(status, StatusCode::CREATED);
        groups.push(group["id"].as_str().unwrap().to_owned());
    }
    // Every group starts with one message: the readers' first cursor.
    let mut seeds = Vec::new();
    for group in &groups {
        let body = json!({"group": group, "from": "w0", "message": "seed", "nonce": format!("seed-{group}")});
        seeds.push(
            fleet.send(0, &body).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let stop_readers = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for r in 0..2 {
            let seen: Seen = Arc::default();
            let task = tokio::spawn(read_forward(
                fleet.clone(),
                group.clone(),
                seeds[g].clone(),
                seen.clone(),
                stop_readers.clone(),
                Random(seed ^ (0x9E37 + (g * 2 + r) as u64)),
            ));
            readers.push((g, seen, task));
        }
    }

    // Writers: each message to a random instance, a quarter of them sent to
    // two instances at once; the victim dies once a third are acked.
    let acked = Arc::new(AtomicUsize::new(0));
    let total = WRITERS * MESSAGES_PER_WRITER;
    let sent_ids: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let writer_tasks = writers.iter().enumerate().map(|(w, writer)| {
        let (fleet, groups, acked, sent_ids) = (
            fleet.clone(),
            groups.clone(),
            acked.clone(),
            sent_ids.clone(),
        );
        let writer = writer.clone();
        let mut random = Random(seed ^ (w as u64 + 1).wrapping_mul(0x1234_5678_9ABC));
        async move {
            for i in 0..MESSAGES_PER_WRITER {
                let group = &groups[random.below(groups.len())];
                let nonce = format!("{writer}-{i}");
                let body =
                    json!({"group": group, "from": writer, "message": nonce, "nonce": nonce});
                let first = random.below(INSTANCES);
                let answers = if random.below(4) == 0 {
                    let second = (first + 1 + random.below(INSTANCES - 1)) % INSTANCES;
                    join_all([fleet.send(first, &body), fleet.send(second, &body)]).await
                } else {
                    vec![fleet.send(first, &body).await]
                };
                let ids: HashSet<&str> =
                    answers.iter().map(|m| m["id"].as_str().unwrap()).collect();
                assert_eq!(
                    ids.len(),
                    1,
                    "{nonce} sent twice at once got two messages: {answers:?}"
                );
                sent_ids
                    .lock()
                    .unwrap()
                    .insert(nonce, answers[0]["id"].as_str().unwrap().to_owned());
                if acked.fetch_add(1, Ordering::AcqRel) + 1 == total / 3 {
                    fleet.kill(VICTIM);
                }
            }
        }
    });

    // Meanwhile the churned member leaves and joins through one instance,
    // and at once sends through another: refused right after the leave,
    // accepted right after the join.
    let churn = {
        let (fleet, group, churned) = (fleet.clone(), groups[0].clone(), churned.clone());
        let sent_ids = sent_ids.clone();
        let mut random = Random(seed ^ 0xC0FFEE);
        async move {
            for round in 0..8 {
                // Never the victim, so that every answer here is one.
                let by = random.below(VICTIM);
                let other = (by + 1) % VICTIM;
                let leave = format!("/group/{group}/users/{churned}");
                let (status, _) = fleet
                    .call(by, reqwest::Method::DELETE, &leave, None)
                    .await
                    .unwrap();
                assert_eq!(status, StatusCode::OK);
                let refused = json!({"group": group, "from": churned, "message": "after leaving"});
                let (status, answer) = fleet
                    .call(other, reqwest::Method::POST, "/message", Some(&refused))
                    .await
                    .unwrap();
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "round {round}: sent after leaving through another instance: {answer}"
                );
                let join = json!({"up": churned});
                let (status, _) = fleet
                    .call(
                        by,
                        reqwest::Method::POST,
                        &format!("/group/{group}/users"),
                        Some(&join),
                    )
                    .await
                    .unwrap();
                assert_eq!(status, StatusCode::OK);
                let nonce = format!("{churned}-{round}");
                let accepted =
                    json!({"group": group, "from": churned, "message": nonce, "nonce": nonce});
                let (status, answer) = fleet
                    .call(other, reqwest::Method::POST, "/message", Some(&accepted))
                    .await
                    .unwrap();
                assert_eq!(
                    status,
                    StatusCode::CREATED,
                    "round {round}: sent after joining through another instance: {answer}"
                );
                sent_ids
                    .lock()
                    .unwrap()
                    .insert(nonce, answer["id"].as_str().unwrap().to_owned());
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }
    };
    let (_, ()) = tokio::join!(join_all(writer_tasks), churn);
    assert!(
        fleet.killed.load(Ordering::Acquire),
        "the victim was killed"
    );

    // A last message per group through a live instance.
    for group in &groups {
        let body = json!({"group": group, "from": "w0", "message": "closing", "nonce": format!("closing-{group}")});
        fleet.send(0, &body).await;
    }
    stop_readers.store(true, Ordering::Release);
    for (_, _, task) in &mut readers {
        task.await.unwrap();
    }

    let store = Store::connect(
        &mongodb_uri(),
        &database,
        store_server::config::parse_write_concern("majority").unwrap(),
    )
    .await
    .unwrap();
    let sent_ids = sent_ids.lock().unwrap().clone();
    let mut stored_nonces = HashSet::new();
    for (g, group) in groups.iter().enumerate() {
        let oid = mongodb::bson::oid::ObjectId::parse_str(group).unwrap();
        let docs: Vec<Document> = futures::TryStreamExt::try_collect(
            store
                .messages_raw()
                .find(doc! {"group": oid})
                .sort(doc! {"seq": 1})
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        let group_doc = store
            .groups_raw()
            .find_one(doc! {"_id": oid})
            .await
            .unwrap()
            .unwrap();
        let counted = group_doc.get_i64("messageCount").unwrap();
        // Numbers: 1, 2, 3, … with no gap, each once, all counted.
        let seqs: Vec<i64> = docs.iter().map(|d| d.get_i64("seq").unwrap()).collect();
        println!("group {g}: {} messages", docs.len());
        assert_eq!(
            seqs,
            (1..=docs.len() as i64).collect::<Vec<_>>(),
            "group {g}: every number is taken once, without a gap"
        );
        assert_eq!(counted, docs.len() as i64, "group {g}: the count is exact");
        let messages: Vec<&Document> = docs.iter().collect();
        let ordered: Vec<String> = messages
            .iter()
            .map(|d| d.get_object_id("_id").unwrap().to_hex())
            .collect();
        for message in &messages {
            let nonce = message.get_str("nonce").unwrap().to_owned();
            assert!(
                stored_nonces.insert(nonce.clone()),
                "{nonce} is stored twice"
            );
        }
        // Readers never skipped a message: each saw a prefix of the group,
        // in order, and a reader that stopped last saw all of it.
        for (_, seen, _) in readers.iter().filter(|(rg, _, _)| *rg == g) {
            let seen = seen.lock().unwrap().clone();
            let missed: Vec<&String> = ordered[1..]
                .iter()
                .filter(|id| !seen.contains(id))
                .collect();
            assert!(
                seen.as_slice() == &ordered[1..],
                "group {g}: a reader saw {} of {} messages, missed {missed:?}",
                seen.len(),
                ordered.len() - 1
            );
        }
        // Counters: the page total, and each member's unread count through
        // every live instance.
        for instance in fleet.live() {
            let path = format!("/group/messages?groupID={group}&perPage=1");
            let (_, page) = fleet
                .call(instance, reqwest::Method::GET, &path, None)
                .await
                .unwrap();
            assert_eq!(
                page["total"],
                json!(messages.len()),
                "group {g}: total through instance {instance}"
            );
            for writer in &writers {
                let last_own = messages
                    .iter()
                    .rposition(|m| m.get_str("from").unwrap() == writer)
                    .map_or(0, |at| at + 1);
                let expected = messages.len() - last_own;
                let path = format!("/group/user/{writer}");
                let (_, page) = fleet
                    .call(instance, reqwest::Method::GET, &path, None)
                    .await
                    .unwrap();
                let unread = page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|item| item["id"] == json!(group))
                    .map(|item| item["unread"].clone());
                assert_eq!(
                    unread,
                    Some(json!(expected)),
                    "group {g}: unread of {writer} through instance {instance}"
                );
            }
        }
    }
    // Every acked message is stored, once, under the id its sender was told.
    for (nonce, id) in &sent_ids {
        assert!(
            stored_nonces.contains(nonce),
            "{nonce} was acked and is not stored"
        );
        let stored = store
            .messages_raw()
            .find_one(doc! {"nonce": nonce})
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            &stored.get_object_id("_id").unwrap().to_hex(),
            id,
            "{nonce}"
        );
    }
    assert_eq!(
        stored_nonces.len(),
        sent_ids.len() + 2 * groups.len(),
        "nothing is stored beyond the messages sent (and the seeds and closings)"
    );
    store.database().drop().await.unwrap();
}
