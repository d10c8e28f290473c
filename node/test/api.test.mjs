// Every export of the package against a reference, one table row each (float64 references
// computed here in JS from seeded random inputs, both signs), plus two checks that keep the
// package honest: index.d.ts declares exactly what index.js exports, and every export is called
// by some test of this suite (a static scan of node/test/*.test.mjs).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as rill from 'rill';
import {
  array, full, zeros, ones, arange, negative, abs, exp, log, sqrt, sin, cos, tanh, sigmoid, square,
  reciprocal, add, subtract, multiply, divide, power, maximum, minimum, equal, less, greater, logicalNot,
  matmul, sum, mean, max, min, prod, reshape, transpose, astype, evaluate, eval as evalAlias,
  asyncEval,
  device, defaultDevice, setDefaultDevice, isAvailable, deviceCount, defaultStream, newStream,
  setDefaultStream, synchronize, streamContext, withStream, streaming, core,
  getActiveMemory, getPeakMemory, resetPeakMemory, getCacheMemory, clearCache, getMemoryLimit,
  setMemoryLimit, setCacheLimit, save, savez, savezCompressed, saveSafetensors, saveGguf, load,
  Array as RillArray, Stream, Device,
} from 'rill';
import { HAS_GPU, prng, randomValues, assertClose } from './helpers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const F32 = { rtol: 2e-6, atol: 1e-6 };
const FILES = mkdtempSync(join(tmpdir(), 'rill-api-'));
after(() => rmSync(FILES, { recursive: true, force: true }));

// Saves random float32 values through `write` and loads them back through `read` (the values
// themselves are the reference: float32 in, the same bits out). node/test/io.test.mjs reads the
// files with independent readers.
function fileRow(name, write, read) {
  return () => {
    const x = randomValues(prng(13), 6);
    const path = join(FILES, name);
    write(path, array(x, [2, 3], 'float32'));
    const a = read(path);
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(a.tolist(), [x.slice(0, 3), x.slice(3)]);
  };
}

// The values rill holds for `v` in float32.
const f32 = (v) => v.map(Math.fround);

function unaryRow(f, ref, lo, hi) {
  return () => {
    const rand = prng(11);
    const x = randomValues(rand, 40, lo, hi);
    for (const dtype of ['float32', 'float64']) {
      const r = f(array(x, [5, 8], dtype));
      assert.equal(r.dtype, dtype);
      assertClose([...r.toFloat64Array()], x.map(ref), F32);
    }
  };
}

function binaryRow(f, ref, yLo = -3, yHi = 3) {
  return () => {
    const rand = prng(12);
    const x = randomValues(rand, 24);
    const y = randomValues(rand, 24, yLo, yHi);
    const r = f(array(x, [4, 6], 'float32'), array(y, [4, 6], 'float32'));
    const want = x.map((v, i) => Number(ref(v, y[i])));
    assertClose([...r.toFloat64Array()], want, F32);
    // Broadcasting a row, and a scalar on either side.
    const row = f(array(x, [4, 6], 'float32'), array(y.slice(0, 6), [6], 'float32'));
    assertClose([...row.toFloat64Array()], x.map((v, i) => Number(ref(v, y[i % 6]))), F32);
    const s = f(array(x, [4, 6], 'float32'), 1.5);
    assertClose([...s.toFloat64Array()], x.map((v) => Number(ref(v, 1.5))), F32);
    if (f === power) return;
    const t = f(-0.75, array(y, [4, 6], 'float32'));
    assertClose([...t.toFloat64Array()], y.map((v) => Number(ref(-0.75, v))), F32);
  };
}

// [rows][cols] reductions of a 3x4 matrix along each axis.
function reductionRow(f, ref) {
  return () => {
    const rand = prng(13);
    const x = randomValues(rand, 12, -2, 2);
    const a = array(x, [3, 4], 'float64');
    const rows = [0, 1, 2].map((i) => ref(x.slice(4 * i, 4 * i + 4)));
    const cols = [0, 1, 2, 3].map((j) => ref([0, 1, 2].map((i) => x[4 * i + j])));
    assertClose([f(a).item()], [ref(x)], { rtol: 1e-12, atol: 1e-12 });
    assertClose(f(a, 1).tolist(), rows, { rtol: 1e-12, atol: 1e-12 });
    assertClose(f(a, 0).tolist(), cols, { rtol: 1e-12, atol: 1e-12 });
    assert.deepEqual(f(a, 1, true).shape, [3, 1]);
    assert.deepEqual(f(a, [0, 1]).shape, []);
  };
}

