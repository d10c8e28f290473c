#!/usr/bin/env bash
# Builds the Node addon (crates/rill-node, debug) and puts it where node/index.js loads it:
# node/rill.node. Honors CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -p rill-node
target="${CARGO_TARGET_DIR:-target}"
case "$(uname -s)" in
    Darwin) lib="$target/debug/librill_node.dylib" ;;
    *) lib="$target/debug/librill_node.so" ;;
esac
cp "$lib" node/rill.node
echo "built node/rill.node from $lib"
