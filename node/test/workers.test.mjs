// rill in worker threads: worker pools start and stop workers, and each one loads the addon.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

// A worker that loads rill, adds two arrays and posts the result back.
const SOURCE = `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.url).then(({ array, add }) => {
    const a = array([1.5, -2, workerData.k], [3], 'float32');
    parentPort.postMessage(add(a, 0.25).tolist());
  });
`;

function runWorker(k) {
  return new Promise((resolve, reject) => {
    const url = new URL('../index.js', import.meta.url).href;
    const w = new Worker(SOURCE, { eval: true, workerData: { url, k } });
    let result;
    w.on('message', (m) => { result = m; });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve(result) : reject(new Error(`worker exited with ${code}`))));
  });
}

test('workers that come and go each load and use rill', async () => {
  // One after another: the second load used to crash the process (exit 139).
  for (let k = 0; k < 4; k++) {
    assert.deepEqual(await runWorker(k), [1.75, -1.75, k + 0.25]);
  }
  // Several at once.
  const results = await Promise.all([10, 11, 12].map(runWorker));
  assert.deepEqual(results, [10, 11, 12].map((k) => [1.75, -1.75, k + 0.25]));
});
