// Bad calls throw JS errors naming the op, the shapes and the device; the process goes on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  array, add, matmul, sum, reshape, astype, zeros, newStream, setDefaultStream, synchronize,
  withStream, device, asyncEval, transpose, Stream, subtract, negative, full, defaultStream,
  setDefaultDevice, mean, divide, multiply, arange, grad,
} from 'rill';
import { HAS_GPU } from './helpers.mjs';

test('a shape mismatch names the op and both shapes', () => {
  const a = array([1, 2, 3], [3], 'float32');
  const b = array([1, 2, 3, 4], [4], 'float32');
  assert.throws(
    () => add(a, b),
    (e) => e instanceof Error && /\[add\]/.test(e.message) && /\[3\]/.test(e.message) && /\[4\]/.test(e.message),
  );
  assert.throws(
    () => matmul(zeros([2, 3]), zeros([4, 5])),
    (e) => /\[matmul\]/.test(e.message) && /\[2, 3\]/.test(e.message) && /\[4, 5\]/.test(e.message),
  );
  assert.throws(() => reshape(a, [2, 2]), (e) => /\[reshape\]/.test(e.message));
  // The process goes on: the same arrays still work.
  assert.deepEqual(add(a, a).tolist(), [2, 4, 6]);
});

test('bad dtypes are TypeErrors', () => {
  assert.throws(() => array([1, 2], [2], 'float33'), (e) => e instanceof TypeError && /\[array\] unknown dtype 'float33'/.test(e.message));
  assert.throws(() => array(new Float32Array(2), [2], 'float33'), (e) => e instanceof TypeError && /\[array\]/.test(e.message));
  assert.throws(() => full([2], 'x'), (e) => e instanceof TypeError && /\[full\]/.test(e.message));
  assert.throws(() => astype(zeros([2]), 'int128'), (e) => e instanceof TypeError && /\[astype\]/.test(e.message));
  assert.throws(() => zeros([2], 'nope'), TypeError);
  // A dtype rill refuses for the op.
  const t = array([true, false]);
  assert.throws(() => subtract(t, t), (e) => e instanceof TypeError && /\[subtract\]/.test(e.message) && /bool/.test(e.message));
  assert.throws(() => negative(t), (e) => e instanceof TypeError && /\[negative\]/.test(e.message));
});

test('bad data and bad arguments throw, never crash', () => {
  assert.throws(() => array([1, 'x', 3]), (e) => e instanceof TypeError && /numbers or booleans/.test(e.message));
  assert.throws(() => array([[1, 2], [3]]), (e) => e instanceof TypeError && /rectangular/.test(e.message));
  assert.throws(() => array({}), TypeError);
  assert.throws(() => array([1, 2, 3], [2], 'float32'), (e) => /\[array\]/.test(e.message) && /\[2\]/.test(e.message));
  assert.throws(() => add(array([1], [1]), 'x'), TypeError);
  assert.throws(() => sum(zeros([2, 3]), 5), (e) => e instanceof RangeError && /\[sum\]/.test(e.message) && /axis 5/.test(e.message));
  assert.throws(() => transpose(zeros([2, 3]), [0, 0]), Error);
  assert.throws(() => array([1, 2]).item(), (e) => /\[item\]/.test(e.message));
  assert.throws(() => zeros([-1]), TypeError);
  assert.throws(() => zeros([2.5]), (e) => e instanceof TypeError && /\[full\]/.test(e.message) && /2\.5/.test(e.message));
  assert.throws(() => zeros([NaN]), TypeError);
  assert.throws(() => array([1, 2], [1.5]), (e) => e instanceof TypeError && /\[array\]/.test(e.message));
  assert.throws(() => reshape(zeros([4]), [2, 'x']), TypeError);
});

// An element count past 64 bits is refused when the array is made, with a RangeError naming the
// op and the shape (issue 8, item 1).
test('a shape whose size overflows is refused at construction', () => {
  assert.throws(
    () => zeros([2 ** 40, 2 ** 40]),
    (e) => e instanceof RangeError && /\[(full|zeros)\]/.test(e.message) && /1099511627776/.test(e.message),
  );
});

