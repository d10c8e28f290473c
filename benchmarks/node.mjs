// rill's Node package on the figures docs/benchmarks.md gives for Python: a 4096x4096 float32 add
// (median of 15, after 3 warm-up runs) and a tiny op + eval (`evaluate(add(x, 1))` on a scalar;
// median of 5 rounds of 5000), measured as benchmarks/compare.py measures them. Prints one JSON
// line. Run after building the release addon:
//
//     (cd node && npm install) && node benchmarks/node.mjs
import { array, add, eval as evaluate } from '../node/index.js';

// Between runs (untimed) the event loop turns, as it does between a server's requests: Node
// runs the finalizers of collected arrays there, so their memory goes back to rill's cache. A
// synchronous loop never lets it, and every 64 MiB result would then be fresh memory.
async function median(f, runs = 15, warm = 3) {
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < warm; i++) {
    f();
    await turn();
  }
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    f();
    ts.push(Number(process.hrtime.bigint() - t) / 1e9);
    await turn();
  }
  ts.sort((x, y) => x - y);
  return ts[Math.floor(ts.length / 2)];
}

const n = 4096;
const values = new Float32Array(n * n);
for (let i = 0; i < values.length; i++) values[i] = Math.random();
const a = array(values, [n, n], 'float32');
const b = array(values.map((v) => 1 - v), [n, n], 'float32');
evaluate(a, b);
const r = {};
r.add_4096_ms = (await median(() => evaluate(add(a, b)))) * 1e3;
const x = array([1], [], 'float32');
evaluate(x);
const k = 5000;
r.tiny_op_eval_us = ((await median(() => {
  for (let i = 0; i < k; i++) evaluate(add(x, 1));
}, 5, 1)) / k) * 1e6;
console.log(JSON.stringify(r));
