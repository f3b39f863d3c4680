// Tests for the safetensors reader/writer: round trips of every dtype, a
// byte-exact golden file, float16/bfloat16 conversions, and one test per kind
// of malformed file, checking what the error message says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  f32Tensor, float32ToBF16, float32ToF16, parseSafetensors, readSafetensors, serializeSafetensors,
  SafetensorsError, toFloat32, writeSafetensors, type SafeDType, type SafeTensor,
} from '../src/models/safetensors.js';

const enc = new TextEncoder();

/** Builds a file from a header (object or raw JSON text) and the data section. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0), declaredLength?: number): Uint8Array {
  const json = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

function throwsWith(fn: () => unknown, ...parts: Array<string | RegExp>): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SafetensorsError, `expected SafetensorsError, got ${String(err)}`);
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(p)}`);
      else assert.match(err.message, p);
    }
    return true;
  });
}

function bytesOf(values: ArrayLike<number>, kind: 'u8' | 'i8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64' | 'u16'): Uint8Array {
  const size = { u8: 1, i8: 1, i16: 2, u16: 2, i32: 4, i64: 8, f32: 4, f64: 8 }[kind];
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    switch (kind) {
      case 'u8': dv.setUint8(i, v); break;
      case 'i8': dv.setInt8(i, v); break;
      case 'i16': dv.setInt16(2 * i, v, true); break;
      case 'u16': dv.setUint16(2 * i, v, true); break;
      case 'i32': dv.setInt32(4 * i, v, true); break;
      case 'i64': dv.setBigInt64(8 * i, BigInt(v), true); break;
      case 'f32': dv.setFloat32(4 * i, v, true); break;
      case 'f64': dv.setFloat64(8 * i, v, true); break;
    }
  }
  return out;
}

const F32_ENTRY = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

test('round trip of every dtype, in memory and through a file', async () => {
  const samples: Array<[string, SafeTensor]> = [
    ['f32', { dtype: 'F32', shape: [2, 2], data: bytesOf([1, -2.5, 3.25, 1e-20], 'f32') }],
    ['f16', { dtype: 'F16', shape: [3], data: bytesOf([0x3c00, 0xc100, 0x7bff], 'u16') }],
    ['bf16', { dtype: 'BF16', shape: [3], data: bytesOf([0x3f80, 0xc020, 0x4780], 'u16') }],
    ['f64', { dtype: 'F64', shape: [2], data: bytesOf([0.5, -1e300], 'f64') }],
    ['i64', { dtype: 'I64', shape: [2], data: bytesOf([-1, 2 ** 40], 'i64') }],
    ['i32', { dtype: 'I32', shape: [1, 3], data: bytesOf([-7, 0, 2 ** 31 - 1], 'i32') }],
    ['i16', { dtype: 'I16', shape: [2], data: bytesOf([-32768, 32767], 'i16') }],
    ['i8', { dtype: 'I8', shape: [3], data: bytesOf([-128, 0, 127], 'i8') }],
    ['u8', { dtype: 'U8', shape: [3], data: bytesOf([0, 128, 255], 'u8') }],
    ['bool', { dtype: 'BOOL', shape: [2], data: bytesOf([1, 0], 'u8') }],
  ];
  const bytes = serializeSafetensors(samples);
  const parsed = parseSafetensors(bytes, 'mem.safetensors');
  assert.equal(parsed.tensors.size, samples.length);
  for (const [name, t] of samples) {
    const got = parsed.tensors.get(name);
    assert.ok(got, name);
    assert.equal(got.dtype, t.dtype);
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual([...got.data], [...t.data], name);
  }
  assert.deepEqual([...toFloat32(parsed.tensors.get('f32')!, 'f32')], [1, -2.5, 3.25, Math.fround(1e-20)]);
  assert.deepEqual([...toFloat32(parsed.tensors.get('f16')!, 'f16')], [1, -2.5, 65504]);
  assert.deepEqual([...toFloat32(parsed.tensors.get('bf16')!, 'bf16')], [1, -2.5, 65536]);
  assert.deepEqual([...toFloat32(parsed.tensors.get('f64')!, 'f64')], [0.5, -Infinity]);
  throwsWith(() => toFloat32(parsed.tensors.get('i64')!, 'encoder.ids'), '"encoder.ids"', 'I64', 'F32, F16, BF16 and F64');

  const dir = await mkdtemp(join(tmpdir(), 'sk-safetensors-'));
  try {
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, new Map(samples), { format: 'pt' });
    assert.deepEqual(await readdir(dir), ['model.safetensors'], 'no temporary file is left behind');
    assert.deepEqual(new Uint8Array(await readFile(path)), serializeSafetensors(samples, { format: 'pt' }));
    const fromDisk = await readSafetensors(path);
    assert.deepEqual(fromDisk.metadata, { format: 'pt' });
    for (const [name, t] of samples) assert.deepEqual([...fromDisk.tensors.get(name)!.data], [...t.data]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('serialization is byte-exact: header order, metadata, padding', () => {
  const tensors: Array<[string, SafeTensor]> = [
    ['z', { dtype: 'I64', shape: [1], data: bytesOf([5], 'i64') }],
    ['b', { dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) }],
    ['h', { dtype: 'F16', shape: [1], data: bytesOf([0x3c00], 'u16') }],
    ['c', { dtype: 'F32', shape: [], data: bytesOf([2], 'f32') }],
    ['g', { dtype: 'BF16', shape: [1], data: bytesOf([0x3f80], 'u16') }],
    ['a', { dtype: 'F32', shape: [2], data: bytesOf([1, -1], 'f32') }],
  ];
  // Written by hand: tensors sorted by dtype alignment (I64 > F32 > BF16 > F16 > U8), then by name;
  // metadata keys sorted; 370 bytes of JSON padded with 6 spaces to 376 = 0x178.
  const header =
    '{"__metadata__":{"format":"pt","z_key":"1"},' +
    '"z":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
    '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
    '"c":{"dtype":"F32","shape":[],"data_offsets":[16,20]},' +
    '"g":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]},' +
    '"h":{"dtype":"F16","shape":[1],"data_offsets":[22,24]},' +
    '"b":{"dtype":"U8","shape":[3],"data_offsets":[24,27]}}' +
    '      ';
  const expected = Uint8Array.from([
    0x78, 0x01, 0, 0, 0, 0, 0, 0,
    ...enc.encode(header),
    5, 0, 0, 0, 0, 0, 0, 0, // z = 5 (I64)
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x80, 0xbf, // a = [1, -1]
    0x00, 0x00, 0x00, 0x40, // c = 2
    0x80, 0x3f, // g = 1 (bf16)
    0x00, 0x3c, // h = 1 (f16)
    1, 2, 3, // b
  ]);
  assert.deepEqual(serializeSafetensors(tensors, { z_key: '1', format: 'pt' }), expected);

  // The two single-tensor layouts from the reference implementation's own tests.
  const six = bytesOf([0, 1, 2, 3, 4, 5], 'f32');
  const one = serializeSafetensors(new Map([['attn.0', { dtype: 'F32' as const, shape: [1, 2, 3], data: six }]]));
  assert.deepEqual(one.subarray(0, 8), Uint8Array.of(64, 0, 0, 0, 0, 0, 0, 0));
  assert.equal(new TextDecoder().decode(one.subarray(8, 72)),
    '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
  assert.deepEqual(one.subarray(72), six);
  const empty = serializeSafetensors([], { framework: 'pt' });
  assert.equal(new TextDecoder().decode(empty.subarray(8)), '{"__metadata__":{"framework":"pt"}}     ');
  assert.deepEqual(serializeSafetensors([]), Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32));
});

test('serialization refuses inconsistent tensors', () => {
  throwsWith(() => serializeSafetensors([['w', { dtype: 'F32', shape: [3], data: new Uint8Array(8) }]]),
    '"w"', 'needs 12 bytes but data has 8');
  throwsWith(() => serializeSafetensors([['w', f32Tensor(new Float32Array(1), [1])], ['w', f32Tensor(new Float32Array(1), [1])]]),
    'appears twice');
  throwsWith(() => serializeSafetensors([['__metadata__', f32Tensor(new Float32Array(1), [1])]]), 'reserved');
  throwsWith(() => serializeSafetensors([['w', { dtype: 'U16' as SafeDType, shape: [1], data: new Uint8Array(2) }]]),
    'unknown dtype "U16"');
  throwsWith(() => serializeSafetensors([], { n: 1 as unknown as string }), 'metadata entry "n"', 'strings');
  throwsWith(() => f32Tensor(new Float32Array(5), [2, 2]), 'has 4 elements but data has 5');
});

test('float32ToF16: exact values, rounding to nearest even, subnormals, inf and NaN', () => {
  const cases: Array<[number, number]> = [
    [1, 0x3c00], [-2.5, 0xc100], [0, 0x0000], [-0, 0x8000], [0.1, 0x2e66],
    [65504, 0x7bff], [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-1e6, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -25, 0x0000], // halfway to the smallest subnormal: ties to even (0)
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // halfway between 1 and 2 subnormal steps: ties to even (2)
    [2 ** -26, 0x0000],
    [1 + 2 ** -11, 0x3c00], // halfway: ties to even
    [1 + 3 * 2 ** -11, 0x3c02], // halfway: ties to even (up)
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above halfway
    [Infinity, 0x7c00], [-Infinity, 0xfc00],
  ];
  const out = float32ToF16(Float32Array.from(cases.map(([v]) => v)));
  cases.forEach(([v, bits], i) => assert.equal(out[i], bits, `${v} -> 0x${out[i].toString(16)}, want 0x${bits.toString(16)}`));
  const nan = float32ToF16(Float32Array.of(NaN))[0];
  assert.equal(nan & 0x7c00, 0x7c00);
  assert.notEqual(nan & 0x03ff, 0, 'NaN stays NaN');

  // Decoding goes back to the same values.
  const decoded = toFloat32({ dtype: 'F16', shape: [7], data: bytesOf([0x3c00, 0xc100, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0x8000], 'u16') }, 'h');
  assert.deepEqual([...decoded], [1, -2.5, 65504, 2 ** -24, 1023 * 2 ** -24, Infinity, -0]);
  assert.ok(Number.isNaN(toFloat32({ dtype: 'F16', shape: [1], data: bytesOf([0x7e00], 'u16') }, 'h')[0]));

  // Every finite half value survives half -> float -> half.
  const all = new Uint16Array(65536).map((_, i) => i);
  const finite = all.filter((h) => (h & 0x7c00) !== 0x7c00);
  const back = float32ToF16(toFloat32({ dtype: 'F16', shape: [finite.length], data: new Uint8Array(finite.buffer) }, 'all'));
  assert.deepEqual(back, finite);
});

test('float32ToBF16: exact values, rounding to nearest even, inf and NaN', () => {
  const cases: Array<[number, number]> = [
    [1, 0x3f80], [-2.5, 0xc020], [65504, 0x4780], [0, 0], [-0, 0x8000],
    [1 + 2 ** -8, 0x3f80], // halfway: ties to even (down)
    [1 + 3 * 2 ** -8, 0x3f82], // halfway: ties to even (up)
    [1 + 2 ** -8 + 2 ** -20, 0x3f81], // just above halfway
    [2 ** -130, 0x0008], // float32 subnormal 2^19 x 2^-149 keeps its top bits
    [3.4028234663852886e38, 0x7f80], // float32 max rounds up to inf
    [Infinity, 0x7f80], [-Infinity, 0xff80],
  ];
  const out = float32ToBF16(Float32Array.from(cases.map(([v]) => v)));
  cases.forEach(([v, bits], i) => assert.equal(out[i], bits, `${v} -> 0x${out[i].toString(16)}, want 0x${bits.toString(16)}`));
  assert.equal(float32ToBF16(Float32Array.of(NaN))[0], 0x7fc0);
  assert.equal(float32ToBF16(Float32Array.of(-NaN))[0], 0x7fc0);
});

test('0-element and scalar tensors', () => {
  const bytes = serializeSafetensors([
    ['empty', { dtype: 'F32', shape: [0, 3], data: new Uint8Array(0) }],
    ['empty2', { dtype: 'I64', shape: [0], data: new Uint8Array(0) }],
    ['scalar', f32Tensor(Float32Array.of(7), [])],
  ]);
  const parsed = parseSafetensors(bytes, 'zero.safetensors');
  assert.deepEqual(parsed.tensors.get('empty')!.shape, [0, 3]);
  assert.equal(parsed.tensors.get('empty')!.data.byteLength, 0);
  assert.deepEqual(toFloat32(parsed.tensors.get('empty')!, 'empty'), new Float32Array(0));
  assert.equal(parsed.tensors.get('empty2')!.data.byteLength, 0);
  assert.deepEqual([...toFloat32(parsed.tensors.get('scalar')!, 'scalar')], [7]);
});

test('__metadata__ {"format":"pt"} is read and not treated as a tensor', () => {
  const data = bytesOf([1, 2], 'f32');
  const file = build({ __metadata__: { format: 'pt' }, w: F32_ENTRY }, data);
  const parsed = parseSafetensors(file, 'pt.safetensors');
  assert.deepEqual(parsed.metadata, { format: 'pt' });
  assert.deepEqual([...parsed.tensors.keys()], ['w']);
  assert.deepEqual([...toFloat32(parsed.tensors.get('w')!, 'w')], [1, 2]);
  // A misaligned view still converts (toFloat32 copies into an aligned array).
  const shifted = new Uint8Array(file.byteLength + 1);
  shifted.set(file, 1);
  const view = parseSafetensors(shifted.subarray(1), 'pt.safetensors').tensors.get('w')!;
  assert.deepEqual([...toFloat32(view, 'w')], [1, 2]);
});

test('malformed: file shorter than 8 bytes', () => {
  throwsWith(() => parseSafetensors(new Uint8Array(5), 'short.safetensors'), 'short.safetensors', 'only 5 bytes');
});

test('malformed: header length beyond the file', () => {
  throwsWith(() => parseSafetensors(build({}, new Uint8Array(0), 4096), 'cut.safetensors'),
    'cut.safetensors', 'header length 4096', 'beyond the end of the 10-byte file');
});

test('malformed: absurd header length', () => {
  throwsWith(() => parseSafetensors(build({}, new Uint8Array(0), 200_000_000), 'big.safetensors'),
    'big.safetensors', 'header length 200000000', '100000000-byte limit');
  const huge = build({});
  new DataView(huge.buffer).setUint32(4, 1, true);
  throwsWith(() => parseSafetensors(huge, 'huge.safetensors'), 'huge.safetensors', 'limit');
});

test('malformed: header is not UTF-8 JSON object', () => {
  const bad = build('{"a":1}');
  bad[9] = 0xff;
  throwsWith(() => parseSafetensors(bad, 'utf.safetensors'), 'utf.safetensors', 'not valid UTF-8', 'bytes 8..15');
  throwsWith(() => parseSafetensors(build('{"a": '), 'json.safetensors'), 'json.safetensors', 'not valid JSON');
  throwsWith(() => parseSafetensors(build('[1,2]'), 'arr.safetensors'), 'arr.safetensors', 'JSON array', 'not an object');
  throwsWith(() => parseSafetensors(build('null'), 'null.safetensors'), 'JSON null');
});

test('malformed: __metadata__ not a string map', () => {
  throwsWith(() => parseSafetensors(build({ __metadata__: { epoch: 3 } }), 'meta.safetensors'),
    'meta.safetensors', '__metadata__ entry "epoch" is 3', 'must be strings');
  throwsWith(() => parseSafetensors(build({ __metadata__: 'pt' }), 'meta.safetensors'), '__metadata__ is "pt"');
});

test('malformed: tensor entry missing a field', () => {
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    const entry: Record<string, unknown> = { ...F32_ENTRY };
    delete entry[field];
    throwsWith(() => parseSafetensors(build({ 'enc.w': entry }, new Uint8Array(8)), 'miss.safetensors'),
      'miss.safetensors', 'tensor "enc.w"', `no "${field}" field`);
  }
  throwsWith(() => parseSafetensors(build({ w: 5 }), 'miss.safetensors'), 'tensor "w"', 'not an object');
});

test('malformed: unknown dtype', () => {
  throwsWith(() => parseSafetensors(build({ w: { ...F32_ENTRY, dtype: 'F33' } }, new Uint8Array(8)), 'dt.safetensors'),
    'dt.safetensors', 'tensor "w"', 'unknown dtype "F33"', 'supported: ');
  throwsWith(() => parseSafetensors(build({ w: { ...F32_ENTRY, dtype: 'U16', shape: [4] } }, new Uint8Array(8)), 'dt.safetensors'),
    'dtype U16 is not supported');
});

test('malformed: shape with negative or non-integer dims', () => {
  for (const shape of [[-2], [2.5], ['2'], 3]) {
    throwsWith(() => parseSafetensors(build({ w: { ...F32_ENTRY, shape } }, new Uint8Array(8)), 'shape.safetensors'),
      'shape.safetensors', 'tensor "w"', 'not a list of non-negative integers');
  }
});

test('malformed: data_offsets not two ordered integers', () => {
  for (const offsets of [[8, 0], [0], [0, 8, 9], [0, 8.5], [-8, 0], 'x']) {
    throwsWith(() => parseSafetensors(build({ w: { ...F32_ENTRY, data_offsets: offsets } }, new Uint8Array(8)), 'off.safetensors'),
      'off.safetensors', 'tensor "w"', 'not two ordered non-negative integers');
  }
});

test('malformed: byte length does not match shape and dtype', () => {
  throwsWith(() => parseSafetensors(build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), 'len.safetensors'),
    'len.safetensors', 'tensor "w"', 'span 8 bytes', 'needs 12 bytes');
  throwsWith(() => parseSafetensors(build({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, new Uint8Array(8)), 'len.safetensors'),
    'too many elements');
});

test('malformed: truncated tensor data', () => {
  const file = build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } },
    new Uint8Array(20));
  throwsWith(() => parseSafetensors(file, 'trunc.safetensors'),
    'trunc.safetensors', 'truncated: expected 24 bytes of tensor data, file has 20', 'tensor "b"');
});

test('malformed: overlapping tensors', () => {
  const file = build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
    new Uint8Array(12));
  throwsWith(() => parseSafetensors(file, 'overlap.safetensors'), 'overlap.safetensors', '"a"', '"b"', 'overlap');
});

test('malformed: hole between tensors and trailing bytes', () => {
  const hole = build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } },
    new Uint8Array(12));
  throwsWith(() => parseSafetensors(hole, 'hole.safetensors'), 'hole.safetensors', 'bytes 4..8', 'belong to no tensor', '"b"');
  const tail = build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(10));
  throwsWith(() => parseSafetensors(tail, 'tail.safetensors'), 'tail.safetensors', 'last 6 bytes', 'belong to no tensor');
});

test('readSafetensors reports missing files and parse errors with the path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-safetensors-'));
  try {
    const missing = join(dir, 'nope.safetensors');
    await assert.rejects(readSafetensors(missing), (err: unknown) =>
      err instanceof SafetensorsError && err.message.includes(missing) && err.message.includes('no such file'));
    const bad = join(dir, 'bad.safetensors');
    await writeFile(bad, build({ w: F32_ENTRY }, new Uint8Array(4)));
    await assert.rejects(readSafetensors(bad), (err: unknown) =>
      err instanceof SafetensorsError && err.message.includes(bad) && err.message.includes('truncated'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
