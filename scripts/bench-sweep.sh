#!/usr/bin/env bash
#
# The retention sweep's cost, as reported in docs/benchmarks.md ("store: the
# retention sweep"):
#
#     scripts/bench-sweep.sh
#
# Builds the release store-server and store_bench, starts a MongoDB-wire
# server (fresh data in .data/mongo-bench-sweep, or $MONGODB_URI) and, for
# each `batch:pause` of BENCH_SWEEP_CONFIGS, a release store-server that
# sweeps in batches of that many messages with that many milliseconds
# between them (STORE_RETENTION_BATCH, STORE_RETENTION_PAUSE_MS), its
# background sweep off (the benchmark starts each sweep itself), on a
# database of its own. `store_bench sweep` then measures the sweep alone
# (messages deleted per second), and POST /message from BENCH_CLIENTS
# writers for BENCH_SECONDS without a sweep, while one runs (of as many
# messages as it deletes alone in one and a half runs), and without one
# again. Tunables: BENCH_SWEEP_CONFIGS ("100:100 500:100 500:500 500:0";
# the first is the default setting), BENCH_SWEEP_MESSAGES (50000),
# BENCH_CLIENTS (64), BENCH_SECONDS (20).
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
install_cleanup_trap

banner "Building release binaries"
cargo build --release --bin store-server --bin store_bench

ensure_mongo_uri --name mongo-bench-sweep --fresh
export STORE_API_TOKEN=$(random_hex 32)

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
for config in ${BENCH_SWEEP_CONFIGS:-100:100 500:100 500:500 500:0}; do
    batch=${config%%:*}
    pause=${config##*:}
    store_port=$(free_port)
    export STORE_URL="http://127.0.0.1:$store_port"
    export MONGODB_DB="bench_sweep_${batch}_${pause}_$(random_hex 4)"
    banner "Store sweeping in batches of $batch, $pause ms apart, on $STORE_URL ($MONGODB_DB)"
    STORE_ADDR="127.0.0.1:$store_port" STORE_LOG_DIR="$DATA_DIR/bench-logs" RUST_LOG=warn \
        STORE_RETENTION_SWEEP_SECONDS=0 STORE_RETENTION_BATCH="$batch" STORE_RETENTION_PAUSE_MS="$pause" \
        "${DETACH[@]}" target/release/store-server >"$DATA_DIR/bench-sweep-store.out" 2>&1 </dev/null &
    store_pid=$!
    register_cleanup_pid "$store_pid" "store-server (sweep bench)"
    wait_until_ok "$STORE_URL/readyz" "store-server (sweep bench)"
    target/release/store_bench sweep --messages "${BENCH_SWEEP_MESSAGES:-50000}" \
        --clients "${BENCH_CLIENTS:-64}" --seconds "${BENCH_SECONDS:-20}"
    stop_pid "$store_pid" "store-server (sweep bench)"
    unregister_cleanup_pid "$store_pid"
done
