// The shared table of scalars meeting arrays (tests/cases/scalars.json, made from real MLX's
// results and also run from Python): Node's operators follow the same rule, from the same code in
// the core, and an integer that the dtype cannot hold throws RangeError instead of wrapping.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { array, add, full, maximum } from 'rill';

const tableText = readFileSync(new URL('../../tests/cases/scalars.json', import.meta.url), 'utf8');
const { cases } = JSON.parse(tableText);

// A JS number is a float64, and JSON.parse rounds an integer it cannot hold without a word: the
// test would then check another case than the table's. Every integer scalar written in the table
// must therefore be exact as a number (2**53 and 2**63 are; 2**53 + 1 would not be).
test('every integer scalar of the table is exact as a JS number', () => {
  const literals = [...tableText.matchAll(/"scalar":\s*(-?\d+)\s*[,}]/g)].map((m) => m[1]);
  assert.ok(literals.length > 100);
  for (const text of literals) {
    assert.equal(BigInt(Number(text)), BigInt(text), `table scalar ${text} is not exact as a JS number`);
  }
});

test('array + scalar follows the shared table', () => {
  let checked = 0;
  for (const c of cases) {
    const a = array(c.values, c.dtype);
    const name = `${c.dtype} + ${c.scalar}`;
    if (c.expect === 'overflow') {
      assert.throws(() => add(a, c.scalar), (e) => e instanceof RangeError && /overflow/.test(e.message), name);
    } else {
      const r = add(a, c.scalar);
      assert.equal(r.dtype, c.expect, name);
      if (c.result !== null) {
        const got = r.tolist().map(Number);
        c.result.forEach((v, i) => {
          const want = Number(v);
          // Infinities are strings in the table ("Infinity"), which Number() reads.
          assert.ok(got[i] === want || Math.abs(got[i] - want) <= 1e-6 * Math.abs(want), `${name}: ${got} vs ${c.result}`);
        });
      }
    }
    checked += 1;
  }
  assert.equal(checked, cases.length);
  assert.ok(checked >= 300);
});

test('the overflow error names the value and the dtype, for every binary op', () => {
  const a = array([1, 2], 'uint8');
  assert.throws(() => add(a, 300), /Converting 300 to uint8 would result in overflow/);
  assert.throws(() => maximum(a, -1), RangeError);
  assert.throws(() => add(a, 2 ** 70), RangeError);
});

test('an integer fill that does not fit the dtype throws', () => {
  assert.throws(() => full([2], 1000, 'int8'), /Converting 1000 to int8/);
  assert.deepEqual(full([2], -128, 'int8').tolist(), [-128, -128]);
  assert.deepEqual(full([2], 2.5, 'int8').tolist(), [2, 2]);
});