test('unknown streams and devices are refused', () => {
  assert.throws(() => setDefaultStream({ device: 'cpu', index: 0 }), TypeError);
  assert.throws(() => synchronize(42), TypeError);
  assert.throws(() => withStream('tpu', () => 1), TypeError);
  assert.throws(() => withStream(newStream('cpu'), 'not a function'), TypeError);
  assert.throws(() => add(zeros([1]), zeros([1]), {}), TypeError);
  // A Stream cannot be forged from JS.
  assert.throws(() => new Stream(), Error);
  if (!HAS_GPU) {
    assert.throws(() => newStream('gpu'), (e) => /\[device\]/.test(e.message) && /Device\(gpu, 0\)/.test(e.message));
    assert.throws(() => device('gpu', 3), /not available/);
    // Every way of asking for the GPU says so.
    for (const ask of [() => withStream('gpu', () => 1), () => defaultStream('gpu'), () => setDefaultDevice('gpu'), () => zeros([1], 'float32', 'gpu')]) {
      assert.throws(ask, (e) => /Device\(gpu, 0\) is not available/.test(e.message));
    }
  }
  assert.equal(add(zeros([1]), 1).item(), 1);
});

test('asyncEval skips values that are not arrays and walks arrays and objects', async () => {
  await asyncEval('not an array', 3, [array([1], [1])]);
  const x = array([2], [1], 'float32');
  await asyncEval({ a: x, b: [x] });
  assert.equal(x.item(), 2);
});

test('integers past int32 are int64, as in MLX; past int64 they are refused without a dtype', () => {
  // Before: int32, so 1e10 read back as 1410065408 and [2**40, 1] as [0, 1].
  const big = array(1e10);
  assert.equal(big.dtype, 'int64');
  assert.equal(big.item(), 1e10);
  const mixed = array([2 ** 40, -(2 ** 31) - 1, 7]);
  assert.equal(mixed.dtype, 'int64');
  assert.deepEqual(mixed.tolist(), [2 ** 40, -(2 ** 31) - 1, 7]);
  assert.equal(array([2 ** 31 - 1, -(2 ** 31)]).dtype, 'int32');
  assert.throws(() => array([1, 2 ** 64]), (e) => e instanceof RangeError && /does not fit in int64/.test(e.message));
  const asFloat = array([1, 2 ** 64], 'float64');
  assert.deepEqual(asFloat.tolist(), [1, 2 ** 64]);
});

test('axes and device indices that are not integers are refused, naming the argument', () => {
  const a = array([[1, 2, 3], [4, 5, 6]], 'float32');
  // Before: NaN reached Rust as 0 and 1.9 as 1, so these reduced or permuted silently.
  for (const [f, what] of [
    [() => sum(a, NaN), /\[sum\] axis/],
    [() => sum(a, 1.9), /\[sum\] axis/],
    [() => mean(a, [0, 0.5]), /\[mean\] axis/],
    [() => transpose(a, [NaN, 1]), /\[transpose\] axes/],
    [() => transpose(a, 'x'), /\[transpose\] axes/],
  ]) {
    assert.throws(f, (e) => e instanceof TypeError && what.test(e.message));
  }
  assert.throws(() => device('cpu', -1), (e) => e instanceof RangeError && /\[device\] index/.test(e.message));
  assert.throws(() => device('cpu', 0.5), RangeError);
  assert.deepEqual(sum(a, 1).tolist(), [6, 15]);
  assert.deepEqual(transpose(a, [1, 0]).tolist(), [[1, 4], [2, 5], [3, 6]]);
});

test('arguments of the wrong type name the call that got them', () => {
  const a = array([[1, 2], [3, 4]], 'float32');
  // Before: napi's bare "Failed to convert napi value into rust type `bool`" and the like.
  assert.throws(() => sum(a, 0, 'yes'), (e) => e instanceof TypeError && /^\[sum\] keepdims must be a boolean/.test(e.message));
  assert.throws(() => astype(a, 5), (e) => e instanceof TypeError && /^\[astype\] /.test(e.message));
  assert.throws(() => full([2], 1, 7), (e) => e instanceof TypeError && /^\[full\] /.test(e.message));
  assert.throws(() => sum(a, '1'), (e) => e instanceof TypeError && /^\[sum\] axis/.test(e.message));
});

