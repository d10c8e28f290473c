// Op results against float64 references computed here in JS from seeded random inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  array, add, subtract, multiply, divide, negative, exp, sin, matmul, sum, mean, reshape,
  transpose, astype, zeros, ones, arange, full, newStream, Array as RillArray,
} from 'rill';
import { prng, randomValues, assertClose } from './helpers.mjs';

function nested(flat, rows, cols) {
  return Array.from({ length: rows }, (_, i) => flat.slice(i * cols, (i + 1) * cols));
}

test('elementwise ops match float64 references', () => {
  const rand = prng(1);
  const x = randomValues(rand, 24);
  const y = randomValues(rand, 24, 0.5, 3); // away from zero: divide
  const a = array(x, [4, 6], 'float32');
  const b = array(y, [4, 6], 'float32');
  const cases = [
    [add(a, b), (i) => x[i] + y[i]],
    [subtract(a, b), (i) => x[i] - y[i]],
    [multiply(a, b), (i) => x[i] * y[i]],
    [divide(a, b), (i) => x[i] / y[i]],
    [negative(a), (i) => -x[i]],
    [exp(a), (i) => Math.exp(x[i])],
    [sin(a), (i) => Math.sin(x[i])],
  ];
  for (const [r, f] of cases) {
    assert.deepEqual(r.shape, [4, 6]);
    assert.equal(r.dtype, 'float32');
    assertClose(r.tolist(), nested(Array.from({ length: 24 }, (_, i) => f(i)), 4, 6));
  }
});

test('scalars broadcast and keep the array dtype', () => {
  const rand = prng(2);
  const x = randomValues(rand, 5);
  const a = array(x, [5], 'float32');
  const r = add(multiply(a, 3), 0.5);
  assert.equal(r.dtype, 'float32');
  assertClose(r.tolist(), x.map((v) => v * 3 + 0.5));
  const i = add(array([1, 2, 3]), 2);
  assert.equal(i.dtype, 'int32');
  assert.deepEqual(i.tolist(), [3, 4, 5]);
});

test('matmul matches a float64 reference', () => {
  const rand = prng(3);
  const [m, k, n] = [5, 7, 3];
  const x = randomValues(rand, m * k);
  const y = randomValues(rand, k * n);
  const r = matmul(array(x, [m, k], 'float32'), array(y, [k, n], 'float32'));
  assert.deepEqual(r.shape, [m, n]);
  const ref = [];
  for (let i = 0; i < m; i++) {
    const row = [];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p] * y[p * n + j];
      row.push(s);
    }
    ref.push(row);
  }
  assertClose(r.tolist(), ref, { rtol: 1e-5, atol: 1e-5 });
});

test('sum and mean over axes, with keepdims', () => {
  const rand = prng(4);
  const x = randomValues(rand, 12);
  const a = array(x, [3, 4], 'float32');
  const rows = [0, 1, 2].map((i) => x.slice(i * 4, i * 4 + 4));
  const total = x.reduce((s, v) => s + v, 0);
  assertClose([sum(a).item()], [total], { atol: 1e-5 });
  assertClose([mean(a).item()], [total / 12], { atol: 1e-6 });
  const s1 = sum(a, 1);
  assert.deepEqual(s1.shape, [3]);
  assertClose(s1.tolist(), rows.map((r) => r.reduce((s, v) => s + v, 0)), { atol: 1e-5 });
  const m0 = mean(a, 0, true);
  assert.deepEqual(m0.shape, [1, 4]);
  assertClose(m0.tolist(), [[0, 1, 2, 3].map((j) => (rows[0][j] + rows[1][j] + rows[2][j]) / 3)]);
  const both = sum(a, [0, 1]);
  assert.deepEqual(both.shape, []);
  assertClose([both.item()], [total], { atol: 1e-5 });
  assertClose(a.sum(-1, true).tolist(), rows.map((r) => [r.reduce((s, v) => s + v, 0)]), { atol: 1e-5 });
});

