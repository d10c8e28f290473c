// Shared by the tests: the GPU stand-in, a seeded PRNG and float64 references.
import assert from 'node:assert/strict';
import { isAvailable, newStream } from 'rill';

export const HAS_GPU = isAvailable('gpu');

// Where a seed puts work on the GPU and this machine has none, a new CPU stream stands in (the
// seed tests also check that asking for the GPU throws).
export function gpuOrCpu() {
  return HAS_GPU ? 'gpu' : 'cpu';
}
export function gpuStream() {
  return newStream(gpuOrCpu());
}

// mulberry32: a small seeded PRNG, so failures reproduce.
export function prng(seed) {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

// n values uniform in [lo, hi), rounded to float32 (what rill stores), never all zero.
export function randomValues(rand, n, lo = -2, hi = 2) {
  return Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * rand()));
}

export function assertClose(actual, expected, { rtol = 1e-5, atol = 1e-6 } = {}) {
  const a = actual.flat(Infinity);
  const e = expected.flat(Infinity);
  assert.equal(a.length, e.length, 'lengths differ');
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(e[i]);
    assert.ok(Math.abs(a[i] - e[i]) <= tol, `element ${i}: ${a[i]} vs expected ${e[i]} (tolerance ${tol})`);
  }
}

export function assertGpuRefused(fn) {
  assert.throws(fn, (e) => e instanceof Error && /gpu/i.test(e.message) && /not available/.test(e.message));
}
