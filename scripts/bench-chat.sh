#!/usr/bin/env bash
#
# Side-by-side benchmarks of the chat-server and the Node peer
# (tests/bench/node-peer), as reported in docs/benchmarks.md:
#
#     scripts/bench-chat.sh                      # every default scenario, both servers
#     scripts/bench-chat.sh broadcast persist    # some scenarios
#     scripts/bench-chat.sh sweep cluster        # two left out of the default run
#     scripts/bench-chat.sh stores               # ours on one store-server, then two
#     scripts/bench-chat.sh attachments          # ours: uploads and downloads at once
#
# Builds the release binaries, starts a MongoDB-wire server (data kept in
# .data/mongo-bench, so the million-message groups are seeded once), the
# store-server and chat-server (release) and the Node peer on free ports,
# runs each scenario against both servers with the load generator, prints the
# side-by-side table with ratios and draws docs/bench/broadcast-latency.png.
# Results of the run: .data/bench/results.jsonl.
#
# Scenarios: idle, connect, broadcast, persist and history (the default run,
# about 13 minutes), and four more that run only when named: at full size
# sweep and cluster would take about 10 and 7 more minutes (estimated from
# the default run's ramps and run lengths), making the default run nearly
# twice as long; stores about 3 (estimated the same way), attachments under 1.
#   sweep    one node, broadcast at each rate of BENCH_SWEEP_RATES for
#            BENCH_SWEEP_SECONDS each; bench_report gives each server's
#            highest rate with every message delivered and p99 <= 100 ms.
#   cluster  two nodes of each server sharing rooms through MongoDB (ours:
#            one store-server and two chat-servers with CHAT_ADAPTER=mongodb;
#            the Node peer: two processes with NODE_PEER_ADAPTER=mongodb),
#            fresh ones for each part: a broadcast with clients spread over
#            both nodes at each rate of BENCH_CLUSTER_RATES; delivery latency
#            across nodes at light load (BENCH_CROSS_CLIENTS clients,
#            BENCH_CROSS_RATE sends/s); and, ours only, the drain of one node
#            holding BENCH_DRAIN_CONNECTIONS clients (CHAT_DRAIN_SECONDS =
#            BENCH_DRAIN_SECONDS), which must all reconnect to the other.
#   stores   ours only (the Node peer has no store tier): one chat-server on
#            one store-server, then on two on the same database (its
#            STORE_URL lists both), fresh servers and a freshly dropped
#            database each time: persist (BENCH_PERSIST_CLIENTS) and a
#            broadcast at BENCH_STORES_RATE sends/s (BENCH_CLIENTS, rooms of
#            BENCH_ROOM_SIZE), BENCH_SECONDS each, as series one-store and
#            two-stores; loadgen also reads the store-servers' CPU time
#            (--store-pid) and the chat-server's. bench_report puts them in
#            one table with the ratio two/one.
#   attachments  ours only (the Node peer has no attachments): BENCH_UPLOADERS
#            clients (50) of one group upload a file of BENCH_FILE_MIB MiB (10)
#            each at once through the gateway, then download them all at
#            once; MiB/s of each phase and the chat-server's and the
#            store-server's peak memory during each (sampled every 50 ms).
#
# Tunables (defaults): BENCH_IDLE_CONNECTIONS (50000, or what the open-file
# limit allows), BENCH_CLIENTS (10000), BENCH_ROOM_SIZE (100), BENCH_RATES
# ("250 500 1000 1100": broadcast sends per second, one run each),
# BENCH_SECONDS (20), BENCH_CONNECTIONS (10000), BENCH_PERSIST_CLIENTS (256),
# BENCH_MESSAGES (1000000), BENCH_SWEEP_RATES ("300 400 500 600 700 800 900
# 1000 1100 1200 1300"), BENCH_SWEEP_SECONDS (10), BENCH_CLUSTER_RATES ("100
# 250 500 1000"), BENCH_CROSS_CLIENTS (1000), BENCH_CROSS_RATE (20),
# BENCH_DRAIN_CONNECTIONS (5000), BENCH_DRAIN_SECONDS (10), BENCH_STORES_RATE
# (1000), BENCH_SERVERS ("rust node"), BENCH_RUST_BIN_DIR (target/release:
# where the store-server and chat-server under test are; point it at another
# build's release directory to measure that build, e.g. before and after a
# change), BENCH_ARRIVAL (mixed: the order in which the users connect, spread
# over their rooms; by-room connects every member of a room, then the next
# room's).
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
install_cleanup_trap

