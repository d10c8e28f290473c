// Every example of the Node seed (MLX for Node's "Devices and Streams"), with `from 'rill'` in
// place of `from 'mlx.node'`. Where an example asks for the GPU and this machine has none, the
// test checks that the request throws a clear error and runs the example on a CPU stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import {
  array, add, multiply, core, device, defaultStream, newStream, setDefaultStream,
  synchronize, withStream, streaming, Stream, Device, defaultDevice,
} from 'rill';
import { HAS_GPU, gpuOrCpu, gpuStream, assertGpuRefused } from './helpers.mjs';

test('Devices: operations run on the default device', () => {
  const a = array([1, 2, 3], [3], 'float32');
  const b = array([4, 5, 6], [3], 'float32');
  const c = add(a, b); // Executes on Metal GPU (here: the default device)
  assert.deepEqual(c.tolist(), [5, 7, 9]);
  assert.equal(c.dtype, 'float32');
  assert.deepEqual(c.shape, [3]);
  assert.equal(String(c.stream.device), HAS_GPU ? 'gpu' : 'cpu');
  assert.equal(String(defaultDevice()), HAS_GPU ? 'gpu' : 'cpu');
});

test('Device function: core.device', () => {
  const cpu = core.device('cpu');
  assert.ok(cpu instanceof Device);
  assert.equal(cpu.type, 'cpu');
  assert.equal(cpu.index, 0);
  if (HAS_GPU) {
    assert.equal(core.device('gpu').type, 'gpu');
  } else {
    assertGpuRefused(() => core.device('gpu'));
  }
  assert.throws(() => core.device('tpu'), TypeError);
});

test('Default stream', () => {
  const stream = defaultStream();
  assert.ok(stream instanceof Stream);
  assert.ok(stream.device.equals(defaultDevice()));
  assert.ok(defaultStream().equals(stream));
});

test('Creating new streams', () => {
  if (!HAS_GPU) assertGpuRefused(() => newStream(device('gpu')));
  const gpu = device(gpuOrCpu());
  const stream1 = newStream(gpu);
  const stream2 = newStream(gpu);
  assert.ok(!stream1.equals(stream2));
  assert.ok(stream1.device.equals(gpu) && stream2.device.equals(gpu));
  assert.ok(!stream1.equals(defaultStream()));
});

test('Setting the default stream', () => {
  if (!HAS_GPU) assertGpuRefused(() => newStream('gpu'));
  const before = defaultStream();
  const customStream = newStream(gpuOrCpu());
  setDefaultStream(customStream);
  try {
    assert.ok(defaultStream().equals(customStream));
    const c = add(array([1, 2], [2], 'float32'), array([3, 4], [2], 'float32'));
    assert.ok(c.stream.equals(customStream));
    assert.deepEqual(c.tolist(), [4, 6]);
  } finally {
    setDefaultStream(before);
  }
  assert.ok(defaultStream().equals(before));
});

test('Synchronization', () => {
  const stream = gpuStream();
  const a = array([1, 2, 3], [3], 'float32');
  const b = array([4, 5, 6], [3], 'float32');
  const c = add(a, b);
  synchronize(stream); // Wait for operations to complete
  synchronize(); // every stream
  assert.deepEqual(c.tolist(), [5, 7, 9]);
  // Work submitted to the stream is done once synchronize(stream) returns.
  const d = withStream(stream, () => multiply(c, c));
  core.asyncEval(d);
  synchronize(stream);
  assert.equal(d.isAvailable, true);
  assert.deepEqual(d.tolist(), [25, 49, 81]);
});

test('Stream contexts: core.streamContext', () => {
  const stream1 = gpuStream();
  const stream2 = gpuStream();
  const outside = defaultStream();

  // Operations on stream1
  const ctx1 = core.streamContext(stream1);
  const a = core.array([1, 2, 3], [3], 'float32');
  assert.ok(a.stream.equals(stream1));
  assert.ok(defaultStream().equals(stream1));

  // Switch to stream2
  const ctx2 = core.streamContext(stream2);
  const b = core.array([4, 5, 6], [3], 'float32');
  assert.ok(b.stream.equals(stream2));
  const c = add(a, b);
  assert.ok(c.stream.equals(stream2));
  assert.deepEqual(c.tolist(), [5, 7, 9]);

  ctx2.exit();
  assert.ok(defaultStream().equals(stream1));
  ctx1[Symbol.dispose]();
  assert.ok(defaultStream().equals(outside));
  assert.ok(array([1], [1], 'float32').stream.equals(outside));
});

test('withStream(stream, fn)', () => {
  const customStream = gpuStream();
  const result = withStream(customStream, () => {
    const a = array([1, 2, 3], [3], 'float32');
    const b = array([4, 5, 6], [3], 'float32');
    return add(a, b);
  });
  assert.ok(result.stream.equals(customStream));
  assert.deepEqual(result.tolist(), [5, 7, 9]);
  assert.ok(!defaultStream().equals(customStream));
});

test('The Stream class: stream.device', () => {
  if (!HAS_GPU) assertGpuRefused(() => newStream('gpu'));
  const stream = newStream(gpuOrCpu());
  // console.log(stream.device) prints 'gpu' (here 'cpu' without a GPU).
  assert.equal(inspect(stream.device), gpuOrCpu());
  assert.equal(`${stream.device}`, gpuOrCpu());
  assert.equal(stream.device.type, gpuOrCpu());
});

test('Use case: overlapping operations', () => {
  const stream1 = gpuStream();
  const stream2 = gpuStream();

  // Start computation on stream1
  const result1 = withStream(stream1, () => {
    const a = array([1, 2, 3], [3], 'float32');
    const b = array([4, 5, 6], [3], 'float32');
    return add(a, b);
  });

  // Concurrently compute on stream2
  const result2 = withStream(stream2, () => {
    const c = array([7, 8, 9], [3], 'float32');
    const d = array([10, 11, 12], [3], 'float32');
    return multiply(c, d);
  });

  assert.ok(result1.stream.equals(stream1));
  assert.ok(result2.stream.equals(stream2));
  core.eval(result1, result2);
  assert.deepEqual(result1.tolist(), [5, 7, 9]);
  assert.deepEqual(result2.tolist(), [70, 88, 108]);
});

test('Use case: React/Next.js integration (SSE response)', async () => {
  // Create a dedicated stream for SSE responses
  const inferenceStream = gpuStream();
  const seen = [];

  async function* generateTokens() {
    await withStream(inferenceStream, async () => {
      // Model inference operations on dedicated stream
      const x = array([1, 2, 3], [3], 'float32');
      await core.asyncEval(x);
      const y = multiply(x, x);
      seen.push(y.stream.equals(inferenceStream) && defaultStream().equals(inferenceStream));
      seen.push(y.tolist());
    });
  }

  // In a Next.js route handler
  async function GET() {
    return streaming.eventStreamResponse(generateTokens());
  }

  const response = await GET();
  assert.ok(response instanceof Response);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(await response.text(), ''); // the generator yields nothing
  assert.deepEqual(seen, [true, [1, 4, 9]]);
});
