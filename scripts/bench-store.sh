#!/usr/bin/env bash
#
# Benchmarks of the store-server, as reported in docs/benchmarks.md:
#
#     scripts/bench-store.sh            # both scenarios
#     scripts/bench-store.sh post       # POST /message throughput only
#     scripts/bench-store.sh history    # page latency at 1,000,000 messages only
#     scripts/bench-store.sh search     # search latency over 1,000,000 messages (run only when named)
#
# Builds the release binaries, starts a MongoDB-wire server (data kept in
# .data/mongo-bench so the million-message group is seeded only once) and a
# release store-server on free ports, runs the scenarios, and stops what it
# started. `post` runs BENCH_POST_RUNS times in a row, since one run's
# throughput moves by a tenth or more on this kind of machine. Tunables:
# BENCH_CLIENTS (64), BENCH_SECONDS (20), BENCH_POST_RUNS (5),
# BENCH_MESSAGES (1000000), BENCH_SAMPLES (2000); for `search`:
# BENCH_SEARCH_SAMPLES (500), BENCH_SEARCH_CLIENTS (8), BENCH_SEARCH_SECONDS (15).
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
install_cleanup_trap

scenarios=("${@:-post history}")
read -r -a scenarios <<<"${scenarios[*]}"

banner "Building release binaries"
cargo build --release --bin store-server --bin store_bench

ensure_mongo_uri --name mongo-bench
store_port=$(free_port)
export STORE_API_TOKEN=$(random_hex 32)
export MONGODB_DB="${MONGODB_DB:-bench}"
export STORE_URL="http://127.0.0.1:$store_port"

banner "Starting the store-server (release) on $STORE_URL"
STORE_ADDR="127.0.0.1:$store_port" STORE_LOG_DIR="$DATA_DIR/bench-logs" RUST_LOG=warn \
    "${DETACH[@]}" target/release/store-server >"$DATA_DIR/bench-store.out" 2>&1 </dev/null &
store_pid=$!
register_cleanup_pid "$store_pid" "store-server (bench)"
wait_until_ok "$STORE_URL/readyz" "store-server (bench)"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
for scenario in "${scenarios[@]}"; do
    case "$scenario" in
        post)
            post_runs=${BENCH_POST_RUNS:-5}
            for run in $(seq 1 "$post_runs"); do
                banner "POST /message, run $run of $post_runs: ${BENCH_CLIENTS:-64} clients, ${BENCH_SECONDS:-20} s"
                target/release/store_bench post --clients "${BENCH_CLIENTS:-64}" --seconds "${BENCH_SECONDS:-20}"
            done
            ;;
        history)
            banner "Page latency in a group of ${BENCH_MESSAGES:-1000000} messages"
            target/release/store_bench history --messages "${BENCH_MESSAGES:-1000000}" --samples "${BENCH_SAMPLES:-2000}"
            ;;
        search)
            banner "Search latency over ${BENCH_MESSAGES:-1000000} messages in 20 groups"
            target/release/store_bench search --messages "${BENCH_MESSAGES:-1000000}" \
                --samples "${BENCH_SEARCH_SAMPLES:-500}" --clients "${BENCH_SEARCH_CLIENTS:-8}" \
                --seconds "${BENCH_SEARCH_SECONDS:-15}"
            ;;
        *) die "unknown scenario: $scenario (post, history or search)" ;;
    esac
done
