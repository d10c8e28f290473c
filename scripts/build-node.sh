#!/usr/bin/env bash
# Builds the Node package as a user does: `npm ci` in node/ installs @napi-rs/cli (the lock file
# pins it) and its `prepare` script runs `npm run build`, which builds crates/rill-node with the
# release profile and writes node/rill.node, where node/index.js loads it. Honors
# CARGO_TARGET_DIR. With RILL_BUILD_PROFILE set (scripts/test.sh sets it to `ci`), the addon is
# built in that profile instead, on the build of rill-core that the tests and the Python wheel
# share (docs/ci.md).
set -euo pipefail
cd "$(dirname "$0")/../node"
rm -f rill.node
if [ -n "${RILL_BUILD_PROFILE:-}" ]; then
    npm ci --no-audit --no-fund --ignore-scripts
    npm run --silent build-with -- --profile "$RILL_BUILD_PROFILE"
else
    npm ci --no-audit --no-fund
fi
test -f rill.node || { echo "the build did not write node/rill.node" >&2; exit 1; }
echo "built node/rill.node (${RILL_BUILD_PROFILE:-release})"