scenarios=("${@:-idle connect broadcast persist history}")
read -r -a scenarios <<<"${scenarios[*]}"
read -r -a servers <<<"${BENCH_SERVERS:-rust node}"
read -r -a rates <<<"${BENCH_RATES:-250 500 1000 1100}"
read -r -a sweep_rates <<<"${BENCH_SWEEP_RATES:-300 400 500 600 700 800 900 1000 1100 1200 1300}"
read -r -a cluster_rates <<<"${BENCH_CLUSTER_RATES:-100 250 500 1000}"
clients=${BENCH_CLIENTS:-10000}
room_size=${BENCH_ROOM_SIZE:-100}
seconds=${BENCH_SECONDS:-20}
rust_bin_dir=${BENCH_RUST_BIN_DIR:-target/release}
for scenario in "${scenarios[@]}"; do
    case "$scenario" in
        idle | connect | broadcast | persist | history | sweep | cluster | stores | attachments) ;;
        *) die "unknown scenario: $scenario (idle, connect, broadcast, persist, history, sweep, cluster, stores or attachments)" ;;
    esac
done

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
export CHAT_JWT_SECRET STORE_API_TOKEN
CHAT_JWT_SECRET=$(random_hex 16)
STORE_API_TOKEN=$(random_hex 16)
# Given to the cluster's chat nodes only: it enables POST /admin/drain.
admin_token=$(random_hex 16)

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
drop_run_databases() { drop_databases "$(run_database rust run)" "$(run_database node run)"; }

