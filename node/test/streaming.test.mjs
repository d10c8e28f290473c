// streaming.eventStreamResponse: a WHATWG Response with one SSE event per yielded value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { array, streaming, withStream, newStream, add, asyncEval, defaultStream } from 'rill';

test('each yielded value becomes a data: event', async () => {
  async function* tokens() {
    yield 'hello';
    yield { token: 'world', index: 1 };
    yield 'two\nlines';
    yield array([1.5, 2], [2], 'float32');
  }
  const res = streaming.eventStreamResponse(tokens());
  assert.ok(res instanceof Response);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const text = await res.text();
  assert.equal(
    text,
    'data: hello\n\n' +
      'data: {"token":"world","index":1}\n\n' +
      'data: two\ndata: lines\n\n' +
      'data: [1.5,2]\n\n',
  );
});

test('values are pulled as the body is read, from work on a dedicated stream', async () => {
  const s = newStream('cpu');
  let produced = 0;
  async function* gen() {
    for (let i = 1; i <= 3; i++) {
      const v = await withStream(s, async () => {
        const x = add(array([i], [1], 'float32'), 10);
        await asyncEval(x);
        assert.ok(defaultStream().equals(s));
        return x.item();
      });
      produced++;
      yield `token ${v}`;
    }
  }
  const res = streaming.eventStreamResponse(gen(), { headers: { 'x-model': 'tiny' } });
  assert.equal(res.headers.get('x-model'), 'tiny');
  const reader = res.body.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), 'data: token 11\n\n');
  assert.ok(produced < 3, 'the generator runs ahead only as the body is read');
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += new TextDecoder().decode(value);
  }
  assert.equal(rest, 'data: token 12\n\ndata: token 13\n\n');
  assert.equal(produced, 3);
});

test('an error in the source errors the body', async () => {
  async function* bad() {
    yield 'ok';
    throw new Error('model failed');
  }
  const res = streaming.eventStreamResponse(bad());
  await assert.rejects(res.text(), /model failed/);
  assert.throws(() => streaming.eventStreamResponse(42), TypeError);
});

test('a value that cannot be sent errors the body and closes the source (its finally runs)', async () => {
  const circular = { name: 'loop' };
  circular.self = circular;
  for (const [bad, message] of [[{ n: 10n }, /BigInt/], [circular, /circular/]]) {
    let cleaned = false;
    async function* gen() {
      try {
        yield 'first';
        yield bad;
        yield 'never sent';
      } finally {
        cleaned = true;
      }
    }
    const res = streaming.eventStreamResponse(gen());
    await assert.rejects(res.text(), message);
    assert.equal(cleaned, true, 'the generator was left open');
  }
});

test('arrays nested in objects are sent as their values', async () => {
  function* gen() {
    yield { t: array([1, 2.5], [2], 'float32'), meta: { m: array([[1, 2], [3, 4]], [2, 2], 'int32') } };
  }
  const text = await streaming.eventStreamResponse(gen()).text();
  assert.equal(text, 'data: {"t":[1,2.5],"meta":{"m":[[1,2],[3,4]]}}\n\n');
});
