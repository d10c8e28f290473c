// Saving and loading from Node: every file rill writes is read here by an independent reader
// written in this test (the .npy header and data, the zip archive of .npz with Node's own zlib for
// deflated members, the safetensors header, GGUF's header, metadata and tensor table), and files
// written here by hand load in rill.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import {
  add, array, transpose, zeros, save, savez, savezCompressed, saveSafetensors, saveGguf, load, newStream,
  setMemoryLimit,
  getActiveMemory,
} from 'rill';
import { prng, randomValues } from './helpers.mjs';

const DIR = mkdtempSync(join(tmpdir(), 'rill-io-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
const file = (name) => join(DIR, name);

// ------------------------------------------------------------------- independent readers

// A .npy file's header dict (as text) and its data bytes.
function readNpy(bytes) {
  assert.deepEqual([...bytes.subarray(0, 6)], [0x93, ...Buffer.from('NUMPY')]);
  const major = bytes[6];
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.subarray(start, start + headerLen).toString('latin1');
  return { header, data: bytes.subarray(start + headerLen) };
}

// The members of a zip archive, by their local headers: name -> { method, data }.
function readZip(bytes) {
  const members = {};
  let at = 0;
  while (bytes.readUInt32LE(at) === 0x04034b50) {
    const flags = bytes.readUInt16LE(at + 6);
    assert.equal(flags & 8, 0, 'sizes are in the local header');
    const method = bytes.readUInt16LE(at + 8);
    const size = bytes.readUInt32LE(at + 18);
    const nameLen = bytes.readUInt16LE(at + 26);
    const extraLen = bytes.readUInt16LE(at + 28);
    const name = bytes.subarray(at + 30, at + 30 + nameLen).toString('utf8');
    const dataAt = at + 30 + nameLen + extraLen;
    members[name] = { method, data: bytes.subarray(dataAt, dataAt + size) };
    at = dataAt + size;
  }
  return members;
}

// A safetensors file's header (JSON) and its data bytes.
function readSafetensors(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')), data: bytes.subarray(8 + n) };
}

// A GGUF file: its version, metadata ({ key: { type, value } }) and tensors ({ name: { dims
// (innermost first), type, bytes } }), read by the format's layout (little-endian throughout).
function readGguf(bytes) {
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'GGUF');
  let at = 4;
  const u32 = () => { at += 4; return bytes.readUInt32LE(at - 4); };
  const u64 = () => { at += 8; return Number(bytes.readBigUInt64LE(at - 8)); };
  const str = () => { const n = u64(); at += n; return bytes.subarray(at - n, at).toString('utf8'); };
  const scalar = { 0: [1, 'readUInt8'], 1: [1, 'readInt8'], 2: [2, 'readUInt16LE'], 3: [2, 'readInt16LE'],
    4: [4, 'readUInt32LE'], 5: [4, 'readInt32LE'], 6: [4, 'readFloatLE'], 7: [1, 'readUInt8'],
    10: [8, 'readBigUInt64LE'], 11: [8, 'readBigInt64LE'], 12: [8, 'readDoubleLE'] };
  const value = (type) => {
    if (type === 8) return str();
    if (type === 9) {
      const t = u32();
      return Array.from({ length: u64() }, () => value(t));
    }
    const [n, read] = scalar[type];
    at += n;
    return bytes[read](at - n);
  };
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const metadata = {};
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const type = u32();
    metadata[key] = { type, value: value(type) };
  }
  const infos = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const dims = Array.from({ length: u32() }, u64);
    infos.push({ name, dims, type: u32(), offset: u64() });
  }
  const dataStart = Math.ceil(at / 32) * 32;
  const size = { 0: 4, 1: 2, 24: 1, 25: 2, 26: 4, 27: 8, 28: 8, 30: 2 };
  const tensors = {};
  for (const t of infos) {
    const start = dataStart + t.offset;
    const n = t.dims.reduce((a, b) => a * b, 1) * size[t.type];
    tensors[t.name] = { dims: t.dims, type: t.type, offset: t.offset, bytes: bytes.subarray(start, start + n) };
  }
  return { version, metadata, tensors };
}

