//! The chat load generator: see `chat_tests::loadgen` and
//! `docs/benchmarks.md`. Run against a chat server that is already up (ours
//! or the Node peer), or several nodes of one (`--server a,b`);
//! `scripts/bench-chat.sh` starts both and runs every scenario.

use chat_tests::loadgen::{
    Target, attachments, broadcast, connect, drain, history, idle, persist,
    population::{Arrival, Population},
    raise_fd_limit,
};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Load generator for the chat server (or the Node peer)")]
struct Args {
    /// The chat server's address, or the addresses of several nodes,
    /// comma-separated: connection `i` goes to node `i % n` (`drain` puts
    /// every client on the first and moves them to the others).
    #[arg(
        long,
        default_value = "127.0.0.1:8080",
        value_delimiter = ',',
        required = true
    )]
    server: Vec<SocketAddr>,
    /// What the report calls the server.
    #[arg(long, default_value = "rust")]
    label: String,
    /// The series the run belongs to (`sweep`, `cluster`, `cross-node`,
    /// `one-store`, `two-stores`),
    /// written into its report: `bench_report` tables each series apart.
    #[arg(long, global = true)]
    series: Option<String>,
    /// The (first) server's process id: its memory and CPU time are read
    /// from /proc, and `drain` waits for it to exit.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The store-servers' process ids, comma-separated: `persist` and
    /// `broadcast` report the CPU time they used together while sending.
    #[arg(long, value_delimiter = ',', global = true)]
    store_pid: Vec<u32>,
    /// Loopback source addresses to spread connections over (127.0.0.2 up).
    #[arg(long, default_value_t = 4)]
    sources: u8,
    /// The server's MongoDB, where the run's rooms are seeded.
    #[arg(long, env = "MONGODB_URI", default_value = "mongodb://127.0.0.1:27017")]
    mongodb_uri: String,
    /// The server's database.
    #[arg(long, env = "MONGODB_DB", default_value = "chat")]
    mongodb_db: String,
    /// The server's JWT secret, to mint the users' tokens.
    #[arg(long, env = "CHAT_JWT_SECRET")]
    jwt_secret: String,
    /// Also append the JSON result line to this file.
    #[arg(long)]
    results: Option<PathBuf>,
    /// The order in which the users connect: spread over their rooms, or
    /// room by room.
    #[arg(long, value_enum, default_value_t = Arrival::Mixed, global = true)]
    arrival: Arrival,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Hold many connections; server memory per connection, connections lost.
    Idle {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        #[arg(long, default_value_t = 128)]
        concurrency: usize,
        /// Seconds to hold them.
        #[arg(long, default_value_t = 30)]
        hold: u64,
        #[arg(long, default_value_t = 100)]
        room_size: usize,
    },
    /// Clients in rooms sending at a total rate; delivery rate and latency.
    Broadcast {
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
        #[arg(long, default_value_t = 100)]
        room_size: usize,
        /// Messages sent per second, all clients together.
        #[arg(long, default_value_t = 1000.0)]
        rate: f64,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Seconds receivers keep reading after the last send.
        #[arg(long, default_value_t = 3)]
        drain: u64,
        #[arg(long, default_value_t = 128)]
        concurrency: usize,
    },
    /// Closed-loop sends; stored (acked) messages per second.
    Persist {
        #[arg(long, default_value_t = 256)]
        clients: usize,
        #[arg(long, default_value_t = 1)]
        in_flight: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 1)]
        room_size: usize,
    },
    /// Authenticated connections opened per second.
    Connect {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        #[arg(long, default_value_t = 128)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        room_size: usize,
        /// Connections opened and closed first, not measured: a freshly
        /// started server and database are measured warm.
        #[arg(long, default_value_t = 2_000)]
        warmup: usize,
    },
    /// Clients on the first node follow its drain to the others; how long
    /// the move takes and how many make it.
    Drain {
        #[arg(long, default_value_t = 5_000)]
        connections: usize,
        #[arg(long, default_value_t = 128)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        room_size: usize,
        /// The drained node's `POST /admin/drain` token.
        #[arg(long, env = "CHAT_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: String,
        /// Seconds after the drain request the clients may take to move and
        /// the node to exit.
        #[arg(long, default_value_t = 60)]
        deadline: u64,
        /// The drained node's `CHAT_DRAIN_SECONDS`, for the report only.
        #[arg(long, env = "CHAT_DRAIN_SECONDS")]
        spread: Option<f64>,
    },
    /// Page latency at depth in a group of many messages, over REST.
    History {
        #[arg(long, default_value_t = 1_000_000)]
        messages: i64,
        #[arg(long, default_value_t = 1000)]
        samples: usize,
        /// Seconds allowed per position.
        #[arg(long, default_value_t = 20)]
        budget: u64,
    },
    /// Upload a file per client at once through the gateway, then download
    /// them all at once; throughput and the servers' memory.
    Attachments {
        #[arg(long, default_value_t = 50)]
        clients: usize,
        /// Size of each client's file, in MiB.
        #[arg(long, default_value_t = 10)]
        file_mib: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let limit = raise_fd_limit();
    let target = Target {
        servers: args.server.clone(),
        sources: Target::loopback_sources(args.sources),
        label: args.label.clone(),
        server_pid: args.server_pid,
        store_pids: args.store_pid.clone(),
    };
    let db = mongodb::Client::with_uri_str(&args.mongodb_uri)
        .await?
        .database(&args.mongodb_db);
    let seed = |name: &'static str, clients: usize, room_size: usize| {
        let (db, secret) = (db.clone(), args.jwt_secret.clone());
        let arrival = args.arrival;
        async move { Population::seed(&db, &secret, name, clients, room_size, arrival).await }
    };
    let check_fds = |connections: usize| {
        if connections as u64 + 64 > limit {
            anyhow::bail!(
                "{connections} connections need more than this process's {limit} file descriptors"
            );
        }
        Ok(())
    };
    let servers: Vec<String> = args.server.iter().map(ToString::to_string).collect();
    eprintln!(
        "{} against {} ({})",
        scenario_name(&args.scenario),
        servers.join(", "),
        args.label
    );
    let mut report = match args.scenario {
        Scenario::Idle {
            connections,
            concurrency,
            hold,
            room_size,
        } => {
            check_fds(connections)?;
            let population = seed("idle", connections, room_size).await?;
            let knobs = idle::IdleRun {
                connections,
                concurrency,
                hold: Duration::from_secs(hold),
            };
            idle::run(&target, &population, &knobs).await
        }
        Scenario::Broadcast {
            clients,
            room_size,
            rate,
            seconds,
            drain,
            concurrency,
        } => {
            check_fds(clients)?;
            anyhow::ensure!(room_size >= 2, "a broadcast needs rooms of at least 2");
            let population = seed("bcast", clients, room_size).await?;
            let knobs = broadcast::BroadcastRun {
                clients,
                concurrency,
                rate,
                duration: Duration::from_secs(seconds),
                drain: Duration::from_secs(drain),
            };
            broadcast::run(&target, &population, &knobs).await
        }
        Scenario::Persist {
            clients,
            in_flight,
            seconds,
            room_size,
        } => {
            check_fds(clients)?;
            anyhow::ensure!(room_size >= 1, "senders need a room");
            let population = seed("persist", clients, room_size).await?;
            let knobs = persist::PersistRun {
                clients,
                in_flight,
                duration: Duration::from_secs(seconds),
            };
            persist::run(&target, &population, &knobs).await
        }
        Scenario::Connect {
            connections,
            concurrency,
            room_size,
            warmup,
        } => {
            check_fds(connections)?;
            let population = seed("connect", connections, room_size).await?;
            let knobs = connect::ConnectRun {
                connections,
                concurrency,
                warmup: warmup.min(connections),
            };
            connect::run(&target, &population, &knobs).await
        }
        Scenario::Drain {
            connections,
            concurrency,
            room_size,
            admin_token,
            deadline,
            spread,
        } => {
            check_fds(connections)?;
            let population = seed("drain", connections, room_size).await?;
            let knobs = drain::DrainRun {
                connections,
                concurrency,
                admin_token,
                deadline: Duration::from_secs(deadline),
                spread,
            };
            drain::run(&target, &population, &knobs).await?
        }
        Scenario::History {
            messages,
            samples,
            budget,
        } => {
            let knobs = history::HistoryRun {
                messages,
                samples,
                budget: Duration::from_secs(budget),
            };
            history::run(&target, &db, &args.jwt_secret, &knobs).await?
        }
        Scenario::Attachments { clients, file_mib } => {
            let population = seed("attachments", clients, clients).await?;
            let knobs = attachments::AttachmentsRun {
                clients,
                file_bytes: file_mib << 20,
            };
            attachments::run(&target, &population, &knobs).await?
        }
    };
    if let Some(arrival) = args.arrival.to_possible_value() {
        report.add("arrival", arrival.get_name());
    }
    if let Some(series) = &args.series {
        report.add("series", series.as_str());
    }
    report.print(args.results.as_deref())
}

fn scenario_name(scenario: &Scenario) -> &'static str {
    match scenario {
        Scenario::Idle { .. } => "idle",
        Scenario::Broadcast { .. } => "broadcast",
        Scenario::Persist { .. } => "persist",
        Scenario::Connect { .. } => "connect",
        Scenario::Drain { .. } => "drain",
        Scenario::History { .. } => "history",
        Scenario::Attachments { .. } => "attachments",
    }
}
