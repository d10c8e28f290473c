#!/usr/bin/env bash
# Fails when the Python extension and the Node addon would compile rill-core twice: cargo builds
# a crate again (with everything that depends on it) when its features differ, so every crate the
# two share must resolve to the same features in both (the root Cargo.toml's "feature alignment"
# dependencies see to it). Compares `cargo tree`'s resolved features; builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
features() {
    cargo tree -p "$1" -e normal,build --prefix none --no-dedupe -f '{p} [{f}]' | sort -u
}
python3 - <(features rill-python) <(features rill-node) <<'PY'
import re, sys

def load(path):
    out = {}
    for line in open(path):
        m = re.match(r"(\S+ v\S+)[^\[]*\[(.*)\]", line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out

py, node = load(sys.argv[1]), load(sys.argv[2])
differ = [f"  {k}: python [{py[k]}] vs node [{node[k]}]" for k in sorted(set(py) & set(node))
          if py[k] != node[k]]
if differ:
    sys.exit("the Python extension and the Node addon resolve shared crates with different "
             "features, so rill-core would be compiled twice:\n" + "\n".join(differ) +
             "\nadd the missing features to the alignment list in the root Cargo.toml")
print(f"the Python extension and the Node addon share {len(set(py) & set(node))} crates, "
      "all with the same features")
PY