# drop_databases NAME...: drop these databases of MONGODB_URI.
drop_databases() {
    (cd tests/bench/node-peer && node -e '
        const { MongoClient } = require("mongodb");
        const client = new MongoClient(process.env.MONGODB_URI);
        (async () => {
            for (const name of process.argv.slice(1)) await client.db(name).dropDatabase();
            await client.close();
        })().catch((err) => { console.error(err.message); process.exit(1); });
    ' "$@")
}

# start_stores DATABASE COUNT: COUNT release store-servers on the same
# database, each on a free port, started one after the other; sets
# store_pids, store_pid (the first's) and store_url (all of them,
# comma-separated, as STORE_URL takes them). The first is called `store`
# (logs, output), the others store-2, store-3...
start_stores() {
    local database=$1 count=$2 i port name urls=()
    store_pids=()
    for ((i = 1; i <= count; i++)); do
        port=$(free_port)
        name=store
        ((i == 1)) || name="store-$i"
        STORE_ADDR="127.0.0.1:$port" STORE_LOG_DIR="$bench_dir/logs/$name" \
            MONGODB_DB="$database" RUST_LOG=warn \
            "${DETACH[@]}" "$rust_bin_dir/store-server" >"$bench_dir/$name.out" 2>&1 </dev/null &
        store_pids+=("$!")
        register_cleanup_pid "$!" "$name-server (bench)"
        urls+=("http://127.0.0.1:$port")
        wait_until_ok "http://127.0.0.1:$port/readyz" "$name-server"
    done
    store_pid=${store_pids[0]}
    store_url=$(IFS=,; echo "${urls[*]}")
}

# start_store DATABASE: one release store-server on a free port.
start_store() { start_stores "$1" 1; }

# stop_stores: stop every store-server started last.
stop_stores() {
    local pid
    for pid in "${store_pids[@]}"; do
        stop_pid "$pid" "store-server (bench)"
    done
}

# start_chat DATABASE NAME [VAR=VALUE...]: a release chat-server of the
# store-servers started last (all of them), on a free port, with the extra
# variables; sets chat_pid and chat_addr. The limits that would refuse the
# load generator's own traffic are lifted: the per-user message rate and
# event budget (`persist` sends as fast as acks come back), and the caps on
# sessions not yet connected (every client comes from 127.0.0.1, thousands
# at a time).
start_chat() {
    local database=$1 name=$2 port
    shift 2
    port=$(free_port)
    "${DETACH[@]}" env CHAT_ADDR="127.0.0.1:$port" CHAT_PUBLIC_URL="http://127.0.0.1:$port" \
        CHAT_LOG_DIR="$bench_dir/logs/$name" STORE_URL="$store_url" MONGODB_DB="$database" \
        RUST_LOG=warn CHAT_MSG_RATE=1000000 CHAT_MSG_BURST=1000000 \
        CHAT_EVENT_RATE=1000000 CHAT_EVENT_BURST=1000000 \
        CHAT_MAX_PENDING_SESSIONS=1000000 CHAT_MAX_PENDING_PER_ADDRESS=1000000 "$@" \
        "$rust_bin_dir/chat-server" >"$bench_dir/$name.out" 2>&1 </dev/null &
    chat_pid=$!
    register_cleanup_pid "$chat_pid" "$name (bench)"
    chat_addr="127.0.0.1:$port"
    wait_until_ok "http://$chat_addr/readyz" "$name"
}

# start_rust DATABASE: a release store-server and chat-server on free ports.
start_rust() {
    start_store "$1"
    start_chat "$1" chat
    server_pid=$chat_pid
    server_addr=$chat_addr
    server_db=$1
}

stop_rust() {
    stop_pid "$server_pid" "chat (bench)"
    stop_stores
}

# start_peer DATABASE NAME [VAR=VALUE...]: the Node peer on a free port, with
# the extra variables; sets peer_pid and peer_addr.
start_peer() {
    local database=$1 name=$2 port
    shift 2
    port=$(free_port)
    "${DETACH[@]}" env CHAT_ADDR="127.0.0.1:$port" MONGODB_DB="$database" "$@" \
        node tests/bench/node-peer/server.js >"$bench_dir/$name.out" 2>&1 </dev/null &
    peer_pid=$!
    register_cleanup_pid "$peer_pid" "$name (bench)"
    peer_addr="127.0.0.1:$port"
    wait_until_ok "http://$peer_addr/healthz" "$name"
}

# start_node DATABASE: the Node peer on a free port.
start_node() {
    start_peer "$1" node
    server_pid=$peer_pid
    server_addr=$peer_addr
    server_db=$1
}

stop_node() { stop_pid "$server_pid" "node (bench)"; }

# start_cluster_rust DATABASE: a store-server and two chat nodes sharing rooms
# through the MongoDB adapter, both drainable. server_addr lists both nodes
# (comma-separated, as loadgen takes them); server_pid is the first's.
start_cluster_rust() {
    local node addrs=()
    cluster_pids=()
    start_store "$1"
    for node in a b; do
        start_chat "$1" "chat-$node" CHAT_ADAPTER=mongodb CHAT_NODE_ID="bench-$node" \
            CHAT_ADMIN_TOKEN="$admin_token" CHAT_DRAIN_SECONDS="${BENCH_DRAIN_SECONDS:-10}"
        cluster_pids+=("$chat_pid")
        addrs+=("$chat_addr")
    done
    server_addr=$(IFS=,; echo "${addrs[*]}")
    server_pid=${cluster_pids[0]}
    server_db=$1
}

stop_cluster_rust() {
    local pid
    for pid in "${cluster_pids[@]}"; do
        stop_pid "$pid" "chat node (bench)"
    done
    stop_stores
}

# start_cluster_node DATABASE: two Node peer processes sharing rooms through
# @socket.io/mongo-adapter; server_addr and server_pid as above.
start_cluster_node() {
    local node addrs=()
    cluster_pids=()
    for node in a b; do
        start_peer "$1" "node-$node" NODE_PEER_ADAPTER=mongodb
        cluster_pids+=("$peer_pid")
        addrs+=("$peer_addr")
    done
    server_addr=$(IFS=,; echo "${addrs[*]}")
    server_pid=${cluster_pids[0]}
    server_db=$1
}

stop_cluster_node() {
    local pid
    for pid in "${cluster_pids[@]}"; do
        stop_pid "$pid" "node peer (bench)"
    done
}

# drained_exit PID: reap the drained node and say how it exited (it must
# exit by itself, with 0).
drained_exit() {
    local code=0
    if pid_alive "$1"; then
        warn "the drained node (pid $1) is still running; it is stopped with the others"
        return 0
    fi
    wait "$1" 2>/dev/null || code=$?
    unregister_cleanup_pid "$1"
    if ((code == 0)); then
        log "the drained node (pid $1) exited with code 0"
    else
        warn "the drained node (pid $1) exited with code $code"
    fi
}

# loadgen SERVER SCENARIO ARGS...: one run against the server started last.
loadgen() {
    local label=$1
    shift
    target/release/loadgen --server "$server_addr" --label "$label" --server-pid "$server_pid" \
        --mongodb-db "$server_db" --results "$results" --arrival "${BENCH_ARRIVAL:-mixed}" "$@"
}

# cluster SERVER: the runs against two nodes of SERVER, each part on fresh
# nodes: the broadcast across them at each cluster rate, delivery latency
# across them at light load, and (ours) the drain of the first node. Clients
# go round-robin over the nodes, so every room of 100 spans both.
run_cluster() {
    local server=$1 database rate
    database=$(run_database "$server" cluster)
    "start_cluster_$server" "$database"
    banner "cluster broadcast against $server ($server_addr)"
    for rate in "${cluster_rates[@]}"; do
        loadgen "$server" broadcast --clients "$clients" --room-size "$room_size" \
            --rate "$rate" --seconds "$seconds" --series cluster
    done
    "stop_cluster_$server"

    "start_cluster_$server" "$database"
    banner "cross-node latency against $server ($server_addr)"
    loadgen "$server" broadcast --clients "${BENCH_CROSS_CLIENTS:-1000}" --room-size "$room_size" \
        --rate "${BENCH_CROSS_RATE:-20}" --seconds "$seconds" --series cross-node
    "stop_cluster_$server"

    # The Node peer has no drain: socket.io offers nothing like it.
    [[ $server == rust ]] || return 0
    "start_cluster_$server" "$database"
    banner "drain of the first $server node ($server_addr)"
    CHAT_ADMIN_TOKEN=$admin_token CHAT_DRAIN_SECONDS=${BENCH_DRAIN_SECONDS:-10} \
        loadgen "$server" drain --connections "${BENCH_DRAIN_CONNECTIONS:-5000}"
    drained_exit "$server_pid"
    "stop_cluster_$server"
}

# run_stores: ours on one store-server, then on two, each time with fresh
# servers on a freshly dropped database (the second would otherwise start
# behind the first's messages): one chat-server whose STORE_URL lists them
# all, persist then a broadcast at BENCH_STORES_RATE, as series one-store and
# two-stores so that they stay out of the one-node tables. loadgen reads the
# store-servers' CPU time over each run's sending (--store-pid).
run_stores() {
    local database=bench_stores count series pids
    for count in 1 2; do
        series=one-store
        ((count == 1)) || series=two-stores
        drop_databases "$database"
        start_stores "$database" "$count"
        start_chat "$database" chat
        server_pid=$chat_pid
        server_addr=$chat_addr
        server_db=$database
        pids=$(IFS=,; echo "${store_pids[*]}")
        banner "stores: ours on $count store-server(s) ($server_addr, STORE_URL=$store_url)"
        loadgen rust persist --clients "${BENCH_PERSIST_CLIENTS:-256}" --seconds "$seconds" \
            --series "$series" --store-pid "$pids"
        loadgen rust broadcast --clients "$clients" --room-size "$room_size" \
            --rate "${BENCH_STORES_RATE:-1000}" --seconds "$seconds" \
            --series "$series" --store-pid "$pids"
        stop_rust
    done
}

drop_run_databases
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), open files $fd_limit"
for scenario in "${scenarios[@]}"; do
    for server in "${servers[@]}"; do
        if [[ $scenario == cluster ]]; then
            run_cluster "$server"
            continue
        fi
        if [[ $scenario == attachments ]]; then
            # Uploads and downloads are ours alone.
            if [[ $server == rust ]]; then
                start_rust "$(run_database "$server" "$scenario")"
                banner "attachments against rust ($server_addr)"
                loadgen rust attachments --clients "${BENCH_UPLOADERS:-50}" \
                    --file-mib "${BENCH_FILE_MIB:-10}" --store-pid "$store_pid"
                stop_rust
            else
                log "attachments: ours only, skipped for $server"
            fi
            continue
        fi
        if [[ $scenario == stores ]]; then
            # The Node peer writes to MongoDB itself: no store tier to vary.
            if [[ $server == rust ]]; then
                run_stores
            else
                log "stores: ours only, skipped for $server"
            fi
            continue
        fi
        # Each scenario gets fresh servers: memory and caches start equal.
        "start_$server" "$(run_database "$server" "$scenario")"
        banner "$scenario against $server ($server_addr)"
        case "$scenario" in
            idle) loadgen "$server" idle --connections "$idle_connections" --hold 30 ;;
            connect) loadgen "$server" connect --connections "${BENCH_CONNECTIONS:-10000}" ;;
            broadcast)
                for rate in "${rates[@]}"; do
                    loadgen "$server" broadcast --clients "$clients" \
                        --room-size "$room_size" --rate "$rate" --seconds "$seconds"
                done
                ;;
            sweep)
                for rate in "${sweep_rates[@]}"; do
                    loadgen "$server" broadcast --clients "$clients" --room-size "$room_size" \
                        --rate "$rate" --seconds "${BENCH_SWEEP_SECONDS:-10}" --series sweep
                done
                ;;
            persist) loadgen "$server" persist --clients "${BENCH_PERSIST_CLIENTS:-256}" --seconds "$seconds" ;;
            history) loadgen "$server" history --messages "${BENCH_MESSAGES:-1000000}" ;;
        esac
        "stop_$server"
    done
done

banner "Side by side"
mkdir -p docs/bench
target/release/bench_report "$results" --plot docs/bench/broadcast-latency.png
