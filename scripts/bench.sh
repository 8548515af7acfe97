#!/usr/bin/env bash
#
# Every table and the plot of docs/benchmarks.md, in the order the page shows them:
#
#     scripts/bench.sh
#
# First the whole stack side by side with the Node peer (scripts/bench-chat.sh,
# every scenario, both servers), then the store-server alone
# (scripts/bench-store.sh: five POST /message runs, then page latency at a
# million messages). Each script builds what it needs, starts its own servers
# on free ports and stops them; both keep their MongoDB-wire data in
# .data/mongo-bench, so the million-message groups are seeded once. The chat
# table and the plot come from .data/bench/results.jsonl; the store runs print
# their tables as they go. Both scripts' tunables pass through.
set -euo pipefail

scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$scripts/bench-chat.sh"
"$scripts/bench-store.sh" post history
