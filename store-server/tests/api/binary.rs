//! The real `store-server` binary: its log files, graceful shutdown on
//! SIGTERM, and refusing to start without its token. (Tests that build the
//! `Application` in-process do not install the global log subscriber, so the
//! log files can only be checked here.)

use crate::helpers::{TOKEN, mongodb_uri, temp_dir, unique};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

const USER_AGENT: &str = "store-api-tests/1.0";

/// A running store-server process.
struct Process {
    child: Child,
    address: String,
    log_dir: PathBuf,
    client: reqwest::Client,
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn store_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_store-server"));
    command
        .env_clear()
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn start(mongodb: &str) -> Process {
    let port = free_port();
    let log_dir = temp_dir("store-bin-logs");
    let child = store_command()
        .env("STORE_ADDR", format!("127.0.0.1:{port}"))
        .env("MONGODB_URI", mongodb)
        .env("MONGODB_DB", unique("test"))
        .env("STORE_API_TOKEN", TOKEN)
        .env("STORE_LOG_DIR", &log_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start the store-server binary");
    let client = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Process {
        child,
        address: format!("http://127.0.0.1:{port}"),
        log_dir,
        client,
    }
}

impl Process {
    /// Waits until `path` answers 200, failing if the process exits first.
    async fn wait_for(&mut self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("store-server exited early with {status}");
            }
            let ok = self
                .client
                .get(format!("{}{path}", self.address))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "{path} never answered 200");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn get(&self, path: &str, token: bool) -> u16 {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if token {
            request = request.bearer_auth(TOKEN);
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// Sends SIGTERM and asserts a clean exit.
    async fn stop(mut self) -> PathBuf {
        let pid = self.child.id().expect("the process is running").to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("cannot run kill");
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("store-server did not stop within 15 s of SIGTERM")
            .unwrap();
        assert!(status.success(), "graceful shutdown exits 0, got {status}");
        self.log_dir
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
}

/// Asserts `level: message {"service":...,"timestamp":...}` on every line.
fn assert_formatted_lines(name: &str, text: &str) {
    for line in text.lines() {
        let level = line.split(": ").next().unwrap();
        assert!(
            ["error", "warning", "info"].contains(&level),
            "{name}: bad level in `{line}`"
        );
        // The JSON object is the first ` {...}` that runs to the end of the line.
        let meta: Value = line
            .match_indices(" {")
            .find_map(|(at, _)| serde_json::from_str(&line[at + 1..]).ok())
            .unwrap_or_else(|| panic!("{name}: no JSON object ends `{line}`"));
        assert!(
            meta["service"].is_string(),
            "{name}: no service in `{line}`"
        );
        let timestamp = meta["timestamp"].as_str().unwrap_or_default();
        assert!(
            chat_wire::time::parse(timestamp).is_ok(),
            "{name}: bad timestamp in `{line}`"
        );
    }
}

fn assert_token_absent(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(TOKEN),
            "the token leaked into {}",
            path.display()
        );
    }
}

#[tokio::test]
async fn the_binary_writes_the_three_log_files_and_never_the_token() {
    let mut store = start(&mongodb_uri()).await;
    store.wait_for("/readyz").await;
    assert_eq!(store.get("/group", true).await, 200);
    assert_eq!(store.get("/group/nothex", true).await, 400);
    assert_eq!(store.get("/group", false).await, 401);
    assert_eq!(
        store.get(&format!("/healthz?token={TOKEN}"), false).await,
        200
    );
    let dir = store.stop().await;

    let requests = read(&dir, "requests.log");
    let line = |needle: &str| {
        requests
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in requests.log:\n{requests}"))
            .to_owned()
    };
    let ok = line("\"GET /group HTTP/1.1\" 200 ");
    assert!(ok.starts_with("127.0.0.1 - - ["), "{ok}");
    // The combined format, then the request's id (a new UUID here).
    let (combined_part, id) = ok.rsplit_once(' ').expect("a field after the user agent");
    assert!(
        combined_part.ends_with(&format!("\"-\" \"{USER_AGENT}\"")),
        "{ok}"
    );
    let id = id.trim_matches('"');
    assert!(uuid_like(id), "the request id ends the line: {ok}");
    line("\"GET /group/nothex HTTP/1.1\" 400 ");
    line("\"GET /group HTTP/1.1\" 401 ");
    line("\"GET /healthz?token=REDACTED HTTP/1.1\" 200 ");

    let combined = read(&dir, "combined.log");
    assert_formatted_lines("combined.log", &combined);
    assert!(
        combined
            .lines()
            .any(|l| l.starts_with("info: store-server listening on port")),
        "{combined}"
    );
    assert!(
        combined
            .lines()
            .any(|l| l.starts_with("info: store-server stopped")),
        "{combined}"
    );
    assert!(
        !combined.contains("GET /group"),
        "request lines stay in requests.log"
    );
    let errors = read(&dir, "error.log");
    assert_formatted_lines("error.log", &errors);
    assert!(errors.lines().all(|l| l.starts_with("error: ")), "{errors}");
    assert_token_absent(&dir);
}

#[tokio::test]
async fn a_server_error_is_logged_with_its_cause_in_error_log() {
    let mut store = start("mongodb://127.0.0.1:1").await;
    store.wait_for("/healthz").await;
    assert_eq!(store.get("/group", true).await, 503);
    let dir = store.stop().await;

    let errors = read(&dir, "error.log");
    assert_formatted_lines("error.log", &errors);
    let line = errors
        .lines()
        .find(|l| l.starts_with("error: dependency unavailable"))
        .unwrap_or_else(|| panic!("no unavailable error in error.log:\n{errors}"));
    assert!(line.contains("\"service\":\"store\""), "{line}");
    assert!(
        line.to_lowercase().contains("mongodb"),
        "the cause is logged: {line}"
    );
    let combined = read(&dir, "combined.log");
    assert!(
        combined.contains("error: dependency unavailable"),
        "errors are in combined.log too"
    );
    let requests = read(&dir, "requests.log");
    assert!(
        requests.contains("\"GET /group HTTP/1.1\" 503 "),
        "{requests}"
    );
    assert_token_absent(&dir);
}

#[tokio::test]
async fn the_binary_refuses_to_start_without_its_token() {
    let log_dir = temp_dir("store-bin-logs");
    let output = store_command()
        .env("STORE_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("MONGODB_URI", "mongodb://127.0.0.1:1")
        .env("STORE_LOG_DIR", &log_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    let output = tokio::time::timeout(Duration::from_secs(15), output)
        .await
        .expect("the binary did not exit")
        .unwrap();
    assert!(!output.status.success(), "exit status {}", output.status);
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stderr:?}");
    assert!(lines[0].contains("STORE_API_TOKEN"), "{stderr:?}");
}

/// Whether `id` reads as a UUID (8-4-4-4-12 hex digits).
fn uuid_like(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}
