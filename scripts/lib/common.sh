# shellcheck shell=bash
# MONGO_PID / MONGO_LOG / DETACH are read by the sourcing scripts:
# shellcheck disable=SC2034
#
# Helpers shared by the scripts in scripts/. Source it, do not run it:
#
#     source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Safe under `set -euo pipefail`. Everything the scripts create lives under
# "$ROOT/.data" (git-ignored). Only processes started by the sourcing script
# are ever stopped (see register_cleanup_pid / cleanup).

if [[ -n "${_CHAT_COMMON_SH_LOADED:-}" ]]; then
    return 0
fi
_CHAT_COMMON_SH_LOADED=1

# Repository root: two levels up from this file (scripts/lib/common.sh).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA_DIR="$ROOT/.data"

# The MongoDB-compatible server used when neither MONGODB_URI nor mongod is
# available (docs/architecture.md, the components table).
SECANTUS_CRATE="secantus-mdb"
SECANTUS_VERSION="0.5.3-beta.196"
SECANTUS_BIN="secantusd-rs"

# `cargo install` puts binaries here; make sure they are found.
_cargo_bin_dir="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in
    *":$_cargo_bin_dir:"*) ;;
    *) PATH="$_cargo_bin_dir:$PATH" ;;
esac
export PATH

# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
err() { printf 'ERROR: %s\n' "$*" >&2; }
die() {
    err "$*"
    exit 1
}

# banner TEXT: a clearly visible step header on stdout.
banner() {
    local line="========================================================================"
    printf '\n%s\n== %s\n%s\n' "$line" "$*" "$line"
}

# show_log_tail FILE [LINES]: print the end of a log file to stderr.
show_log_tail() {
    local file=$1 lines=${2:-40}
    if [[ -f "$file" ]]; then
        printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
        tail -n "$lines" "$file" >&2 || true
        printf -- '----- end of %s -----\n' "$file" >&2
    fi
}

# run_privileged CMD...: run as root (directly when already root, else sudo).
run_privileged() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        err "need root privileges for: $* (not root and no sudo)"
        return 1
    fi
}

# ---------------------------------------------------------------------------
# Ports and processes
# ---------------------------------------------------------------------------