const total = (v) => v.reduce((s, x) => s + x, 0);

const TABLE = {
  negative: unaryRow(negative, (v) => -v, -3, 3),
  abs: unaryRow(abs, Math.abs, -3, 3),
  exp: unaryRow(exp, Math.exp, -3, 3),
  log: unaryRow(log, Math.log, 0.05, 6),
  sqrt: unaryRow(sqrt, Math.sqrt, 0, 6),
  sin: unaryRow(sin, Math.sin, -4, 4),
  cos: unaryRow(cos, Math.cos, -4, 4),
  tanh: unaryRow(tanh, Math.tanh, -3, 3),
  sigmoid: unaryRow(sigmoid, (v) => 1 / (1 + Math.exp(-v)), -5, 5),
  square: unaryRow(square, (v) => v * v, -3, 3),
  reciprocal: unaryRow(reciprocal, (v) => 1 / v, 0.2, 3),
  add: binaryRow(add, (a, b) => a + b),
  subtract: binaryRow(subtract, (a, b) => a - b),
  multiply: binaryRow(multiply, (a, b) => a * b),
  divide: binaryRow(divide, (a, b) => a / b, 0.3, 3),
  power: () => {
    const rand = prng(14);
    const x = randomValues(rand, 12, 0.1, 3);
    const y = randomValues(rand, 12, -2, 2);
    const r = power(array(x, [12], 'float32'), array(y, [12], 'float32'));
    assertClose([...r.toFloat64Array()], x.map((v, i) => v ** y[i]), { rtol: 1e-5, atol: 1e-6 });
    assert.deepEqual(power(array([-2, 3], [2], 'int32'), 3).tolist(), [-8, 27]);
  },
  maximum: binaryRow(maximum, Math.max),
  minimum: binaryRow(minimum, Math.min),
  equal: () => {
    binaryRow(equal, (a, b) => a === b)();
    assert.deepEqual(equal(array([1, -2, 3], [3], 'int32'), array([1, 2, 3], [3], 'int32')).tolist(), [true, false, true]);
  },
  logicalNot: () => {
    assert.deepEqual(logicalNot(array([true, false, true])).tolist(), [false, true, false]);
    const x = randomValues(prng(21), 12).map((v, i) => (i % 3 === 0 ? 0 : v));
    const r = logicalNot(array(x, [3, 4], 'float32'));
    assert.equal(r.dtype, 'bool');
    assert.deepEqual(r.tolist().flat(), x.map((v) => v === 0));
  },
  less: binaryRow(less, (a, b) => a < b),
  greater: binaryRow(greater, (a, b) => a > b),
  matmul: () => {
    const rand = prng(15);
    const [m, k, n] = [4, 6, 3];
    const x = randomValues(rand, m * k);
    const y = randomValues(rand, k * n);
    const r = matmul(array(x, [m, k], 'float64'), array(y, [k, n], 'float64'));
    const want = [];
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p] * y[p * n + j];
      want.push(s);
    }
    assertClose([...r.toFloat64Array()], want, { rtol: 1e-12, atol: 1e-12 });
  },
  sum: reductionRow(sum, total),
  mean: reductionRow(mean, (v) => total(v) / v.length),
  max: reductionRow(max, (v) => Math.max(...v)),
  min: reductionRow(min, (v) => Math.min(...v)),
  prod: reductionRow(prod, (v) => v.reduce((s, x) => s * x, 1)),
  array: () => {
    const x = randomValues(prng(16), 6);
    const a = array(x, [2, 3], 'float32');
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual(a.tolist(), [f32(x.slice(0, 3)), f32(x.slice(3))]);
    assert.deepEqual(array([[1, -2], [3, 4]]).tolist(), [[1, -2], [3, 4]]);
    assert.equal(array(new Int16Array([-7, 8])).dtype, 'int16');
  },
  full: () => assert.deepEqual(full([2, 2], -2.5).tolist(), [[-2.5, -2.5], [-2.5, -2.5]]),
  zeros: () => assert.deepEqual(zeros([2, 1], 'int32').tolist(), [[0], [0]]),
  ones: () => assert.deepEqual(ones(3, 'float64').tolist(), [1, 1, 1]),
  arange: () => {
    assert.deepEqual(arange(5).tolist(), [0, 1, 2, 3, 4]);
    assertClose(arange(-1, 1, 0.5).tolist(), [-1, -0.5, 0, 0.5]);
    assert.deepEqual(arange(6, 0, -2).tolist(), [6, 4, 2]);
  },
  reshape: () => {
    const x = randomValues(prng(17), 6);
    assert.deepEqual(reshape(array(x, [6], 'float64'), [3, 2]).tolist(), [x.slice(0, 2), x.slice(2, 4), x.slice(4)]);
  },
  transpose: () => {
    const x = randomValues(prng(18), 6);
    const t = transpose(array(x, [2, 3], 'float64'));
    assert.deepEqual(t.tolist(), [0, 1, 2].map((j) => [x[j], x[3 + j]]));
  },
  astype: () => {
    const r = astype(array([-1.7, 2.5, 3.9], [3], 'float32'), 'int32');
    assert.deepEqual(r.tolist(), [-1, 2, 3]); // toward zero, as NumPy and MLX
  },
  evaluate: () => {
    const a = add(array([1, 2], [2], 'float32'), 1);
    assert.equal(a.isAvailable, false);
    evaluate([a]);
    assert.equal(a.isAvailable, true);
    assert.deepEqual(a.tolist(), [2, 3]);
  },
  depends: () => {
    // test/depends.test.mjs has the rest (lists, other streams, errors).
    const a = multiply(array([1, -2], [2], 'float32'), 3);
    const d = rill.depends(a, rill.exp(a));
    assert.deepEqual(d.tolist(), [3, -6]);
  },
  asyncEval: async () => {
    const a = multiply(array([1, -2], [2], 'float32'), 3);
    await asyncEval(a);
    assert.equal(a.isAvailable, true);
    assert.deepEqual(a.tolist(), [3, -6]);
  },
  device: () => {
    const d = device('cpu');
    assert.ok(d instanceof Device && d.type === 'cpu' && d.index === 0);
  },
  defaultDevice: () => assert.equal(defaultDevice().type, HAS_GPU ? 'gpu' : 'cpu'),
  setDefaultDevice: () => {
    const before = defaultDevice();
    try {
      setDefaultDevice('cpu');
      assert.equal(defaultDevice().type, 'cpu');
      assert.equal(add(ones(2), 1).stream.device.type, 'cpu');
    } finally {
      setDefaultDevice(before);
    }
  },
  isAvailable: () => {
    assert.equal(isAvailable('cpu'), true);
    assert.equal(isAvailable('gpu'), HAS_GPU);
  },
  deviceCount: () => assert.equal(deviceCount('cpu'), 1),
  defaultStream: () => {
    const s = defaultStream('cpu');
    assert.ok(s instanceof Stream && s.device.type === 'cpu');
    assert.ok(add(ones(1, 'float32', 'cpu'), 1, 'cpu').stream.equals(s));
  },
  newStream: () => {
    const s = newStream('cpu');
    assert.ok(!s.equals(defaultStream('cpu')));
    assert.ok(add(ones(1), 1, s).stream.equals(s));
  },
  setDefaultStream: () => {
    const old = defaultStream('cpu');
    const s = newStream('cpu');
    try {
      setDefaultStream(s);
      assert.ok(defaultStream('cpu').equals(s));
      assert.ok(add(ones(1, 'float32', 'cpu'), 1, 'cpu').stream.equals(s));
    } finally {
      setDefaultStream(old);
    }
  },
  synchronize: () => {
    const s = newStream('cpu');
    const a = add(ones(1000, 'float32', s), 2, s);
    asyncEval(a);
    synchronize(s);
    assert.equal(a.isAvailable, true);
    synchronize();
    assert.deepEqual(a.tolist().slice(0, 2), [3, 3]);
  },
  streamContext: () => {
    const s = newStream('cpu');
    const ctx = streamContext(s);
    try {
      assert.ok(defaultStream().equals(s));
      assert.ok(add(ones(1), 1).stream.equals(s));
    } finally {
      ctx.exit();
    }
    assert.ok(!defaultStream('cpu').equals(s));
  },
  withStream: async () => {
    const s = newStream('cpu');
    const r = withStream(s, () => add(ones(2), 1));
    assert.ok(r.stream.equals(s));
    await withStream(s, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(defaultStream().equals(s));
    });
    assert.ok(!defaultStream('cpu').equals(s));
  },
  streaming: async () => {
    async function* values() {
      yield array([1, -2], [2], 'int32');
      yield { step: 2 };
    }
    const response = streaming.eventStreamResponse(values());
    assert.equal(response.headers.get('content-type').split(';')[0], 'text/event-stream');
    // One SSE event per value: an array as its nested list, other values as JSON.
    assert.equal(await response.text(), 'data: [1,-2]\n\ndata: {"step":2}\n\n');
  },
  core: () => {
    // The namespace object holds the same functions as the named exports.
    for (const [k, v] of Object.entries(core)) {
      assert.equal(v, k === 'eval' ? evaluate : rill[k], k);
    }
    assert.deepEqual(core.add(core.array([1, 2]), 1).tolist(), [2, 3]);
  },
  getActiveMemory: () => {
    const before = getActiveMemory();
    const a = full([1 << 18], 2, 'float32', 'cpu');
    evaluate(a);
    assert.ok(getActiveMemory() >= before + 4 * (1 << 18));
    assert.equal(sum(a).item(), 2 * (1 << 18));
  },
  getPeakMemory: () => {
    const a = full([1 << 18], 1, 'float32', 'cpu');
    evaluate(a);
    assert.ok(getPeakMemory() >= getActiveMemory());
    assert.ok(getActiveMemory() >= 4 * (1 << 18));
  },
  resetPeakMemory: () => {
    evaluate(full([1 << 18], 1, 'float32', 'cpu'));
    resetPeakMemory();
    assert.equal(getPeakMemory(), getActiveMemory());
  },
  getCacheMemory: () => {
    clearCache();
    assert.equal(getCacheMemory(), 0);
  },
  clearCache: () => {
    evaluate(add(full([1 << 16], 1, 'float32', 'cpu'), 1));
    clearCache();
    assert.equal(getCacheMemory(), 0);
  },
  getMemoryLimit: () => assert.ok(getMemoryLimit() > getActiveMemory()),
  setMemoryLimit: () => {
    const old = setMemoryLimit(getActiveMemory() + (64 << 20));
    try {
      assert.equal(getMemoryLimit(), getActiveMemory() + (64 << 20));
      assert.throws(() => evaluate(full([1 << 26], 1, 'float32', 'cpu')), /out of memory/);
    } finally {
      setMemoryLimit(old);
    }
    assert.equal(getMemoryLimit(), old);
  },
  setCacheLimit: () => {
    const old = setCacheLimit(12345);
    assert.equal(setCacheLimit(old), 12345);
  },
  save: fileRow('a', (p, a) => save(p, a), (p) => load(`${p}.npy`)),
  savez: fileRow('b.npz', (p, a) => savez(p, { w: a }), (p) => load(p).w),
  savezCompressed: fileRow('c.npz', (p, a) => savezCompressed(p, [a]), (p) => load(p).arr_0),
  saveSafetensors: fileRow('d.safetensors', (p, a) => saveSafetensors(p, { w: a }), (p) => load(p).w),
  saveGguf: fileRow('f', (p, a) => saveGguf(p, { w: a }), (p) => load(`${p}.gguf`).w),
  load: fileRow('e.safetensors', (p, a) => saveSafetensors(p, { w: a }, { k: 'v' }), (p) => {
    const [arrays, metadata] = load(p, 'safetensors', true);
    assert.deepEqual(metadata, { k: 'v' });
    return arrays.w;
  }),
  Array: () => {
    const a = array([1.5, -2], [2], 'float32');
    assert.ok(a instanceof RillArray);
    assert.deepEqual([a.ndim, a.size, a.itemsize, a.nbytes], [1, 2, 4, 8]);
  },
  Stream: () => assert.ok(newStream('cpu') instanceof Stream),
  Device: () => assert.ok(defaultStream('cpu').device instanceof Device),
};
// The transforms (test/transforms.test.mjs has the rest): each against its derivative or loop.
function transformsRow() {
  const rand = prng(77);
  const xs = randomValues(rand, 6);
  const x = rill.array(xs, [2, 3], 'float32');
  const f = (a) => rill.sum(rill.multiply(rill.exp(a), a));
  const d = xs.map((v) => Math.exp(v) * (v + 1));
  assertClose(rill.grad(f)(x).tolist(), d, { rtol: 1e-5, atol: 1e-5 });
  assertClose(rill.valueAndGrad(f)(x)[1].tolist(), d, { rtol: 1e-5, atol: 1e-5 });
  assertClose(rill.vmap((r) => rill.sum(r))(x).tolist(), [xs[0] + xs[1] + xs[2], xs[3] + xs[4] + xs[5]],
    { rtol: 1e-5, atol: 1e-5 });
  assertClose(rill.compile((a) => rill.exp(a))(x).tolist(), xs.map(Math.exp), { rtol: 1e-5, atol: 1e-5 });
}
for (const name of ['grad', 'valueAndGrad', 'vmap', 'compile']) TABLE[name] = transformsRow;
TABLE.eval = () => {
  assert.equal(evalAlias, evaluate);
  const a = subtract(array([1, 2], [2], 'float32'), 3);
  evalAlias(a);
  assert.equal(a.isAvailable, true);
  assert.deepEqual(a.tolist(), [-2, -1]);
};

