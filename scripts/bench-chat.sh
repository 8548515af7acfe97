#!/usr/bin/env bash
#
# Side-by-side benchmarks of the chat-server and the Node peer
# (tests/bench/node-peer), as reported in docs/benchmarks.md:
#
#     scripts/bench-chat.sh                      # every scenario, both servers
#     scripts/bench-chat.sh broadcast persist    # some scenarios
#
# Builds the release binaries, starts a MongoDB-wire server (data kept in
# .data/mongo-bench, so the million-message groups are seeded once), the
# store-server and chat-server (release) and the Node peer on free ports,
# runs each scenario against both servers with the load generator, prints the
# side-by-side table with ratios and draws docs/bench/broadcast-latency.png.
# Results of the run: .data/bench/results.jsonl. Tunables (defaults):
# BENCH_IDLE_CONNECTIONS (50000, or what the open-file limit allows),
# BENCH_CLIENTS (10000), BENCH_ROOM_SIZE (100), BENCH_RATES ("250 500 1000
# 1100": broadcast sends per second, one run each), BENCH_SECONDS (20),
# BENCH_CONNECTIONS (10000), BENCH_PERSIST_CLIENTS (256), BENCH_MESSAGES
# (1000000), BENCH_SERVERS ("rust node").
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
install_cleanup_trap

scenarios=("${@:-idle connect broadcast persist history}")
read -r -a scenarios <<<"${scenarios[*]}"
read -r -a servers <<<"${BENCH_SERVERS:-rust node}"
read -r -a rates <<<"${BENCH_RATES:-250 500 1000 1100}"

# Every connection is a file descriptor, in the server and in the load
# generator alike: take the whole hard limit.
ulimit -n "$(ulimit -Hn)"
fd_limit=$(ulimit -n)
idle_default=$(( fd_limit > 51000 ? 50000 : fd_limit - 1000 ))
idle_connections=${BENCH_IDLE_CONNECTIONS:-$idle_default}

banner "Building release binaries"
cargo build --release --bin store-server --bin chat-server --bin loadgen --bin bench_report
ensure_node_deps "$ROOT/tests/bench/node-peer"

ensure_mongo_uri --name mongo-bench
bench_dir="$DATA_DIR/bench"
mkdir -p "$bench_dir"
results="$bench_dir/results.jsonl"
: >"$results"
random_hex() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
export CHAT_JWT_SECRET STORE_API_TOKEN
CHAT_JWT_SECRET=$(random_hex)
STORE_API_TOKEN=$(random_hex)

wait_ready() { # URL NAME
    for _ in $(seq 1 150); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" == 200 ]] && return 0
        sleep 0.2
    done
    die "$2 did not become ready at $1"
}

# Every scenario but `history` writes into a database dropped when the run
# starts: the users, rooms and messages of earlier runs would otherwise make
# each run's lookups and inserts a little slower than the last one's.
# `history` keeps its million-message groups (`bench`, `node_peer`), seeded
# once.
run_database() { # SERVER SCENARIO
    local base
    base=$([[ $1 == rust ]] && echo bench || echo node_peer)
    if [[ $2 == history ]]; then echo "$base"; else echo "${base}_run"; fi
}
drop_run_databases() {
    (cd tests/bench/node-peer && node -e '
        const { MongoClient } = require("mongodb");
        const client = new MongoClient(process.env.MONGODB_URI);
        (async () => {
            for (const name of process.argv.slice(1)) await client.db(name).dropDatabase();
            await client.close();
        })().catch((err) => { console.error(err.message); process.exit(1); });
    ' "$(run_database rust run)" "$(run_database node run)")
}

# start_rust DATABASE: a release store-server and chat-server on free ports.
# The per-user message rate is lifted: `persist` sends as fast as acks come
# back.
start_rust() {
    local store_port chat_port
    store_port=$(free_port)
    STORE_ADDR="127.0.0.1:$store_port" STORE_LOG_DIR="$bench_dir/logs/store" \
        MONGODB_DB="$1" RUST_LOG=warn \
        "${DETACH[@]}" target/release/store-server >"$bench_dir/store.out" 2>&1 </dev/null &
    store_pid=$!
    register_cleanup_pid "$store_pid" "store-server (bench)"
    wait_ready "http://127.0.0.1:$store_port/readyz" store-server
    chat_port=$(free_port)
    CHAT_ADDR="127.0.0.1:$chat_port" CHAT_LOG_DIR="$bench_dir/logs/chat" \
        STORE_URL="http://127.0.0.1:$store_port" MONGODB_DB="$1" RUST_LOG=warn \
        CHAT_MSG_RATE=1000000 CHAT_MSG_BURST=1000000 \
        "${DETACH[@]}" target/release/chat-server >"$bench_dir/chat.out" 2>&1 </dev/null &
    server_pid=$!
    register_cleanup_pid "$server_pid" "chat-server (bench)"
    server_addr="127.0.0.1:$chat_port"
    server_db=$1
    wait_ready "http://$server_addr/readyz" chat-server
}

stop_rust() {
    stop_pid "$server_pid" "chat-server (bench)"
    stop_pid "$store_pid" "store-server (bench)"
}

# start_node DATABASE: the Node peer on a free port.
start_node() {
    local port
    port=$(free_port)
    CHAT_ADDR="127.0.0.1:$port" MONGODB_DB="$1" \
        "${DETACH[@]}" node tests/bench/node-peer/server.js >"$bench_dir/node.out" 2>&1 </dev/null &
    server_pid=$!
    register_cleanup_pid "$server_pid" "node peer (bench)"
    server_addr="127.0.0.1:$port"
    server_db=$1
    wait_ready "http://$server_addr/healthz" "node peer"
}

stop_node() { stop_pid "$server_pid" "node peer (bench)"; }

# loadgen SERVER SCENARIO ARGS...: one run against the server started last.
loadgen() {
    local label=$1
    shift
    target/release/loadgen --server "$server_addr" --label "$label" --server-pid "$server_pid" \
        --mongodb-db "$server_db" --results "$results" "$@"
}

drop_run_databases
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), open files $fd_limit"
for scenario in "${scenarios[@]}"; do
    for server in "${servers[@]}"; do
        # Each scenario gets fresh servers: memory and caches start equal.
        "start_$server" "$(run_database "$server" "$scenario")"
        banner "$scenario against $server ($server_addr)"
        case "$scenario" in
            idle) loadgen "$server" idle --connections "$idle_connections" --hold 30 ;;
            connect) loadgen "$server" connect --connections "${BENCH_CONNECTIONS:-10000}" ;;
            broadcast)
                for rate in "${rates[@]}"; do
                    loadgen "$server" broadcast --clients "${BENCH_CLIENTS:-10000}" \
                        --room-size "${BENCH_ROOM_SIZE:-100}" --rate "$rate" --seconds "${BENCH_SECONDS:-20}"
                done
                ;;
            persist) loadgen "$server" persist --clients "${BENCH_PERSIST_CLIENTS:-256}" --seconds "${BENCH_SECONDS:-20}" ;;
            history) loadgen "$server" history --messages "${BENCH_MESSAGES:-1000000}" ;;
            *) die "unknown scenario: $scenario (idle, connect, broadcast, persist or history)" ;;
        esac
        "stop_$server"
    done
done

banner "Side by side"
mkdir -p docs/bench
target/release/bench_report "$results" --plot docs/bench/broadcast-latency.png
