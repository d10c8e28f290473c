// Memory: the counters and limits (Python's functions), and V8 collecting dead arrays in step
// with the native memory they hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  array, add, eval as evaluate, getActiveMemory, getPeakMemory, resetPeakMemory, getCacheMemory,
  clearCache, getMemoryLimit, setMemoryLimit, setCacheLimit, core, defaultDevice,
} from 'rill';

test('a loop of large results, one alive at a time, stays within a few of them', async () => {
  // Each turn makes a 64 MiB result and drops it. V8 must learn how much native memory its
  // small Array objects hold, or it lets dozens of dead ones pile up before collecting
  // (4 GB for 60 of them before the fix).
  const n = 4096;
  const mib64 = n * n * 4;
  const a = array(new Float32Array(n * n).fill(1.5), [n, n], 'float32');
  const b = array(new Float32Array(n * n).fill(2.25), [n, n], 'float32');
  evaluate(a, b);
  const before = getActiveMemory();
  resetPeakMemory();
  let last;
  for (let i = 0; i < 48; i++) {
    last = add(a, b);
    evaluate(last);
    // A server turns its event loop between requests: Node runs the finalizers of collected
    // objects there, not inside a synchronous loop. Each turn lasts at least 2 ms: V8 finishes
    // the collection that the native-memory reports start from a task it delays by ~10 ms
    // (`--trace-gc`: "finalize incremental marking via task", 3-12 ms after marking began), so
    // a loop of sub-millisecond turns (an add on a GPU) leaves ~10 ms of results behind whatever
    // the addon reports (18-23 of them on an H100). What this test checks is the reports: without
    // them V8 collects none of the 48.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.equal(last.tolist()[n - 1][n - 1], 3.75);
  // On a GPU, a and b (made from host data) are copied to the device by the first add and the
  // copies are kept for later reads: two more 64 MiB blocks that are not results.
  const copies = defaultDevice().type === 'gpu' ? 2 : 0;
  const grew = (getPeakMemory() - before) / mib64 - copies;
  assert.ok(grew <= 16, `the peak grew by ${grew.toFixed(1)} results of 64 MiB over 48 turns`);
});

test('the counters follow an array and the limit is hard', () => {
  const active = getActiveMemory();
  const x = array(new Float32Array(1 << 20).fill(3), [1 << 20], 'float32');
  evaluate(x);
  assert.ok(getActiveMemory() >= active + 4 * (1 << 20), 'a 4 MiB array is counted');
  assert.ok(getPeakMemory() >= getActiveMemory());
  const old = setMemoryLimit(getActiveMemory() + (1 << 20));
  try {
    assert.equal(getMemoryLimit(), getActiveMemory() + (1 << 20));
    const big = add(x, x);
    assert.throws(() => evaluate(big), /out of memory/);
  } finally {
    setMemoryLimit(old);
  }
  // The failure stayed with the array that needed the memory.
  assert.equal(x.tolist()[12345], 3);
  assert.equal(getMemoryLimit(), old);
  const y = add(x, x);
  evaluate(y);
  assert.equal(y.tolist()[777], 6);
});

test('the cache can be limited and cleared', () => {
  const previous = setCacheLimit(1 << 30);
  try {
    const t = array(new Float32Array(1 << 18).fill(1), [1 << 18], 'float32');
    evaluate(add(t, t));
    clearCache();
    assert.equal(getCacheMemory(), 0);
  } finally {
    setCacheLimit(previous);
  }
  assert.throws(() => setMemoryLimit(-1), TypeError);
  assert.throws(() => setCacheLimit(1.5), TypeError);
  assert.equal(core.getActiveMemory, getActiveMemory);
});

test('dispose frees an array now; any later use of it throws, what was built before still works', () => {
  const n = 1 << 20;
  const values = Float32Array.from({ length: n }, (_, i) => (i % 1000) / 8);
  const x = array(values, [n], 'float32');
  evaluate(x);
  // Built before the dispose: it keeps x's data alive until it has run.
  const before = add(x, x);
  const kept = array(values.subarray(0, 4), [4], 'float32');
  const y = array(values, [n], 'float32');
  evaluate(y);
  const active = getActiveMemory();
  y.dispose();
  assert.ok(getActiveMemory() <= active - 4 * n, `4 MiB given back at once (active ${active} -> ${getActiveMemory()})`);
  assert.equal(y.isDisposed, true);
  assert.deepEqual(y.shape, [n]);
  assert.equal(y.dtype, 'float32');
  assert.throws(() => y.tolist(), (e) => e instanceof Error && /\[dispose\].*shape \[1048576\].*was disposed/.test(e.message));
  assert.throws(() => evaluate(add(y, 1)), /\[dispose\]/);
  y.dispose(); // again: nothing happens
  assert.equal(y.isDisposed, true);

  x.dispose();
  evaluate(before);
  const got = before.toFloat64Array();
  for (const i of [0, 1, 999, 1000, 123457, n - 1]) assert.equal(got[i], 2 * values[i]);
  assert.throws(() => x.item(), /\[item\]|\[dispose\]/);
  assert.deepEqual(kept.tolist(), [...values.subarray(0, 4)]);
  assert.equal(kept.isDisposed, false);
});
