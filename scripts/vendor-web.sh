#!/usr/bin/env bash
#
# Copy the official socket.io-client's ESM build into the web client:
#
#     scripts/vendor-web.sh
#
# The version is the one pinned in tests/web/package.json (and its
# package-lock.json, installed with `npm ci`): to move to another version,
# change the pin there, run `npm install` in tests/web, then this script, and
# commit the three files. It writes chat-server/web/vendor/:
#   socket.io.esm.min.js             dist/socket.io.esm.min.js of the package
#   LICENSE-socket.io-client.txt     the package's LICENSE (MIT)
# The browser tests check that the copy is byte for byte the pinned file.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"

web=tests/web
vendor=chat-server/web/vendor
command -v npm >/dev/null 2>&1 || die "npm is needed (node 20 or newer)"

log "npm ci in $web"
(cd "$web" && npm ci --no-audit --no-fund)

package="$web/node_modules/socket.io-client"
version=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$package/package.json")
mkdir -p "$vendor"
cp "$package/dist/socket.io.esm.min.js" "$vendor/socket.io.esm.min.js"
cp "$package/LICENSE" "$vendor/LICENSE-socket.io-client.txt"
log "copied socket.io-client $version into $vendor/"