test('the negative-of-bool message points to a function this package exports', async () => {
  const rill = await import('rill');
  assert.throws(() => negative(array([true, false])), (e) => /use logicalNot/.test(e.message) && typeof rill[e.message.match(/use (\w+)/)[1]] === 'function');
  assert.deepEqual(rill.logicalNot(array([true, false])).tolist(), [false, true]);
});

test('64-bit integers read back exactly as BigInts on request', () => {
  const v = [2n ** 60n + 1n, -(2n ** 62n) - 3n, 7n];
  const a = array(BigInt64Array.from(v), [3]);
  assert.equal(a.dtype, 'int64');
  assert.deepEqual(a.tolist({ bigint: true }), v);
  assert.equal(array(BigInt64Array.from([v[0]]), [1]).item({ bigint: true }), v[0]);
  const u = array(BigUint64Array.from([2n ** 64n - 1n, 5n]), [2]);
  assert.deepEqual(u.tolist({ bigint: true }), [2n ** 64n - 1n, 5n]);
  // Numbers stay the default (as before); other dtypes ignore the option.
  assert.deepEqual(a.tolist()[2], 7);
  assert.deepEqual(array([1.5, 2], 'float32').tolist({ bigint: true }), [1.5, 2]);
  assert.throws(() => a.tolist({ bigint: 'yes' }), (e) => e instanceof TypeError && /\[tolist\] options/.test(e.message));
});

test('-0 beside an array is a float zero and keeps its sign', () => {
  // It was typed as the integer 0: x / -0 gave +Infinity for a positive x.
  const x = array([1, -2], 'float32');
  assert.deepEqual(divide(x, -0).tolist(), [-Infinity, Infinity]);
  assert.ok(Object.is(multiply(x, -0).tolist()[0], -0));
  const i = array([3, -1], 'int32');
  assert.equal(multiply(i, -0).dtype, 'float32');
  assert.equal(multiply(i, 0).dtype, 'int32');
});

test('tolist keeps dims of length zero', () => {
  assert.deepEqual(zeros([3, 0]).tolist(), [[], [], []]);
  assert.deepEqual(zeros([2, 0, 3]).tolist(), [[], []]);
  assert.deepEqual(zeros([0, 2]).tolist(), []);
  assert.deepEqual(zeros([2, 3, 0]).tolist(), [[[], [], []], [[], [], []]]);
  assert.deepEqual(array([[1, 2], [3, 4]], 'int32').tolist(), [[1, 2], [3, 4]]);
});

test('a nested array that contains itself is refused instead of recursing forever', () => {
  const x = [];
  x.push(x);
  assert.throws(() => array(x), (e) => e instanceof TypeError && /contains itself/.test(e.message));
  const a = [];
  const b = [a];
  a.push(b);
  assert.throws(() => array(a), /contains itself/);
});

test('arange of integers past int32 is int64, as in Python', () => {
  const r = arange(2 ** 31 - 1, 2 ** 31 + 2);
  assert.equal(r.dtype, 'int64');
  assert.deepEqual(r.tolist(), [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1]);
  assert.equal(arange(-(2 ** 31), 0, 2 ** 30).dtype, 'int32');
  assert.equal(arange(5).dtype, 'int32');
});

test('grad refuses a repeated argument index', () => {
  const f = (a, b) => sum(multiply(a, b));
  assert.throws(() => grad(f, [0, 0])(array([1, 2], 'float32'), array([3, 4], 'float32')),
    (e) => e instanceof RangeError && /Duplicate argument index/.test(e.message));
  const [ga, gb] = grad(f, [0, 1])(array([1, 2], 'float32'), array([3, 4], 'float32'));
  assert.deepEqual(ga.tolist(), [3, 4]);
  assert.deepEqual(gb.tolist(), [1, 2]);
});
