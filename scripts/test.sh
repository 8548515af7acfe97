#!/usr/bin/env bash
#
# Run every check and test of the repository:
#
#     scripts/test.sh
#
#   1. cargo fmt --all -- --check
#   2. cargo clippy --workspace --all-targets -- -D warnings
#   3. MongoDB for the tests: $MONGODB_URI if set; else a mongod / secantusd-rs
#      started here on a free port with fresh data (.data/mongo-test), stopped
#      on exit (secantusd-rs is installed on first use, ~9 min once)
#   4. cargo test --workspace          (with MONGODB_URI exported)
#   4b. schemathesis on both OpenAPI documents (scripts/schemathesis.sh; a pinned
#      schemathesis in a virtualenv under .data), with a fixed seed: 0 failures
#   5. npm test in tests/js, against the debug binaries (when tests/js/package.json exists);
#      the load-balancer test needs haproxy, installed with apt-get when missing
#   6. npm test in tests/web: the web client in Debian's Chromium (installed with
#      apt-get when missing), driven by playwright-core, against the debug binaries;
#      every view checked by axe-core (WCAG 2.1 A/AA and best practices): 0 violations
#
# Every step runs even if an earlier one failed (set FAIL_FAST=1 to stop at the
# first failure); the exit status is non-zero if any step failed. With CI=true
# cargo gets --locked.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
install_cleanup_trap

cargo_locked=()
if [[ "${CI:-}" == true ]]; then
    cargo_locked+=(--locked)
    # Clean CI builds are faster and smaller without incremental artifacts.
    export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

_started=$SECONDS

print_summary() {
    print_step_summary "$1" "Summary ($(fmt_duration $((SECONDS - _started))) in total)" \
        "All steps passed." "FAILED (exit status $1)."
}
register_exit_hook print_summary

# step NAME CMD...: run one step with a banner; record PASS/FAIL.
step() {
    local name=$1 start=$SECONDS rc=0
    shift
    banner "$name"
    "$@" || rc=$?
    if ((rc == 0)); then
        record "$name" PASS $((SECONDS - start))
    else
        record "$name" FAIL $((SECONDS - start))
        err "step failed (exit status $rc): $name"
        if [[ "${FAIL_FAST:-0}" == 1 ]]; then
            exit 1
        fi
    fi
}

# need_cargo_component SUBCOMMAND COMPONENT: install rustfmt / clippy if missing.
need_cargo_component() {
    if ! cargo "$1" --version >/dev/null 2>&1; then
        if command -v rustup >/dev/null 2>&1; then
            log "installing the $2 rustup component"
            rustup component add "$2"
        else
            err "cargo $1 is not available (install the $2 component)"
            return 1
        fi
    fi
}

run_fmt() {
    need_cargo_component fmt rustfmt && cargo fmt --all -- --check
}

run_clippy() {
    need_cargo_component clippy clippy &&
        cargo clippy --workspace --all-targets "${cargo_locked[@]}" -- -D warnings
}

run_mongo() {
    ensure_mongo_uri --name mongo-test --fresh
}

run_cargo_test() {
    cargo test --workspace "${cargo_locked[@]}"
}

# The JS tests drive the real debug binaries; `cargo test` only builds the
# binaries of packages that have integration tests.
run_js_tests() {
    ensure_command haproxy haproxy "by the load-balancer test" &&
        cargo build --bin store-server --bin chat-server "${cargo_locked[@]}" &&
        ensure_node_deps tests/js && npm test --prefix tests/js
}

# The browser tests drive the web client served by the debug chat-server in
# Debian's Chromium; their harness is the one of tests/js (its npm packages too).
run_web_tests() {
    ensure_command chromium chromium "by the browser tests of the web client" &&
        cargo build --bin store-server --bin chat-server "${cargo_locked[@]}" &&
        ensure_node_deps tests/js && ensure_node_deps tests/web && npm test --prefix tests/web
}

step "cargo fmt --all -- --check" run_fmt
step "cargo clippy --workspace --all-targets -- -D warnings" run_clippy

step "MongoDB for the tests" run_mongo
if [[ -z "${MONGODB_URI:-}" ]]; then
    err "no MongoDB for the tests (see the errors above); skipping the tests"
    exit 1
fi
log "tests use MONGODB_URI=$MONGODB_URI"

step "cargo test --workspace" run_cargo_test
step "schemathesis (both OpenAPI documents)" scripts/schemathesis.sh

if [[ -f tests/js/package.json ]]; then
    step "npm test (tests/js)" run_js_tests
else
    log "tests/js/package.json does not exist: no JS tests to run"
fi

step "npm test (tests/web, Chromium)" run_web_tests

if ((_step_failures)); then
    exit 1
fi
