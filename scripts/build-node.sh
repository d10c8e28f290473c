#!/usr/bin/env bash
# Builds the Node package as a user does: `npm ci` in node/ installs @napi-rs/cli (the lock file
# pins it) and its `prepare` script runs `npm run build`, which builds crates/rill-node with the
# release profile (the same build of rill-core as the Python wheel's) and writes node/rill.node,
# where node/index.js loads it. Honors CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../node"
npm ci --no-audit --no-fund
test -f rill.node || { echo "npm ci did not build node/rill.node" >&2; exit 1; }
echo "built node/rill.node (release)"
