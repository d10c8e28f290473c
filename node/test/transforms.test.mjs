// grad, valueAndGrad, vmap and compile against derivatives and loops written out here in float64
// on seeded random inputs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  array, add, multiply, sin, cos, tanh, exp, sum, matmul, grad, valueAndGrad, vmap, compile,
} from 'rill';
import { prng, randomValues, assertClose } from './helpers.mjs';

const f = (x) => sum(multiply(sin(x), x)); // d/dx = cos(x) x + sin(x)

test('grad and valueAndGrad match the derivative written out', () => {
  const rand = prng(41);
  const xs = randomValues(rand, 12);
  const x = array(xs, [3, 4], 'float32');
  const want = xs.map((v) => Math.cos(v) * v + Math.sin(v));
  assertClose(grad(f)(x).tolist(), want, { rtol: 1e-5, atol: 1e-5 });
  const [value, g] = valueAndGrad(f)(x);
  assertClose([value.item()], [xs.reduce((s, v) => s + Math.sin(v) * v, 0)], { rtol: 1e-5, atol: 1e-5 });
  assertClose(g.tolist(), want, { rtol: 1e-5, atol: 1e-5 });
  // two arguments, argnums as an array: d/da sum(a*b) = b, d/db = a
  const ys = randomValues(rand, 12);
  const y = array(ys, [3, 4], 'float32');
  const [ga, gb] = grad((a, b) => sum(multiply(a, b)), [0, 1])(x, y);
  assertClose(ga.tolist(), ys, { rtol: 1e-6, atol: 1e-6 });
  assertClose(gb.tolist(), xs, { rtol: 1e-6, atol: 1e-6 });
  // grad of grad: d2/dx2 sum(sin x x) = -sin(x) x + 2 cos(x)
  const g2 = grad((a) => sum(grad(f)(a)))(x);
  assertClose(g2.tolist(), xs.map((v) => -Math.sin(v) * v + 2 * Math.cos(v)), { rtol: 1e-4, atol: 1e-4 });
});

test('vmap matches a loop over the examples', () => {
  const rand = prng(42);
  const xs = randomValues(rand, 15);
  const ws = randomValues(rand, 6);
  const x = array(xs, [5, 3], 'float32');
  const w = array(ws, [3, 2], 'float32');
  const got = vmap((r) => tanh(matmul(r, w)))(x);
  assert.deepEqual(got.shape, [5, 2]);
  const want = [];
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 2; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += xs[i * 3 + k] * ws[k * 2 + j];
      want.push(Math.tanh(s));
    }
  }
  assertClose(got.tolist(), want, { rtol: 1e-5, atol: 1e-5 });
  // per-example gradients, axis 1 in and out, a shared argument
  const per = vmap((r, c) => grad(f)(multiply(r, c)), [1, null], 1)(x, array(2, [], 'float32'));
  assert.deepEqual(per.shape, [5, 3]);
  assertClose(per.tolist(), xs.map((v) => Math.cos(2 * v) * 2 * v + Math.sin(2 * v)), { rtol: 1e-4, atol: 1e-4 });
  assert.throws(() => vmap((a, b) => add(a, b))(x, array([1, 2], [2], 'float32')), /inconsistent axis sizes/);
});

test('compile replays without running the function and keeps its values', () => {
  let calls = 0;
  const g = compile((a, b) => {
    calls += 1;
    return add(multiply(exp(a), b), cos(a));
  });
  const rand = prng(43);
  for (let round = 0; round < 3; round++) {
    const as = randomValues(rand, 6);
    const bs = randomValues(rand, 6);
    const out = g(array(as, [2, 3], 'float32'), array(bs, [2, 3], 'float32'));
    assertClose(out.tolist(), as.map((v, i) => Math.exp(v) * bs[i] + Math.cos(v)), { rtol: 1e-5, atol: 1e-5 });
  }
  assert.equal(calls, 1);
  g(array([1, 2], [2], 'float32'), array([1, 2], [2], 'float32'));
  assert.equal(calls, 2); // a new shape traces again
});

test('a function that throws throws through the transform', () => {
  const x = array([1, 2], [2], 'float32');
  assert.throws(() => grad(() => { throw new RangeError('from inside'); })(x), /from inside/);
  assert.throws(() => vmap(() => { throw new Error('vmapped'); })(x), /vmapped/);
  assert.throws(() => grad((a) => multiply(a, a))(x), /scalar|single element|shape/);
  assert.throws(() => grad(f)(3), TypeError);
});
