#!/usr/bin/env bash
# Fails when CI would compile rill-core more than once in its optimised profile: the tests
# (`cargo test --profile ci --workspace --exclude rill-python`), the Python extension and the Node
# addon share one build (profile `ci`, docs/ci.md). Cargo builds a crate again, with everything
# that depends on it, when its features differ, so every crate the three share must resolve to
# the same features in each (the root Cargo.toml's "feature alignment" dependencies see to it; the
# tests' dev-dependencies count, since cargo unifies their features while it builds the tests).
# Compares `cargo tree`'s resolved features; builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
features() {
    cargo tree "$@" --prefix none --no-dedupe -f '{p} [{f}]' | sort -u
}
python3 - <(features -p rill-python -e normal,build) <(features -p rill-node -e normal,build) \
    <(features --workspace --exclude rill-python -e normal,build,dev) <<'PY'
import re, sys

def load(path):
    out = {}
    for line in open(path):
        m = re.match(r"(\S+ v\S+)[^\[]*\[(.*)\]", line.strip())
        if m:
            out.setdefault(m.group(1), set()).add(m.group(2))
    return out

names = ["the Python extension", "the Node addon", "the tests"]
builds = [load(p) for p in sys.argv[1:4]]
py = builds[0]
differ = []
for name, other in zip(names[1:], builds[1:]):
    differ += [f"  {k}: {names[0]} {sorted(py[k])} vs {name} {sorted(other[k])}"
               for k in sorted(set(py) & set(other)) if py[k] != other[k]]
if differ:
    sys.exit("CI's builds resolve shared crates with different features, so rill-core would be "
             "compiled more than once:\n" + "\n".join(differ) +
             "\nadd the missing features to the alignment list in the root Cargo.toml")
print(f"the Python extension shares {len(set(py) & set(builds[1]))} crates with the Node addon "
      f"and {len(set(py) & set(builds[2]))} with the tests, all with the same features")
PY
