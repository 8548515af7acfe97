#!/usr/bin/env bash
#
# Start the whole stack for development: MongoDB, store-server, chat-server.
#
#     scripts/dev.sh
#
# MongoDB: $MONGODB_URI if set, else a local mongod, else secantusd-rs
# (installed on first use), on port 27017 when free (data in .data/).
# Secrets: STORE_API_TOKEN / CHAT_JWT_SECRET from the environment, else
# generated once and kept in .data/dev-secrets.env.
# Addresses: STORE_ADDR (127.0.0.1:3000), CHAT_ADDR (0.0.0.0:8080); any other
# variable of the README's Configuration table is passed through to the services.
# Ctrl-C (or SIGTERM) stops everything this script started.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
install_cleanup_trap

DEV_USER="up201905678"
DEV_PEER="up201905679"
READY_TIMEOUT="${DEV_READY_TIMEOUT:-120}"

# addr_port HOST:PORT -> PORT
addr_port() { printf '%s\n' "${1##*:}"; }
# addr_host HOST:PORT -> HOST ("[::1]" stays bracketed)
addr_host() { printf '%s\n' "${1%:*}"; }
# addr_url HOST:PORT -> an http URL that reaches a server bound there
addr_url() {
    local host
    host=$(addr_host "$1")
    case "$host" in
        "" | 0.0.0.0 | "[::]" | "*") host=127.0.0.1 ;;
    esac
    printf 'http://%s:%s\n' "$host" "$(addr_port "$1")"
}

# check_addr_free NAME VAR HOST:PORT: fail clearly if the port is taken.
check_addr_free() {
    local name=$1 var=$2 addr=$3 host port
    host=$(addr_host "$addr")
    port=$(addr_port "$addr")
    [[ "$port" =~ ^[0-9]+$ ]] || die "$var=$addr: expected HOST:PORT"
    case "$host" in
        "" | "*") host=0.0.0.0 ;;
        \[*) return 0 ;; # IPv6: let the server report it
    esac
    port_is_free "$port" "$host" ||
        die "$name cannot listen on $addr: the port is in use (stop that process or set $var)"
}

# load_dev_secrets: keep STORE_API_TOKEN / CHAT_JWT_SECRET stable across runs
# (so dev tokens survive a restart) unless they come from the environment.
load_dev_secrets() {
    local file="$DATA_DIR/dev-secrets.env" key value
    if [[ -n "${STORE_API_TOKEN:-}" && -n "${CHAT_JWT_SECRET:-}" ]]; then
        return 0
    fi
    mkdir -p "$DATA_DIR"
    if [[ ! -s "$file" ]]; then
        (
            umask 077
            printf 'STORE_API_TOKEN=%s\nCHAT_JWT_SECRET=%s\n' "$(random_hex 32)" "$(random_hex 32)" >"$file"
        )
        log "generated dev secrets in ${file#"$ROOT"/}"
    fi
    while IFS='=' read -r key value; do
        case "$key" in
            STORE_API_TOKEN) [[ -n "${STORE_API_TOKEN:-}" ]] || STORE_API_TOKEN=$value ;;
            CHAT_JWT_SECRET) [[ -n "${CHAT_JWT_SECRET:-}" ]] || CHAT_JWT_SECRET=$value ;;
        esac
    done <"$file"
    [[ -n "${STORE_API_TOKEN:-}" ]] || STORE_API_TOKEN=$(random_hex 32)
    [[ -n "${CHAT_JWT_SECRET:-}" ]] || CHAT_JWT_SECRET=$(random_hex 32)
}

# start_service NAME BINARY: run BINARY in the background; its output goes to
# this script's stdout, each line prefixed with [NAME]. Sets STARTED_PID.
start_service() {
    local name=$1 bin=$2
    log "starting $name"
    # The prefixing sed ignores Ctrl-C so the server's stdout stays open while
    # the server shuts down; it ends by itself at EOF.
    "${DETACH[@]}" "$bin" > >(trap '' INT TERM HUP; exec sed -u "s/^/[$name] /") 2>&1 </dev/null &
    STARTED_PID=$!
    register_cleanup_pid "$STARTED_PID" "$name"
}

# wait_ready NAME PID URL: wait for GET URL/readyz to answer 200.
wait_ready() {
    local name=$1 pid=$2 url="$3/readyz" code=000
    local deadline=$((SECONDS + READY_TIMEOUT))
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) || true
        [[ "$code" == 200 ]] && return 0
        if ! pid_alive "$pid"; then
            die "$name exited before it was ready (its output is above; logs in $3)"
        fi
        if ((SECONDS >= deadline)); then
            die "$name: GET $url did not answer 200 within ${READY_TIMEOUT}s (last status: ${code:-none})"
        fi
        sleep 0.5
    done
}

# --- configuration ----------------------------------------------------------