test('the table has a row for every export', () => {
  const exports = Object.keys(rill).sort();
  assert.deepEqual(exports.filter((k) => !(k in TABLE)), [], 'exports without a row');
  assert.deepEqual(Object.keys(TABLE).filter((k) => !exports.includes(k)), [], 'rows for no export');
});

for (const [name, row] of Object.entries(TABLE)) {
  test(`${name} against its reference`, row);
}

test('index.d.ts declares exactly what index.js exports', () => {
  const dts = readFileSync(join(HERE, '..', 'index.d.ts'), 'utf8');
  const declared = new Set();
  for (const m of dts.matchAll(/^export declare (?:function|class|const) ([A-Za-z_]\w*)/gm)) declared.add(m[1]);
  // `export declare const a: T, b: T, ...` declares several names.
  // (Up to the first `;` or `{`: an object type's members are not exports.)
  for (const m of dts.matchAll(/^export declare const ([^;{]+)[;{]/gm)) {
    for (const part of m[1].split(',')) {
      const name = part.trim().split(':')[0].trim();
      if (/^[A-Za-z_]\w*$/.test(name)) declared.add(name);
    }
  }
  for (const m of dts.matchAll(/^export \{ (\w+) as (\w+) \};/gm)) declared.add(m[2]);
  const exported = Object.keys(rill).sort();
  assert.deepEqual([...declared].filter((k) => !exported.includes(k)).sort(), [], 'declared, not exported');
  assert.deepEqual(exported.filter((k) => !declared.has(k)), [], 'exported, not declared');
});

test('every export is called by some test', () => {
  // A name counts as used in a file that imports it from 'rill' (perhaps renamed) and then calls
  // it, constructs or checks against it (`new X`, `instanceof X`) or reads a member (`X.y`).
  const used = new Set();
  for (const file of readdirSync(HERE).filter((f) => f.endsWith('.test.mjs'))) {
    const src = readFileSync(join(HERE, file), 'utf8');
    for (const m of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*'rill'/g)) {
      for (const spec of m[1].split(',').map((s) => s.trim()).filter(Boolean)) {
        const [name, local = name] = spec.split(/\s+as\s+/);
        const body = src.slice(m.index + m[0].length);
        // Not a member of something else: `Math.max(` is no call of rill's `max`. A function
        // handed to a helper that calls it (`unaryRow(abs, ...)`) counts as called.
        const at = `(?<![.\\w$])${local}`;
        const re = new RegExp(
          `(?:${at}\\s*\\(|new\\s+${local}\\b|instanceof\\s+${local}\\b|${at}\\.\\w|[(,]\\s*${local}\\s*[,)])`,
        );
        if (re.test(body)) used.add(name);
      }
    }
  }
  const never = Object.keys(rill).filter((k) => !used.has(k));
  assert.deepEqual(never, [], `exports no test calls: ${never.join(', ')}`);
});
