#!/usr/bin/env bash
# The C API's test (crates/rill-c, issue 13): compiles crates/rill-c/tests/c/seed000.c with the
# system C compiler against the rill-c library, runs it (seed 000's CPU/GPU example at the seed's
# size, the error paths, threads, memory), links it once more against the static library, and
# runs it under valgrind (a smaller size): no definite leak and no invalid access.
#
# The library comes from the test build: the same package selection, profile and target as
# scripts/test.sh's `cargo test` (RILL_BUILD_PROFILE and RILL_BUILD_TARGET, which it exports; unset,
# the dev profile of a plain `cargo test`), so after that command this builds nothing (anything
# else would compile rill-core again, docs/ci.md).
#
# Without valgrind the valgrind run is skipped, loudly, unless RILL_REQUIRE_MLX=1 (CI, which has
# valgrind), where its absence fails.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUIRE="${RILL_REQUIRE_MLX:-0}"
VALGRIND="${VALGRIND:-/usr/bin/valgrind}"

build=()
lib=target/debug/deps
if [ -n "${RILL_BUILD_PROFILE:-}" ]; then
    build=(--profile "$RILL_BUILD_PROFILE" --target "${RILL_BUILD_TARGET:?RILL_BUILD_TARGET goes with RILL_BUILD_PROFILE}")
    lib="target/$RILL_BUILD_TARGET/$RILL_BUILD_PROFILE/deps"
fi
if ! log=$(cargo test -q "${build[@]}" --workspace --exclude rill-python --test header --no-run 2>&1); then
    echo "$log" >&2
    exit 1
fi
# A dependency of the tests, the library stays in deps/ (cargo copies only what it builds as a
# target of its own up to target/<profile>/).
for f in "$lib/librill_c.so" "$lib/librill_c.a"; do
    if [ ! -f "$f" ]; then
        echo "$f is missing: the test build did not make the rill-c library" >&2
        exit 1
    fi
done

out=target/c-api
mkdir -p "$out"
cflags=(-std=c11 -O1 -g -Wall -Wextra -Werror -Iinclude)
src=crates/rill-c/tests/c/seed000.c

echo "-- the C test, linked against the shared library ($lib/librill_c.so)"
cc "${cflags[@]}" "$src" -o "$out/seed000" -L"$lib" -lrill_c -Wl,-rpath,"$PWD/$lib" -lm -pthread
"$out/seed000"

echo "-- the C test, linked against the static library ($lib/librill_c.a), smaller"
# The system libraries a Rust static library needs (rustc --print native-static-libs).
cc "${cflags[@]}" "$src" -o "$out/seed000-static" "$lib/librill_c.a" -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
"$out/seed000-static" 256

if [ ! -x "$VALGRIND" ]; then
    if [ "$REQUIRE" != 0 ]; then
        echo "RILL_REQUIRE_MLX is set and valgrind ($VALGRIND) is missing: the C API's memory check cannot run" >&2
        exit 1
    fi
    echo "!! SKIPPED: valgrind ($VALGRIND) is not installed: the C API was NOT checked for leaks" \
        "and invalid accesses (apt-get install valgrind)" >&2
    exit 0
fi
echo "-- the C test under valgrind (definite leaks and invalid accesses fail)"
# Rust's thread pool and statics stay reachable at exit ("still reachable", "possibly lost"):
# only definite leaks count. The seed's matrices are 128 x 128 here: valgrind runs ~50x slower.
"$VALGRIND" --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite \
    "$out/seed000" 128