// The .npy bytes of a header dict and data, padded as NumPy pads them (to 64 bytes).
function npyBytes(dict, data) {
  let header = dict;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

const f32Bytes = (values) => Buffer.from(new Float32Array(values).buffer);

// --------------------------------------------------------------------------------- tests

test('save writes a .npy file that an independent reader reads back exactly', () => {
  const x = randomValues(prng(31), 12);
  save(file('a.npy'), array(x, [3, 4], 'float32'));
  const { header, data } = readNpy(readFileSync(file('a.npy')));
  assert.match(header, /'descr': '<f4'/);
  assert.match(header, /'fortran_order': False/);
  assert.match(header, /'shape': \(3, 4\)/);
  assert.deepEqual(data, f32Bytes(x));
  // A transposed view is written in row-major order of its own shape.
  save(file('t.npy'), transpose(array(x, [3, 4], 'float32')));
  const t = readNpy(readFileSync(file('t.npy')));
  assert.match(t.header, /'shape': \(4, 3\)/);
  const want = [];
  for (let j = 0; j < 4; j++) for (let i = 0; i < 3; i++) want.push(x[i * 4 + j]);
  assert.deepEqual(t.data, f32Bytes(want));
});

test('save adds .npy to a path without it, and takes a file URL', () => {
  save(file('noext'), array([1, 2, 3], 'int32'));
  assert.ok(existsSync(file('noext.npy')));
  save(pathToFileURL(file('url.npy')), array([7], 'int32'));
  assert.deepEqual(load(pathToFileURL(file('url.npy'))).tolist(), [7]);
});

test('load reads .npy files written by hand: float64, big-endian int16, Fortran order', () => {
  const v = [1.5, -2.25, 3e10, -4e-10, 0.5, 6];
  writeFileSync(file('f8.npy'), npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", new Float64Array(v)));
  const a = load(file('f8.npy'));
  assert.equal(a.dtype, 'float64');
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual(a.tolist(), [v.slice(0, 3), v.slice(3)]);

  const be = Buffer.alloc(8);
  [-3, 300, 32767, -32768].forEach((x, i) => be.writeInt16BE(x, 2 * i));
  writeFileSync(file('be.npy'), npyBytes("{'descr': '>i2', 'fortran_order': False, 'shape': (4,), }", be));
  const b = load(file('be.npy'));
  assert.equal(b.dtype, 'int16');
  assert.deepEqual(b.tolist(), [-3, 300, 32767, -32768]);

  // Column-major (2, 3): the file holds columns one after another.
  writeFileSync(file('fo.npy'), npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", new Float32Array([1, 4, 2, 5, 3, 6])));
  assert.deepEqual(load(file('fo.npy')).tolist(), [[1, 2, 3], [4, 5, 6]]);
});

test('savez writes stored .npy members under their names (lists as arr_0, arr_1, ...)', () => {
  const x = randomValues(prng(32), 6);
  savez(file('named.npz'), { weights: array(x, [2, 3], 'float32'), step: array([5], 'int64') });
  const members = readZip(readFileSync(file('named.npz')));
  assert.deepEqual(Object.keys(members).sort(), ['step.npy', 'weights.npy']);
  assert.equal(members['weights.npy'].method, 0);
  assert.deepEqual(readNpy(members['weights.npy'].data).data, f32Bytes(x));
  assert.match(readNpy(members['step.npy'].data).header, /'descr': '<i8'/);

  savez(file('list'), [array([1, 2], 'int32'), array([3.5], 'float32')]);
  const loaded = load(file('list.npz'));
  assert.deepEqual(Object.keys(loaded).sort(), ['arr_0', 'arr_1']);
  assert.deepEqual(loaded.arr_0.tolist(), [1, 2]);
  assert.deepEqual(loaded.arr_1.tolist(), [3.5]);
});

test('savezCompressed deflates each member; Node\'s zlib inflates them to the same .npy bytes', () => {
  const x = randomValues(prng(33), 1000).map((v) => Math.fround(Math.round(v * 4) / 4));
  savezCompressed(file('c.npz'), { x: array(x, [1000], 'float32') });
  const { method, data } = readZip(readFileSync(file('c.npz')))['x.npy'];
  assert.equal(method, 8);
  assert.deepEqual(readNpy(inflateRawSync(data)).data, f32Bytes(x));
  assert.deepEqual(load(file('c.npz')).x.tolist(), x);
});

test('saveSafetensors writes the header and data a reader expects, with metadata', () => {
  const x = randomValues(prng(34), 4);
  saveSafetensors(file('m'), { w: array(x, [2, 2], 'float32'), n: array([1, -2, 3], 'int32') }, { step: '7' });
  const { header, data } = readSafetensors(readFileSync(file('m.safetensors')));
  assert.deepEqual(header.__metadata__, { step: '7' });
  assert.equal(header.w.dtype, 'F32');
  assert.deepEqual(header.w.shape, [2, 2]);
  const [b, e] = header.w.data_offsets;
  assert.deepEqual(data.subarray(b, e), f32Bytes(x));
  assert.equal(header.n.dtype, 'I32');

  const [arrays, meta] = load(file('m.safetensors'), undefined, true);
  assert.deepEqual(meta, { step: '7' });
  assert.deepEqual(arrays.n.tolist(), [1, -2, 3]);
  assert.deepEqual(arrays.w.tolist(), [x.slice(0, 2), x.slice(2)]);
});

test('load reads a safetensors file written by hand, bfloat16 included', () => {
  // bfloat16 is the high half of a float32: 1.5 -> 0x3fc0, -2 -> 0xc000.
  const bf = Buffer.from([0xc0, 0x3f, 0x00, 0xc0]);
  const header = JSON.stringify({ h: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(file('bf.safetensors'), Buffer.concat([len, Buffer.from(header), bf]));
  const { h } = load(file('bf.safetensors'));
  assert.equal(h.dtype, 'bfloat16');
  assert.deepEqual(h.tolist(), [1.5, -2]);
});

test('saveGguf writes the header, metadata, tensor table and data a reader expects', () => {
  const x = randomValues(prng(35), 6);
  saveGguf(file('g'), { w: array(x, [2, 3], 'float32'), n: array([1, -2, 3], 'int16') }, {
    name: 'tiny', tokens: ['a', 'bc'], layers: array(4, 'uint32'), ids: array([5, -6], 'int32'),
  });
  const { version, metadata, tensors } = readGguf(readFileSync(file('g.gguf')));
  assert.equal(version, 3);
  assert.deepEqual(metadata, {
    name: { type: 8, value: 'tiny' }, tokens: { type: 9, value: ['a', 'bc'] },
    layers: { type: 4, value: 4 }, ids: { type: 9, value: [5, -6] },
  });
  // Dims innermost first: a (2, 3) array is [3, 2].
  assert.deepEqual([tensors.w.dims, tensors.w.type], [[3, 2], 0]);
  assert.deepEqual(tensors.w.bytes, f32Bytes(x));
  assert.deepEqual([tensors.n.dims, tensors.n.type, tensors.n.offset % 32], [[3], 25, 0]);
  assert.deepEqual([...new Int16Array(tensors.n.bytes.buffer.slice(tensors.n.bytes.byteOffset,
    tensors.n.bytes.byteOffset + 6))], [1, -2, 3]);

  const [arrays, meta] = load(file('g.gguf'), undefined, true);
  assert.deepEqual(Object.keys(arrays), ['w', 'n']);
  assert.deepEqual(arrays.w.tolist(), [x.slice(0, 3), x.slice(3)]);
  assert.deepEqual(arrays.n.tolist(), [1, -2, 3]);
  assert.deepEqual(Object.keys(meta), ['name', 'tokens', 'layers', 'ids']);
  assert.equal(meta.name, 'tiny');
  assert.deepEqual(meta.tokens, ['a', 'bc']);
  assert.deepEqual([meta.layers.dtype, meta.layers.shape, meta.layers.item()], ['uint32', [], 4]);
  assert.deepEqual([meta.ids.dtype, meta.ids.tolist()], ['int32', [5, -6]]);
  assert.throws(() => saveGguf(file('bad'), { w: array([1], 'float32') }, { k: 1 }), TypeError);
  assert.throws(() => saveGguf(file('bad'), { w: array([true], 'bool') }), /save_gguf.*dtype bool/);
});

test('load reads a GGUF file written by hand: reversed dims and a Q8_0 tensor as MLX loads it', () => {
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s) => { u64(Buffer.byteLength(s)); parts.push(Buffer.from(s)); };
  parts.push(Buffer.from('GGUF'));
  u32(3); u64(2); u64(1);
  str('general.name'); u32(8); str('hand');
  str('t'); u32(2); u64(3); u64(2); u32(0); u64(0);      // float32, dims [3, 2]: shape (2, 3)
  str('q.weight'); u32(1); u64(32); u32(8); u64(32);   // Q8_0, one block
  let head = Buffer.concat(parts);
  head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
  const block = Buffer.alloc(34);
  block.writeUInt16LE(0x3800, 0);                      // scale 0.5 (float16)
  for (let j = 0; j < 32; j++) block.writeInt8(j - 16, 2 + j);
  writeFileSync(file('hand.gguf'), Buffer.concat([head, f32Bytes([1, 2, 3, 4, 5, 6]), Buffer.alloc(8), block]));
  const [d, meta] = load(file('hand.gguf'), 'gguf', true);
  assert.deepEqual(meta, { 'general.name': 'hand' });
  assert.deepEqual(Object.keys(d), ['t', 'q.weight', 'q.scales', 'q.biases']);
  assert.deepEqual(d.t.tolist(), [[1, 2, 3], [4, 5, 6]]);
  // Unsigned weights (q + 128), four to a uint32; scale 0.5, bias -128 * 0.5.
  assert.deepEqual([d['q.weight'].dtype, d['q.weight'].shape], ['uint32', [8]]);
  const w = d['q.weight'].tolist();
  const bytesOf = Buffer.alloc(32);
  w.forEach((v, i) => bytesOf.writeUInt32LE(v, 4 * i));
  assert.deepEqual([...bytesOf], Array.from({ length: 32 }, (_, j) => j + 112));
  assert.deepEqual([d['q.scales'].dtype, d['q.scales'].tolist(), d['q.biases'].tolist()], ['float16', [0.5], [-64]]);
  writeFileSync(file('cut.gguf'), readFileSync(file('hand.gguf')).subarray(0, 60));
  assert.throws(() => load(file('cut.gguf')), (e) => /\[load\]/.test(e.message) && e.message.includes('cut.gguf'));
});

test('load puts its arrays on the stream it is given', () => {
  save(file('s.npy'), array([1, 2], 'float32'));
  const s = newStream('cpu');
  const a = load(file('s.npy'), undefined, false, s);
  assert.ok(a.stream.equals(s));
  assert.ok(load(file('s.npy'), s).stream.equals(s));
  assert.deepEqual(a.tolist(), [1, 2]);
});

test('bad files and arguments throw errors that name the op and the file', () => {
  assert.throws(() => load(file('missing.npy')), (e) => e instanceof Error && /\[load\]/.test(e.message) && e.message.includes('missing.npy'));
  const good = readFileSync(file('a.npy'));
  writeFileSync(file('cut.npy'), good.subarray(0, good.length - 5));
  assert.throws(() => load(file('cut.npy')), (e) => /\[load\]/.test(e.message) && e.message.includes('cut.npy'));
  writeFileSync(file('junk.npy'), Buffer.from('PK not a npy file at all'));
  assert.throws(() => load(file('junk.npy')), /magic/);
  assert.throws(() => load(file('a.npy'), 'tar'), (e) => e instanceof TypeError && /Unknown file format tar/.test(e.message));
  assert.throws(() => load(file('named.npz'), undefined, true), /metadata not supported for format npz/);
  // Refused before the file is read (as Python does): a damaged archive gives the same message.
  writeFileSync(file('junk.npz'), Buffer.from('PK not an archive'));
  assert.throws(() => load(file('junk.npz'), undefined, true), /metadata not supported for format npz/);
  assert.throws(() => load(file('junk.npy'), 'npy', true), /metadata not supported for format npy/);
  assert.throws(() => save(file('x.npy'), [1, 2]), TypeError);
  assert.throws(() => savez(file('x.npz'), { a: 1 }), /'a' must be an Array/);
  assert.throws(() => saveSafetensors(file('x'), { a: array([1], 'float32') }, { n: 1 }), /metadata/);
  assert.throws(() => load(42), TypeError);
});

test('a failed save leaves the file that was there, and no temporary file', () => {
  const before = readFileSync(file('a.npy'));
  // An array whose computation fails (past the memory limit): the save fails before it writes.
  const old = setMemoryLimit(getActiveMemory() + (1 << 20));
  try {
    const big = add(zeros([1 << 22], 'float32'), 1);
    assert.throws(() => save(file('a.npy'), big), /memory/i);
  } finally {
    setMemoryLimit(old);
  }
  assert.deepEqual(readFileSync(file('a.npy')), before);
  // A target that cannot be replaced (a directory): the rename fails, the temporary file goes.
  mkdirSync(file('dir.npy'));
  const listing = readdirSync(DIR).sort();
  assert.throws(() => save(file('dir.npy'), array([1], 'float32')), /dir\.npy/);
  assert.deepEqual(readdirSync(DIR).sort(), listing);
});

test('complex64 arrays read back whole: tolist and item give { re, im }, toString shows a+bj', () => {
  const parts = [1.5, -2, 0, 0.25, -3, 4e-3, 7, -0];
  writeFileSync(file('c8.npy'), npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }", new Float32Array(parts)));
  const z = load(file('c8.npy'));
  assert.equal(z.dtype, 'complex64');
  const f32 = (x) => Math.fround(x);
  const c = (i) => ({ re: f32(parts[2 * i]), im: f32(parts[2 * i + 1]) });
  assert.deepEqual(z.tolist(), [[c(0), c(1)], [c(2), c(3)]]);
  assert.deepEqual([...z.toComplexParts()], parts.map(f32));
  assert.deepEqual(z.reshape([4]).tolist()[2], c(2));
  const one = z.reshape([4]).tolist()[0];
  assert.equal(`${one.re}${one.im < 0 ? '-' : '+'}${Math.abs(one.im)}j`, '1.5-2j');
  assert.equal(z.toString(), `array([[1.5-2j, 0+0.25j], [-3+${f32(4e-3)}j, 7-0j]], dtype=complex64)`);
  writeFileSync(file('c0.npy'), npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (), }", new Float32Array([-0.5, 8])));
  assert.deepEqual(load(file('c0.npy')).item(), { re: -0.5, im: 8 });
  assert.throws(() => array([1, 2], [2], 'float32').toComplexParts(), TypeError);
});
