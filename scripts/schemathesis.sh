#!/usr/bin/env bash
#
# Check both OpenAPI documents against the running services with schemathesis:
#
#     MONGODB_URI=mongodb://127.0.0.1:27017 scripts/schemathesis.sh
#
#   1. a pinned schemathesis in a virtualenv under .data (installed once)
#   2. cargo build of the debug store-server and chat-server
#   3. a store-server (fresh database on $MONGODB_URI, required) and a chat-server,
#      each on a free port, stopped on exit
#   4. `st run` on each document (/api-docs/openapi.json): every check
#      (--checks all), every phase (examples, coverage, fuzzing, stateful), a
#      fixed seed, a bounded number of examples, one worker and no example
#      database, so that two runs send the same requests; the store's run starts
#      from an empty database, the gateway's draws half of its `{group}` ids from
#      two groups seeded through the store (one of the token's user). The
#      gateway's stateful scenarios start from an upload
#      (POST /chat/{group}/attachment) and download what it created.
#   5. a summary; the exit status is non-zero if any run found a failure
#
# Settings (environment):
#   SCHEMATHESIS_SEED          seed of every run (default 42)
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 100)
#
# No check, phase or operation is excluded. The store is driven with its
# service token, the gateway with a user JWT. The chat-server gets a
# CHAT_ADMIN_TOKEN so that POST /admin/drain exists as documented (202/401);
# schemathesis never gets that token, so it sees 401 there and the node is never
# drained.
#
# One hook (scripts/schemathesis_hooks.py) drops a "schema-valid request
# rejected" failure only where positive_data_acceptance provably cannot apply:
# a documented 400 for a rule that depends on the database or on arithmetic
# across fields, which no JSON Schema can state (a read marker or cursor that
# is a message of another group, the 20 matchmaking rooms per user, a user
# blocking themselves (two path parameters that must differ), more users
# than a match group's capacity, a deleted message, the reaction caps), after
# checking that the request does break that rule. The summary counts them.
#
# Reports and logs go to .data/schemathesis/.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
install_cleanup_trap

# schemathesis, and the two packages that draw and validate its data: a run
# with a given seed is the same run only with the same versions.
SCHEMATHESIS_REQUIREMENTS=(schemathesis==4.32.5 hypothesis==6.170.17 jsonschema_rs==0.60.3)
SEED="${SCHEMATHESIS_SEED:-42}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
VENV="$DATA_DIR/schemathesis-venv"
WORK="$DATA_DIR/schemathesis"
ST="$VENV/bin/st"

[[ -n "${MONGODB_URI:-}" ]] ||
    die "MONGODB_URI is required (e.g. MONGODB_URI=mongodb://127.0.0.1:27017 $0)"

_started=$SECONDS

print_summary() {
    print_step_summary "$1" \
        "Summary ($(fmt_duration $((SECONDS - _started))) in total, seed $SEED, $MAX_EXAMPLES examples)" \
        "Both documents match their servers." "FAILED (exit status $1); logs in ${WORK#"$ROOT"/}/"
}
register_exit_hook print_summary

# schemathesis_installed: the venv holds exactly SCHEMATHESIS_REQUIREMENTS.
schemathesis_installed() {
    [[ -x "$ST" && "$(cat "$VENV/.requirements" 2>/dev/null)" == "${SCHEMATHESIS_REQUIREMENTS[*]}" ]]
}

# ensure_schemathesis: the pinned schemathesis in $VENV (idempotent).
ensure_schemathesis() {
    schemathesis_installed && return 0
    mkdir -p "$DATA_DIR"
    (
        flock 9
        schemathesis_installed && exit 0
        log "installing ${SCHEMATHESIS_REQUIREMENTS[*]} into ${VENV#"$ROOT"/}"
        if [[ ! -x "$VENV/bin/python" ]]; then
            python3 -m venv "$VENV" ||
                { err "python3 -m venv failed (on Debian: apt-get install python3-venv)"; exit 1; }
        fi
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            "${SCHEMATHESIS_REQUIREMENTS[@]}" &&
            printf '%s\n' "${SCHEMATHESIS_REQUIREMENTS[*]}" >"$VENV/.requirements"
    ) 9>"$DATA_DIR/schemathesis-install.lock" || die "could not install ${SCHEMATHESIS_REQUIREMENTS[*]}"
    "$ST" --version
}

# wait_ready NAME PORT PID LOGFILE: until GET /readyz answers 200.
wait_ready() {
    local name=$1 port=$2 pid=$3 logfile=$4 deadline=$((SECONDS + 60))
    wait_for_port "$port" "$pid" "$logfile" "$name" || return 1
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz"; do
        if ! pid_alive "$pid" || ((SECONDS >= deadline)); then
            err "$name on port $port never became ready"
            show_log_tail "$logfile"
            return 1
        fi
        sleep 0.3
    done
}