load_dev_secrets
export STORE_API_TOKEN CHAT_JWT_SECRET
export STORE_ADDR="${STORE_ADDR:-127.0.0.1:3000}"
export CHAT_ADDR="${CHAT_ADDR:-0.0.0.0:8080}"
export STORE_LOG_DIR="${STORE_LOG_DIR:-$ROOT/logs/store}"
export CHAT_LOG_DIR="${CHAT_LOG_DIR:-$ROOT/logs/chat}"
export RUST_LOG="${RUST_LOG:-info}"
store_url=$(addr_url "$STORE_ADDR")
export STORE_URL="${STORE_URL:-$store_url}"
chat_port=$(addr_port "$CHAT_ADDR")
export CHAT_PUBLIC_URL="${CHAT_PUBLIC_URL:-http://localhost:$chat_port}"
chat_local_url=$(addr_url "$CHAT_ADDR")

cargo_flags=()
if [[ "${CI:-}" == true ]]; then
    cargo_flags+=(--locked)
fi

# --- build ------------------------------------------------------------------

build_cmd=(cargo build "${cargo_flags[@]}" --bin store-server --bin chat-server)
log "building: ${build_cmd[*]}"
"${build_cmd[@]}" || die "the build failed (see the errors above); nothing was started"

target_dir=$(cargo metadata --no-deps --format-version 1 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null) ||
    target_dir="$ROOT/target"
store_bin="$target_dir/debug/store-server"
chat_bin="$target_dir/debug/chat-server"
[[ -x "$store_bin" && -x "$chat_bin" ]] || die "built, but $store_bin or $chat_bin is missing"

# --- run --------------------------------------------------------------------

check_addr_free store-server STORE_ADDR "$STORE_ADDR"
check_addr_free chat-server CHAT_ADDR "$CHAT_ADDR"

ensure_mongo_uri --name mongo --port 27017
mkdir -p "$STORE_LOG_DIR" "$CHAT_LOG_DIR"

watch_pids=()
watch_names=()
if [[ -n "${MONGO_PID:-}" ]]; then
    watch_pids+=("$MONGO_PID")
    watch_names+=("MongoDB")
fi

start_service store "$store_bin"
store_pid=$STARTED_PID
watch_pids+=("$store_pid")
watch_names+=("store-server")
wait_ready store-server "$store_pid" "$store_url"
log "store-server is ready at $store_url"

start_service chat "$chat_bin"
chat_pid=$STARTED_PID
watch_pids+=("$chat_pid")
watch_names+=("chat-server")
wait_ready chat-server "$chat_pid" "$chat_local_url"
log "chat-server is ready at $chat_local_url"

# demo_group: the id of an open "welcome" group of the two dev users,
# created on the first run.
demo_group() {
    local auth="Authorization: Bearer $STORE_API_TOKEN" existing
    existing=$(curl -sf -H "$auth" "$store_url/group/user/$DEV_USER?perPage=100" |
        python3 -c 'import json, sys
for g in json.load(sys.stdin)["items"]:
    if g["name"] == "welcome":
        print(g["id"]); break') || existing=""
    if [[ -n "$existing" ]]; then
        printf '%s\n' "$existing"
        return 0
    fi
    curl -sf -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"name\": \"welcome\", \"users\": [\"$DEV_USER\", \"$DEV_PEER\"], \"open\": true}" \
        "$store_url/group" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
group_id=$(demo_group) || group_id="(could not be created; see the store output above)"
dev_token=$("$chat_bin" token "$DEV_USER")
peer_token=$("$chat_bin" token "$DEV_PEER")

{
    echo
    echo "======================================================================"
    echo " The stack is up (Ctrl-C stops it)"
    echo "======================================================================"
    echo " Chat (Socket.IO): $CHAT_PUBLIC_URL"
    echo " Chat Swagger UI: $chat_local_url/docs/"
    echo " Store:           $store_url  (API token: STORE_API_TOKEN, see .data/dev-secrets.env)"
    echo " Store Swagger UI: $store_url/docs/"
    echo " MongoDB:         $MONGODB_URI"
    echo " Logs:            ${STORE_LOG_DIR#"$ROOT"/}/, ${CHAT_LOG_DIR#"$ROOT"/}/${MONGO_LOG:+, ${MONGO_LOG#"$ROOT"/}}"
    echo "                  (service output is also shown here, prefixed [store] / [chat])"
    echo " Demo group \"welcome\" (room id): $group_id"
    echo " Token of $DEV_USER (valid 24 h):"
    echo "   $dev_token"
    echo " Token of $DEV_PEER (valid 24 h):"
    echo "   $peer_token"
    echo " Web client (sign-in links; each browser tab keeps its own user):"
    echo "   $DEV_USER: $CHAT_PUBLIC_URL/#token=$dev_token"
    echo "   $DEV_PEER: $CHAT_PUBLIC_URL/#token=$peer_token"
    echo "======================================================================"
    echo
}

# Stay in the foreground until Ctrl-C / SIGTERM (the trap then stops
# everything) or until one of the processes dies on its own.
set +e
wait -n "${watch_pids[@]}"
status=$?
set -e
for i in "${!watch_pids[@]}"; do
    if ! pid_alive "${watch_pids[i]}"; then
        err "${watch_names[i]} (pid ${watch_pids[i]}) exited unexpectedly (status $status); stopping the rest"
    fi
done
exit 1
