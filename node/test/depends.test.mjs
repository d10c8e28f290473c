// depends: MLX's `mx.depends` from JS. The results have the inputs' values (checked against values
// computed here in JS from random data), keep the form of `inputs` (one Array or a list), and
// wait for dependencies on other streams; bad arguments throw a TypeError naming the op.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { array, exp, multiply, add, depends, newStream, withStream, core } from 'rill';
import { prng, randomValues, assertClose } from './helpers.mjs';

test('depends returns its inputs values, in the form of its inputs', () => {
  const xs = randomValues(prng(11), 12, -2, 2);
  const ys = randomValues(prng(12), 5, -1, 1);
  const x = array(xs, [3, 4], 'float32');
  const y = array(ys, [5], 'float32');
  const one = depends(exp(x), multiply(y, y));
  assert.deepEqual(one.shape, [3, 4]);
  assertClose(Array.from(one.toFloat64Array()), xs.map((v) => Math.exp(Math.fround(v))));
  const two = depends([add(x, x), y], [exp(y)]);
  assert.ok(Array.isArray(two) && two.length === 2);
  assertClose(Array.from(two[0].toFloat64Array()), xs.map((v) => Math.fround(v) * 2));
  assertClose(Array.from(two[1].toFloat64Array()), ys.map(Math.fround), { rtol: 0, atol: 0 });
  assert.equal(core.depends, depends);
});

test('a dependency on another stream is computed before the result is read', () => {
  const s = newStream('cpu');
  const ds = randomValues(prng(13), 64, -1, 1);
  let dep;
  withStream(s, () => {
    dep = array(ds, [64], 'float32');
    for (let i = 0; i < 50; i++) dep = add(dep, array([1], [1], 'float32'));
  });
  const x = array([1, 2, 3], [3], 'float32');
  const out = depends(x, dep);
  assert.deepEqual(Array.from(out.toFloat64Array()), [1, 2, 3]);
  assertClose(Array.from(dep.toFloat64Array()), ds.map((v) => Math.fround(v) + 50));
});

test('depends refuses what is not an Array', () => {
  const x = array([1, 2], [2], 'float32');
  assert.throws(() => depends(x, [x, 3]), (e) => e instanceof TypeError && /\[depends\] dependencies/.test(e.message));
  assert.throws(() => depends('x', x), (e) => e instanceof TypeError && /\[depends\] inputs/.test(e.message));
});