# run_schemathesis NAME URL TOKEN CONFIG: one `st run`; records PASS or FAIL.
run_schemathesis() {
    local name=$1 url=$2 token=$3 config=$4 start=$SECONDS rc=0
    local out="$WORK/$name.log" filtered="$WORK/$name.filtered.log"
    : >"$filtered"
    banner "schemathesis: $name ($url)"
    # Run from $WORK: schemathesis keeps its files in the working directory.
    (
        cd "$WORK" &&
            SCHEMATHESIS_HOOKS="$ROOT/scripts/schemathesis_hooks.py" SCHEMATHESIS_FILTERED_LOG="$filtered" \
                "$ST" --config-file "$config" run "$url" \
                --checks all \
                --phases examples,coverage,fuzzing,stateful \
                --seed "$SEED" \
                --max-examples "$MAX_EXAMPLES" \
                --workers 1 \
                --generation-database none \
                --header "Authorization: Bearer $token" \
                --report junit --report-dir "$WORK/report-$name" \
                --no-color
    ) 2>&1 | tee "$out" || rc=$?
    # From st's summary: "N generated, N passed, ..." and "N failures in Xs".
    local cases verdict
    cases=$(grep -E '^Test cases:' -A1 "$out" | tail -n 1 | sed 's/^ *//') || true
    verdict=$(tail -n 1 "$out" | tr -d '=' | sed 's/^ *//; s/ *$//') || true
    local result=FAIL
    ((rc == 0)) && result=PASS
    record "$name: ${cases:-no test cases} ($verdict)" "$result" $((SECONDS - start))
    if [[ -s "$filtered" ]]; then
        # What the hook dropped, by operation and rule (ids and users folded).
        record_note "  documented 400s dropped by the hook: $(wc -l <"$filtered")"
        while read -r count line; do
            record_note "    $count x $line"
        done < <(sed -E 's/[0-9a-f]{24}/<id>/g; s/: 400 [^ ]+ is in [0-9]+ matchmaking/: 400 <up> is in <n> matchmaking/; s/[0-9]+ users do not fit a group of capacity [0-9]+/<n> users do not fit a group of capacity <c>/' "$filtered" |
            sort | uniq -c | sort -rn)
    fi
}

ensure_command curl curl "to wait for the servers"
ensure_schemathesis
mkdir -p "$WORK"

banner "cargo build (debug store-server and chat-server)"
cargo build --bin store-server --bin chat-server

run_id="$(date +%s)_$$"
store_port=$(free_port)
chat_port=$(free_port)
while [[ "$chat_port" == "$store_port" ]]; do chat_port=$(free_port); done
store_token=$(random_hex 24)
jwt_secret=$(random_hex 32)
admin_token=$(random_hex 24)
store_db="st_store_$run_id"
store_log="$WORK/store-server.out"
chat_log="$WORK/chat-server.out"

log "store-server on 127.0.0.1:$store_port, database $store_db on $MONGODB_URI"
STORE_ADDR="127.0.0.1:$store_port" MONGODB_DB="$store_db" STORE_API_TOKEN="$store_token" \
    STORE_LOG_DIR="$WORK/store-logs" \
    "${DETACH[@]}" target/debug/store-server >"$store_log" 2>&1 &
store_pid=$!
register_cleanup_pid "$store_pid" store-server
wait_ready store-server "$store_port" "$store_pid" "$store_log"

log "chat-server on 127.0.0.1:$chat_port"
CHAT_ADDR="127.0.0.1:$chat_port" CHAT_PUBLIC_URL="http://127.0.0.1:$chat_port" \
    STORE_URL="http://127.0.0.1:$store_port" STORE_API_TOKEN="$store_token" \
    CHAT_JWT_SECRET="$jwt_secret" CHAT_ADMIN_TOKEN="$admin_token" CHAT_LOG_DIR="$WORK/chat-logs" \
    "${DETACH[@]}" target/debug/chat-server >"$chat_log" 2>&1 &
chat_pid=$!
register_cleanup_pid "$chat_pid" chat-server
wait_ready chat-server "$chat_port" "$chat_pid" "$chat_log"

user_token=$(CHAT_JWT_SECRET="$jwt_secret" target/debug/chat-server token st-user)

# store_call METHOD PATH BODY: a store call with the service token; prints its answer.
store_call() {
    curl -fsS -X "$1" "http://127.0.0.1:$store_port$2" -H "Authorization: Bearer $store_token" \
        -H 'Content-Type: application/json' --data-binary "$3"
}
json_id() { python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }

store_config="$WORK/store-server.toml"
printf '# scripts/schemathesis.sh: no settings beyond its command line\n' >"$store_config"
run_schemathesis store-server "http://127.0.0.1:$store_port/api-docs/openapi.json" "$store_token" "$store_config"

# After the store's run, which starts from an empty database: the gateway's
# group ids are drawn half of the time from two real groups (one of the
# token's user, with messages, and one they are not in), so that
# GET /chat/{group}/message also answers 200 and 403, not only 404.
log "seeding two groups for the gateway's run"
member_group=$(store_call POST /group '{"name": "schemathesis", "users": ["st-user", "st-peer"]}' | json_id)
other_group=$(store_call POST /group '{"name": "not mine", "users": ["st-peer"]}' | json_id)
for i in 1 2 3 4 5; do
    store_call POST /message "{\"group\": \"$member_group\", \"from\": \"st-peer\", \"message\": \"message $i\"}" >/dev/null
done
chat_config="$WORK/chat-server.toml"
cat >"$chat_config" <<EOF
# scripts/schemathesis.sh: real groups mixed into the generated {group}
[dictionaries.groups]
values = ["$member_group", "$other_group"]

[parameters]
"path.group" = { dictionary = "groups", probability = 0.5 }
EOF
run_schemathesis chat-server "http://127.0.0.1:$chat_port/api-docs/openapi.json" "$user_token" "$chat_config"

if ((_step_failures)); then
    exit 1
fi