# free_port: print a TCP port on 127.0.0.1 that is free right now.
free_port() {
    python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# port_is_free PORT [HOST]: true when PORT can be bound on HOST (127.0.0.1).
# Uses SO_REUSEADDR like the servers do, so TIME_WAIT leftovers do not count;
# a listener on 0.0.0.0 or on HOST makes the port busy.
port_is_free() {
    local port=$1 host=${2:-127.0.0.1}
    python3 - "$host" "$port" <<'PY' 2>/dev/null
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((host, port))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

# port_accepts PORT [HOST]: true when something accepts TCP connections there.
port_accepts() {
    local port=$1 host=${2:-127.0.0.1}
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# pid_alive PID: true when PID exists and is not a zombie.
pid_alive() {
    local pid=$1 state
    [[ -n "$pid" ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/stat" ]]; then
        state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 0
        [[ "$state" != Z ]] || return 1
    fi
    return 0
}

# pid_cmdline PID: the command line of PID, arguments separated by spaces.
pid_cmdline() {
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# wait_for_port PORT PID LOGFILE NAME [TIMEOUT_SECONDS]
# Waits until PORT accepts connections; fails early if PID dies.
wait_for_port() {
    local port=$1 pid=$2 logfile=$3 name=$4 timeout=${5:-60}
    local deadline=$((SECONDS + timeout))
    while ! port_accepts "$port"; do
        if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
            err "$name (pid $pid) exited during startup; it never listened on port $port"
            show_log_tail "$logfile"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            err "$name did not accept connections on 127.0.0.1:$port within ${timeout}s"
            show_log_tail "$logfile"
            return 1
        fi
        sleep 0.2
    done
}

# wait_until_ok URL NAME: until GET URL answers 200 (a service's /readyz),
# for 30 s at most; then dies naming NAME.
wait_until_ok() {
    for _ in $(seq 1 150); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" == 200 ]] && return 0
        sleep 0.2
    done
    die "$2 did not become ready at $1"
}

# stop_pid PID NAME [TIMEOUT_SECONDS]: SIGTERM, wait, then SIGKILL if needed.
stop_pid() {
    local pid=$1 name=${2:-process} timeout=${3:-20}
    pid_alive "$pid" || return 0
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || return 0
    local deadline=$((SECONDS + timeout))
    while pid_alive "$pid"; do
        if ((SECONDS >= deadline)); then
            warn "$name (pid $pid) still running after ${timeout}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    # Reap it if it is our child (no-op otherwise).
    wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Cleanup on exit: stop only what this script started
# ---------------------------------------------------------------------------

_CLEANUP_PIDS=()  # "pid|name", stopped in reverse order of registration
_CLEANUP_FILES=() # removed after the processes are stopped
_EXIT_HOOKS=()    # functions run first, e.g. to print a summary
_CLEANUP_DONE=0

# register_cleanup_pid PID NAME: stop PID (SIGTERM, then wait) on exit.
register_cleanup_pid() { _CLEANUP_PIDS+=("$1|$2"); }
# register_cleanup_file PATH: delete PATH on exit.
register_cleanup_file() { _CLEANUP_FILES+=("$1"); }
# register_exit_hook FUNCTION: call FUNCTION (with the exit status) on exit.
register_exit_hook() { _EXIT_HOOKS+=("$1"); }

# unregister_cleanup_pid PID: forget PID (e.g. when it was stopped already).
unregister_cleanup_pid() {
    local entry kept=()
    for entry in "${_CLEANUP_PIDS[@]}"; do
        [[ "${entry%%|*}" == "$1" ]] || kept+=("$entry")
    done
    _CLEANUP_PIDS=("${kept[@]}")
}

cleanup() {
    local status=${1:-$?}
    ((_CLEANUP_DONE == 0)) || return 0
    _CLEANUP_DONE=1
    # Let the stopping finish even if Ctrl-C is pressed again (each process
    # gets SIGKILL after a timeout, so this cannot hang forever).
    trap '' INT TERM HUP
    local hook i entry
    for hook in "${_EXIT_HOOKS[@]}"; do
        "$hook" "$status" || true
    done
    for ((i = ${#_CLEANUP_PIDS[@]} - 1; i >= 0; i--)); do
        entry=${_CLEANUP_PIDS[i]}
        stop_pid "${entry%%|*}" "${entry#*|}" || true
    done
    for entry in "${_CLEANUP_FILES[@]}"; do
        rm -f -- "$entry"
    done
    return 0
}

# install_cleanup_trap: call once, near the top of a script.
# Ctrl-C / SIGTERM / SIGHUP make the script exit (130 / 143 / 129), which
# runs cleanup.
install_cleanup_trap() {
    trap 'cleanup $?' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

# Long-running children are started through `setsid` (their own session and
# process group): a Ctrl-C in the terminal reaches only this script, which
# then stops them in reverse start order (services before MongoDB). In a
# script (no job control) a background child is never a process group leader,
# so setsid execs in place and $! is the real server's pid.
if command -v setsid >/dev/null 2>&1; then
    DETACH=(setsid)
else
    DETACH=()
fi

# ---------------------------------------------------------------------------
# Steps: PASS/FAIL per step, and the summary printed on exit; tokens
# ---------------------------------------------------------------------------

_step_names=()
_step_results=()
_step_failures=0

# fmt_duration SECONDS -> "1m05s"
fmt_duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# record NAME RESULT ELAPSED: a step's line in the summary; RESULT is PASS or FAIL.
record() {
    _step_names+=("$1")
    _step_results+=("$(printf '%-4s %8s' "$2" "$(fmt_duration "$3")")")
    if [[ "$2" != PASS ]]; then
        _step_failures=$((_step_failures + 1))
    fi
}

# record_note TEXT: a line of the summary under the last step, without a result.
record_note() {
    _step_names+=("$1")
    _step_results+=("             ")
}

# print_step_summary STATUS TITLE PASSED FAILED: the recorded steps under a
# banner TITLE, then PASSED if no step failed and STATUS is 0, else FAILED.
print_step_summary() {
    local status=$1 title=$2 passed=$3 failed=$4 i
    ((${#_step_names[@]})) || return 0
    banner "$title"
    for i in "${!_step_names[@]}"; do
        printf '  %s  %s\n' "${_step_results[i]}" "${_step_names[i]}"
    done
    if ((_step_failures == 0 && status == 0)); then
        echo "$passed"
    else
        echo "$failed"
    fi
}

# random_hex [BYTES]: BYTES (default 32) random bytes as hex, for tokens and secrets.
random_hex() { od -An -N"${1:-32}" -tx1 /dev/urandom | tr -d ' \n'; }

# ---------------------------------------------------------------------------
# MongoDB
# ---------------------------------------------------------------------------

# ensure_command CMD PACKAGE WHY: install Debian's PACKAGE with apt-get (as
# root or through sudo) when CMD is not on PATH. `apt-get update` runs once.
_APT_UPDATED=0
ensure_command() {
    local cmd=$1 package=$2 why=$3
    command -v "$cmd" >/dev/null 2>&1 && return 0
    command -v apt-get >/dev/null 2>&1 ||
        { err "please install $package ($cmd, needed $why)"; return 1; }
    log "installing $package with apt-get ($cmd, needed $why)"
    if ((_APT_UPDATED == 0)); then
        run_privileged env DEBIAN_FRONTEND=noninteractive apt-get update || return 1
        _APT_UPDATED=1
    fi
    run_privileged env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package" || return 1
    hash -r
    command -v "$cmd" >/dev/null 2>&1 || { err "$package is installed but $cmd is still missing"; return 1; }
}

# _secantus_install_running: true when some `cargo install secantus-mdb` runs.
_secantus_install_running() {
    local f cmd
    for f in /proc/[0-9]*/cmdline; do
        [[ "$f" == "/proc/$$/cmdline" ]] && continue
        cmd=$(tr '\0' ' ' <"$f" 2>/dev/null) || continue
        if [[ "$cmd" == *cargo*install*"$SECANTUS_CRATE"* ]]; then
            return 0
        fi
    done
    return 1
}

# ensure_secantusd: make sure `secantusd-rs` is on PATH, installing it with
# cargo when missing (about 9 minutes on 2 cores, once per machine).
ensure_secantusd() {
    command -v "$SECANTUS_BIN" >/dev/null 2>&1 && return 0

    # Another process (another script run, a provisioning step) may be
    # installing it right now: wait for that instead of building it twice.
    if _secantus_install_running; then
        log "a 'cargo install $SECANTUS_CRATE' is already running; waiting for it to finish"
        local deadline=$((SECONDS + ${SECANTUS_INSTALL_WAIT:-3600}))
        while _secantus_install_running; do
            if ((SECONDS >= deadline)); then
                err "gave up waiting for the other 'cargo install $SECANTUS_CRATE'"
                return 1
            fi
            sleep 10
        done
        hash -r
        command -v "$SECANTUS_BIN" >/dev/null 2>&1 && return 0
        warn "the other install finished without providing $SECANTUS_BIN; installing it here"
    fi

    # WiredTiger is built from bundled C sources: it needs cmake and a C compiler.
    ensure_command cmake cmake "to build $SECANTUS_BIN" || return 1
    ensure_command cc build-essential "to build $SECANTUS_BIN" || return 1

    log "installing $SECANTUS_BIN: cargo install $SECANTUS_CRATE --version $SECANTUS_VERSION (about 9 minutes, once)"
    mkdir -p "$DATA_DIR"
    # flock serializes concurrent runs of these scripts on this checkout.
    (
        flock 9
        command -v "$SECANTUS_BIN" >/dev/null 2>&1 && exit 0
        cargo install "$SECANTUS_CRATE" --version "$SECANTUS_VERSION" --ignore-rust-version --locked
    ) 9>"$DATA_DIR/secantus-install.lock" || { err "cargo install $SECANTUS_CRATE failed"; return 1; }
    hash -r
    command -v "$SECANTUS_BIN" >/dev/null 2>&1 ||
        { err "$SECANTUS_BIN is still not on PATH after installing it (PATH=$PATH)"; return 1; }
}

# _mongo_pid_is_ours PID STORAGE_DIR: PID runs mongod/secantusd-rs on STORAGE_DIR.
_mongo_pid_is_ours() {
    local pid=$1 storage=$2 cmd
    pid_alive "$pid" || return 1
    cmd=$(pid_cmdline "$pid")
    [[ "$cmd" == *"$SECANTUS_BIN"* || "$cmd" == *mongod* ]] || return 1
    [[ "$cmd" == *" $storage "* || "$cmd" == *" $storage" ]]
}

# _mongod_init_replset PORT LOGFILE: initiate the single-node replica set rs0.
_mongod_init_replset() {
    local port=$1 logfile=$2 shell=""
    if command -v mongosh >/dev/null 2>&1; then
        shell=mongosh
    elif command -v mongo >/dev/null 2>&1; then
        shell=mongo
    else
        warn "neither mongosh nor mongo found: replica set rs0 NOT initiated on port $port;"
        warn "run rs.initiate() yourself, writes fail until then"
        return 0
    fi
    local host="127.0.0.1:$port"
    local js="var h='$host';
try { var c = rs.conf();
      if (c.members[0].host !== h) { c.members[0].host = h; rs.reconfig(c, {force: true}); } }
catch (e) { rs.initiate({_id: 'rs0', members: [{_id: 0, host: h}]}); }"
    "$shell" --quiet "mongodb://$host/?directConnection=true" --eval "$js" >>"$logfile" 2>&1 ||
        { err "rs.initiate failed (see $logfile)"; return 1; }
    local deadline=$((SECONDS + 30))
    until "$shell" --quiet "mongodb://$host/?directConnection=true" \
        --eval 'quit(db.hello().isWritablePrimary ? 0 : 1)' >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            err "mongod on $host did not become primary within 30s"
            show_log_tail "$logfile"
            return 1
        fi
        sleep 0.5
    done
}

# ensure_mongo_uri [--name NAME] [--port PORT] [--fresh]
#
# Sets and exports MONGODB_URI. In order:
#   1. $MONGODB_URI when set: used as is, nothing is started;
#   2. a `mongod` on PATH, started as replica set rs0 (data: .data/mongod[-…]);
#   3. `secantusd-rs` (installed when missing), data in .data/NAME.
# --name NAME   data dir / pid file / log name under .data (default: mongo)
# --port PORT   preferred port, used when free (default: any free port)
# --fresh       wipe the data dir first (stopping a leftover server of ours)
# A server recorded in .data/NAME.pid that is still running on its data dir
# is reused (unless --fresh); a server started here is stopped on exit.
# Also sets MONGO_PID (empty when nothing was started) and MONGO_LOG.
ensure_mongo_uri() {
    local name=mongo port_pref="" fresh=0
    while (($#)); do
        case "$1" in
            --name) name=$2; shift 2 ;;
            --port) port_pref=$2; shift 2 ;;
            --fresh) fresh=1; shift ;;
            *) err "ensure_mongo_uri: unknown argument: $1"; return 1 ;;
        esac
    done
    MONGO_PID=""
    MONGO_LOG=""

    if [[ -n "${MONGODB_URI:-}" ]]; then
        log "MongoDB: using MONGODB_URI from the environment ($MONGODB_URI)"
        export MONGODB_URI
        return 0
    fi

    local kind storage
    if command -v mongod >/dev/null 2>&1; then
        kind=mongod
        storage="$DATA_DIR/mongod${name#mongo}"
    else
        kind="$SECANTUS_BIN"
        storage="$DATA_DIR/$name"
        ensure_secantusd || return 1
    fi
    local pidfile="$DATA_DIR/$name.pid" logfile="$storage.log"
    MONGO_LOG=$logfile
    mkdir -p "$DATA_DIR"

    # A server started by an earlier run, still alive?
    local old_pid="" old_port="" old_kind=""
    if [[ -f "$pidfile" ]]; then
        read -r old_pid old_port old_kind <"$pidfile" || true
        if [[ -n "$old_pid" ]] && _mongo_pid_is_ours "$old_pid" "$storage"; then
            if ((fresh)); then
                log "MongoDB: stopping the leftover $old_kind (pid $old_pid) of an earlier run"
                stop_pid "$old_pid" "$old_kind"
            elif wait_for_port "$old_port" "$old_pid" "$logfile" "$old_kind" 30; then
                export MONGODB_URI="mongodb://127.0.0.1:$old_port"
                log "MongoDB: reusing $old_kind (pid $old_pid, started earlier, not stopped on exit) at $MONGODB_URI"
                return 0
            else
                return 1
            fi
        fi
        rm -f "$pidfile"
    fi

    if ((fresh)); then
        rm -rf -- "$storage" "$logfile"
    fi
    mkdir -p "$storage"

    local port
    if [[ -n "$port_pref" ]] && port_is_free "$port_pref"; then
        port=$port_pref
    else
        [[ -z "$port_pref" ]] || log "MongoDB: port $port_pref is busy, using a free port"
        port=$(free_port) || { err "could not find a free port (python3 missing?)"; return 1; }
    fi

    log "MongoDB: starting $kind on 127.0.0.1:$port (data: ${storage#"$ROOT"/}, log: ${logfile#"$ROOT"/})"
    {
        printf '\n===== %s: starting %s on port %s =====\n' "$(date -Is)" "$kind" "$port"
    } >>"$logfile"
    local pid
    if [[ "$kind" == mongod ]]; then
        "${DETACH[@]}" mongod --port "$port" --dbpath "$storage" --replSet rs0 --bind_ip 127.0.0.1 \
            >>"$logfile" 2>&1 </dev/null &
        pid=$!
    else
        # shellcheck disable=SC2086 # SECANTUSD_EXTRA_ARGS is a list of words
        "${DETACH[@]}" "$SECANTUS_BIN" --port "$port" --storage-path "$storage" ${SECANTUSD_EXTRA_ARGS:-} \
            >>"$logfile" 2>&1 </dev/null &
        pid=$!
    fi
    printf '%s %s %s\n' "$pid" "$port" "$kind" >"$pidfile"
    register_cleanup_pid "$pid" "$kind (MongoDB, port $port)"
    register_cleanup_file "$pidfile"
    MONGO_PID=$pid

    wait_for_port "$port" "$pid" "$logfile" "$kind" "${MONGO_START_TIMEOUT:-60}" || return 1
    if [[ "$kind" == mongod ]]; then
        _mongod_init_replset "$port" "$logfile" || return 1
    fi
    export MONGODB_URI="mongodb://127.0.0.1:$port"
    log "MongoDB: ready at $MONGODB_URI (pid $pid)"
}

# ---------------------------------------------------------------------------
# Node
# ---------------------------------------------------------------------------

# ensure_node_deps DIR: install DIR's npm dependencies when needed.
# No-op without DIR/package.json. Runs `npm ci` when node_modules is missing or
# older than package-lock.json (`npm install` when there is no lock file).
ensure_node_deps() {
    local dir=$1
    [[ -f "$dir/package.json" ]] || return 0
    local modules="$dir/node_modules"
    # npm (v7+) rewrites node_modules/.package-lock.json on every install.
    local marker="$modules/.package-lock.json"
    [[ -e "$marker" ]] || marker=$modules
    if [[ -f "$dir/package-lock.json" ]]; then
        if [[ ! -d "$modules" || "$dir/package-lock.json" -nt "$marker" ]]; then
            log "npm ci in ${dir#"$ROOT"/}"
            (cd "$dir" && npm ci --no-audit --no-fund)
        fi
    elif [[ ! -d "$modules" || "$dir/package.json" -nt "$marker" ]]; then
        warn "${dir#"$ROOT"/} has no package-lock.json; running npm install (commit the lock file)"
        (cd "$dir" && npm install --no-audit --no-fund)
    fi
}