test('reshape, transpose and astype', () => {
  const rand = prng(5);
  const x = randomValues(rand, 6);
  const a = array(x, [2, 3], 'float32');
  assertClose(reshape(a, [3, -1]).tolist(), [x.slice(0, 2), x.slice(2, 4), x.slice(4, 6)]);
  const t = transpose(a);
  assert.deepEqual(t.shape, [3, 2]);
  assertClose(t.tolist(), [0, 1, 2].map((j) => [x[j], x[3 + j]]));
  assert.deepEqual(transpose(reshape(a, [1, 2, 3]), [2, 0, 1]).shape, [3, 1, 2]);
  const i = astype(array([1.7, -2.2, 3.9], [3], 'float32'), 'int32');
  assert.equal(i.dtype, 'int32');
  assert.deepEqual(i.tolist(), [1, -2, 3]);
  const h = a.astype('float16');
  assert.equal(h.dtype, 'float16');
  assertClose(h.tolist(), [x.slice(0, 3), x.slice(3)], { rtol: 1e-3, atol: 1e-3 });
  const bf = astype(a, 'bfloat16');
  assert.equal(bf.dtype, 'bfloat16');
  assertClose(bf.tolist(), [x.slice(0, 3), x.slice(3)], { rtol: 1e-2, atol: 1e-2 });
  assert.deepEqual(astype(array([0, 2, 0], [3], 'float32'), 'bool').tolist(), [false, true, false]);
  const ht = h.toTypedArray();
  assert.ok(ht instanceof Float32Array);
  assertClose([...ht], x, { rtol: 1e-3, atol: 1e-3 });
  const bt = astype(array([1, 0], [2], 'float32'), 'bool').toTypedArray();
  assert.ok(bt instanceof Uint8Array);
  assert.deepEqual([...bt], [1, 0]);
});

test('zeros, ones, full and arange', () => {
  const z = zeros([2, 2]);
  assert.equal(z.dtype, 'float32');
  assert.deepEqual(z.tolist(), [[0, 0], [0, 0]]);
  // Shapes past 32 bits read back whole (nothing is allocated: the array is never evaluated).
  assert.deepEqual(zeros([2 ** 33, 3]).shape, [2 ** 33, 3]);
  assert.deepEqual(ones([3], 'int32').tolist(), [1, 1, 1]);
  assert.deepEqual(full([2], 2.5).tolist(), [2.5, 2.5]);
  const t = full([2], true);
  assert.equal(t.dtype, 'bool');
  assert.deepEqual(t.tolist(), [true, true]);
  const r = arange(5);
  assert.equal(r.dtype, 'int32');
  assert.deepEqual(r.tolist(), [0, 1, 2, 3, 4]);
  const f = arange(1, 2, 0.25);
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(f.tolist(), [1, 1.25, 1.5, 1.75]);
  assert.deepEqual(arange(2, 8, 3, 'float64').tolist(), [2, 5]);
});

test('array() from nested arrays, typed arrays and booleans; reading back', () => {
  const n = array([[1, 2], [3, 4]]);
  assert.ok(n instanceof RillArray);
  assert.equal(n.dtype, 'int32');
  assert.deepEqual(n.shape, [2, 2]);
  assert.equal(n.ndim, 2);
  assert.equal(n.size, 4);
  assert.deepEqual([...n.toTypedArray()], [1, 2, 3, 4]);
  assert.ok(n.toTypedArray() instanceof Int32Array);
  assert.equal(array([1.5, 2]).dtype, 'float32');
  const b = array([true, false]);
  assert.equal(b.dtype, 'bool');
  assert.deepEqual(b.tolist(), [true, false]);
  const t = array(new Float64Array([0.1, 0.2, 0.3, 0.4]), [2, 2]);
  assert.equal(t.dtype, 'float64');
  assert.deepEqual(t.tolist(), [[0.1, 0.2], [0.3, 0.4]]);
  const big = array(new BigInt64Array([1n, -3n, 2n ** 40n]));
  assert.equal(big.dtype, 'int64');
  assert.deepEqual(big.tolist(), [1, -3, 2 ** 40]);
  assert.equal(array(new Uint8Array([7, 8]), [2], 'float32').dtype, 'float32');
  const s = array(3.5);
  assert.deepEqual(s.shape, []);
  assert.equal(s.item(), 3.5);
  assert.equal(String(array([1, 2], [2], 'float32')), 'array([1, 2], dtype=float32)');
  const stream = newStream('cpu');
  assert.ok(array([1, 2], [2], 'float32', stream).stream.equals(stream));
});
