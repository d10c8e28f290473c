// Scopes: withStream across await, concurrent async scopes, nesting with streamContext.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  array, add, multiply, newStream, defaultStream, withStream, core, asyncEval, streamContext,
} from 'rill';

test('async withStream keeps its stream across await, beside a concurrent one', async () => {
  const s1 = newStream('cpu');
  const s2 = newStream('cpu');
  const outside = defaultStream();
  const log = [];
  const job = (s, name, delays) =>
    withStream(s, async () => {
      let x = array([1, 2, 3], [3], 'float32');
      for (const d of delays) {
        // Interleave: each await lets the other job run with its own stream.
        await sleep(d);
        log.push(name);
        assert.ok(defaultStream().equals(s), `${name}: defaultStream() after await`);
        x = add(multiply(x, 2), 1);
        assert.ok(x.stream.equals(s), `${name}: op stream after await`);
        await asyncEval(x);
      }
      return x;
    });
  const [r1, r2] = await Promise.all([job(s1, 'a', [5, 1, 5, 1]), job(s2, 'b', [1, 5, 1, 5])]);
  // Both jobs ran interleaved, so each saw its own stream while the other was in flight.
  assert.notDeepEqual(log.slice(0, 4), ['a', 'a', 'a', 'a']);
  assert.ok(r1.stream.equals(s1) && r2.stream.equals(s2));
  // x -> 2x + 1 four times: 16x + 15.
  assert.deepEqual(r1.tolist(), [31, 47, 63]);
  assert.deepEqual(r2.tolist(), [31, 47, 63]);
  assert.ok(defaultStream().equals(outside));
});

test('a streamContext inside withStream applies there only; nested withStream wins', async () => {
  const s1 = newStream('cpu');
  const s2 = newStream('cpu');
  const s3 = newStream('cpu');
  const outside = defaultStream();
  await withStream(s1, async () => {
    const ctx = core.streamContext(s2);
    await sleep(1);
    assert.ok(defaultStream().equals(s2));
    withStream(s3, () => assert.ok(defaultStream().equals(s3)));
    ctx.exit();
    assert.ok(defaultStream().equals(s1));
  });
  assert.ok(defaultStream().equals(outside));
  const ctx = streamContext(s3);
  try {
    assert.ok(ctx.stream.equals(s3));
    assert.ok(array([1], [1], 'float32').stream.equals(s3));
  } finally {
    ctx[Symbol.dispose]();
  }
  assert.ok(defaultStream().equals(outside));
});

test('an explicit stream argument wins over the scope', () => {
  const s1 = newStream('cpu');
  const s2 = newStream('cpu');
  withStream(s1, () => {
    const a = array([1, 2], [2], 'float32');
    const c = add(a, a, s2);
    assert.ok(c.stream.equals(s2));
    assert.deepEqual(c.tolist(), [2, 4]);
    // A device argument means that device's default stream, which the scope has made s1.
    assert.ok(add(a, a, 'cpu').stream.equals(s1));
  });
});

test('a streamContext opened outside withStream applies to its own async flow only', async () => {
  const s = newStream('cpu');
  const outside = defaultStream();
  let release;
  const gate = new Promise((r) => { release = r; });
  // Started before the context is opened, and still running while it is open.
  const other = (async () => {
    await gate;
    return [defaultStream(), array([1], [1], 'float32').stream];
  })();
  const ctx = streamContext(s);
  await sleep(1);
  assert.ok(defaultStream().equals(s), 'the flow that opened it keeps it across await');
  release();
  const [seen, made] = await other;
  assert.ok(seen.equals(outside), 'a concurrent async function saw the context');
  assert.ok(made.equals(outside));
  ctx.exit();
  assert.ok(defaultStream().equals(outside));
});

test('contexts left open inside finished withStreams are gone with them', async () => {
  // They used to stay in a global list that every op scanned (50 000 of them made ops 10x
  // slower, issue 15). Shown without timing: nothing keeps such a context, or its stream, alive.
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const outside = defaultStream();
  const refs = [];
  for (let i = 0; i < 20; i++) {
    withStream(newStream('cpu'), () => {
      const s = newStream('cpu');
      refs.push(new WeakRef(s));
      streamContext(s); // never exited
      assert.ok(defaultStream().equals(s));
    });
  }
  assert.ok(defaultStream().equals(outside));
  assert.ok(add(array([1], [1], 'float32'), 1).stream.equals(outside));
  for (let round = 0; round < 10 && refs.some((r) => r.deref() !== undefined); round++) {
    await sleep(1); // WeakRefs let go of their targets only between jobs
    gc();
  }
  assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, 'left-open contexts are still held');
});
