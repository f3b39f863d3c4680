// The safetensors file format: parses a file's bytes into named tensors (raw
// little-endian data plus dtype and shape) with the same validation as the
// reference implementation, converts float tensors to Float32Array, and
// serializes named tensors back into bytes identical to what the Python
// `safetensors` library writes. Takes byte buffers, file paths and tensors.

import { constants as bufferConstants } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';
import { openAtomic } from '../io/atomic.js';

export type SafeDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** One tensor: `data` holds the raw little-endian bytes (often a view into the file buffer). */
export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Uint8Array;
}

/** A parsed file: tensors by name, plus the free-form `__metadata__` string map. */
export interface SafeFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Bytes per element of each supported dtype. */
const ITEM_SIZE: Readonly<Record<SafeDType, number>> = {
  F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/**
 * Position of each dtype in the reference implementation's `Dtype` enum, which is
 * declared in increasing alignment order; serialization sorts tensors by this
 * rank, descending, then by name.
 */
const DTYPE_RANK: Readonly<Record<SafeDType, number>> = {
  BOOL: 0, U8: 1, I8: 2, I16: 3, F16: 4, BF16: 5, I32: 6, F32: 7, F64: 8, I64: 9,
};

/** Valid safetensors dtypes that this package does not read. */
const UNSUPPORTED_DTYPES = new Set([
  'U16', 'U32', 'U64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64',
]);

/** The reference implementation refuses headers larger than this (bytes). */
const MAX_HEADER_SIZE = 100_000_000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isSafeDType(s: unknown): s is SafeDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ITEM_SIZE, s);
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

function fileError(fileName: string, message: string, hint: string): SafetensorsError {
  return new SafetensorsError(`${fileName}: ${message}; ${hint}`);
}

const CORRUPT_HINT = 'the file is corrupt or not a safetensors file; download or export it again';

/** Number of elements of `shape`, or undefined when it exceeds Number.MAX_SAFE_INTEGER. */
function elementCount(shape: readonly number[]): number | undefined {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return n;
}

function isValidShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
}

interface Entry {
  name: string;
  dtype: SafeDType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parses a complete safetensors file held in memory. Tensor `data` fields are
 * views into `buf`. `fileName` is used only in error messages.
 */
export function parseSafetensors(buf: Uint8Array, fileName: string): SafeFile {
  if (!(buf instanceof Uint8Array)) {
    throw new SafetensorsError(`${fileName}: expected the file contents as a Uint8Array or Buffer, got ` +
      `${describeValue(buf)}; pass the bytes read from the file`);
  }
  const size = buf.byteLength;
  if (size < 8) {
    throw fileError(fileName, `file is only ${size} bytes long, shorter than the 8-byte header length prefix`,
      CORRUPT_HINT);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLen = high * 2 ** 32 + low; // may be inexact above 2^53, which is rejected below anyway
  if (high !== 0 || headerLen > MAX_HEADER_SIZE) {
    throw fileError(fileName,
      `header length ${high === 0 ? headerLen : `${high}*2^32+${low}`} (bytes 0..8) is larger than the ` +
      `${MAX_HEADER_SIZE}-byte limit`, CORRUPT_HINT);
  }
  if (8 + headerLen > size) {
    throw fileError(fileName,
      `header length ${headerLen} (bytes 0..8) reaches byte ${8 + headerLen}, beyond the end of the ` +
      `${size}-byte file`, 'the file is truncated or not a safetensors file; download or export it again');
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf.subarray(8, 8 + headerLen));
  } catch {
    throw fileError(fileName, `header (bytes 8..${8 + headerLen}) is not valid UTF-8`, CORRUPT_HINT);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw fileError(fileName, `header (bytes 8..${8 + headerLen}) is not valid JSON (${why})`, CORRUPT_HINT);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw fileError(fileName,
      `header (bytes 8..${8 + headerLen}) is JSON ${Array.isArray(header) ? 'array' : describeValue(header)}, ` +
      'not an object mapping tensor names to entries', CORRUPT_HINT);
  }

  const dataStart = 8 + headerLen;
  const dataLen = size - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];

  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null) continue;
      if (typeof raw !== 'object' || Array.isArray(raw)) {
        throw fileError(fileName, `__metadata__ is ${describeValue(raw)}, not an object of strings`, CORRUPT_HINT);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw fileError(fileName,
            `__metadata__ entry ${JSON.stringify(k)} is ${describeValue(v)}; all __metadata__ values must be strings`,
            CORRUPT_HINT);
        }
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw fileError(fileName, `${where}: header entry is ${describeValue(raw)}, not an object`, CORRUPT_HINT);
    }
    const info = raw as Record<string, unknown>;
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!(field in info)) {
        throw fileError(fileName, `${where}: header entry has no "${field}" field`, CORRUPT_HINT);
      }
    }
    const dtype = info.dtype;
    if (!isSafeDType(dtype)) {
      const known = Object.keys(ITEM_SIZE).join(', ');
      if (typeof dtype === 'string' && UNSUPPORTED_DTYPES.has(dtype)) {
        throw fileError(fileName, `${where}: dtype ${dtype} is not supported (supported: ${known})`,
          'convert the checkpoint to float32 or float16 before loading it');
      }
      throw fileError(fileName, `${where}: unknown dtype ${describeValue(dtype)} (supported: ${known})`,
        CORRUPT_HINT);
    }
    const shape = info.shape;
    if (!isValidShape(shape)) {
      throw fileError(fileName,
        `${where}: shape ${describeValue(shape)} is not a list of non-negative integers`, CORRUPT_HINT);
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 ||
        !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw fileError(fileName,
        `${where}: data_offsets ${describeValue(offsets)} are not two ordered non-negative integers [begin, end]`,
        CORRUPT_HINT);
    }
    const [begin, end] = offsets as [number, number];
    const count = elementCount(shape);
    const itemSize = ITEM_SIZE[dtype];
    const expected = count === undefined ? undefined : count * itemSize;
    if (expected === undefined || !Number.isSafeInteger(expected)) {
      throw fileError(fileName, `${where}: shape ${describeValue(shape)} has too many elements to address`,
        CORRUPT_HINT);
    }
    if (end - begin !== expected) {
      throw fileError(fileName,
        `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but dtype ${dtype} with shape ` +
        `[${shape.join(', ')}] needs ${expected} bytes (${count} elements x ${itemSize})`, CORRUPT_HINT);
    }
    entries.push({ name, dtype, shape: [...shape], begin, end });
  }

  // Every byte of the data section must belong to exactly one tensor, in offset order.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const needed = entries.reduce((m, e) => Math.max(m, e.end), 0);
  if (needed > dataLen) {
    const last = entries.find((e) => e.end === needed)!;
    throw fileError(fileName,
      `truncated: expected ${needed} bytes of tensor data, file has ${dataLen} ` +
      `(tensor ${JSON.stringify(last.name)} ends at byte ${dataStart + needed} of a ${size}-byte file)`,
      'the download or export was interrupted; fetch or write the file again');
  }
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.begin < cursor) {
      throw fileError(fileName,
        `tensors ${JSON.stringify(previous!.name)} (data_offsets [${previous!.begin}, ${previous!.end}]) and ` +
        `${JSON.stringify(e.name)} (data_offsets [${e.begin}, ${e.end}]) overlap`, CORRUPT_HINT);
    }
    if (e.begin > cursor) {
      throw fileError(fileName,
        `bytes ${cursor}..${e.begin} of the tensor data (file bytes ${dataStart + cursor}..${dataStart + e.begin}) ` +
        `belong to no tensor (a hole before ${JSON.stringify(e.name)}); safetensors requires tensors to cover ` +
        'the data section contiguously', CORRUPT_HINT);
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLen) {
    throw fileError(fileName,
      `the last ${dataLen - cursor} bytes (file bytes ${dataStart + cursor}..${size}) belong to no tensor; ` +
      `tensors cover ${cursor} of ${dataLen} bytes of tensor data`, CORRUPT_HINT);
  }

  // Keep the header's order (insertion order of the JSON object) for the map.
  const byName = new Map(entries.map((e) => [e.name, e]));
  const tensors = new Map<string, SafeTensor>();
  for (const name of Object.keys(header as Record<string, unknown>)) {
    const e = byName.get(name);
    if (e === undefined) continue;
    tensors.set(name, {
      dtype: e.dtype,
      shape: e.shape,
      data: buf.subarray(dataStart + e.begin, dataStart + e.end),
    });
  }
  return { tensors, metadata };
}

function describeIoError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}

/** Reads and parses a safetensors file (the whole file is read into memory once). */
export async function readSafetensors(path: string): Promise<SafeFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new SafetensorsError(`cannot open ${path}: ${describeIoError(err)}; check the path`, { cause: err });
  }
  let buf: Buffer;
  try {
    const { size } = await fh.stat();
    if (size > bufferConstants.MAX_LENGTH) {
      throw new SafetensorsError(
        `${path}: file is ${size} bytes, more than the ${bufferConstants.MAX_LENGTH} bytes a single buffer can ` +
        'hold in this Node.js version; split the checkpoint into shards or use a newer Node.js');
    }
    buf = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const chunk = Math.min(size - filled, 1 << 30);
      const { bytesRead } = await fh.read(buf, filled, chunk, filled);
      if (bytesRead === 0) break; // the file shrank while being read; parsing reports the truncation
      filled += bytesRead;
    }
    if (filled < size) buf = buf.subarray(0, filled);
  } catch (err) {
    if (err instanceof SafetensorsError) throw err;
    throw new SafetensorsError(`cannot read ${path}: ${describeIoError(err)}`, { cause: err });
  } finally {
    await fh.close().catch(() => undefined);
  }
  return parseSafetensors(buf, path);
}

function checkTensor(t: SafeTensor, name: string, action: string): number {
  if (t === null || typeof t !== 'object') {
    throw new SafetensorsError(`cannot ${action} tensor ${JSON.stringify(name)}: it is ${describeValue(t)}, ` +
      'not a { dtype, shape, data } object');
  }
  if (!isSafeDType(t.dtype)) {
    throw new SafetensorsError(`cannot ${action} tensor ${JSON.stringify(name)}: unknown dtype ` +
      `${describeValue(t.dtype)}; use one of ${Object.keys(ITEM_SIZE).join(', ')}`);
  }
  if (!isValidShape(t.shape)) {
    throw new SafetensorsError(`cannot ${action} tensor ${JSON.stringify(name)}: shape ${describeValue(t.shape)} ` +
      'is not a list of non-negative integers');
  }
  if (!(t.data instanceof Uint8Array)) {
    throw new SafetensorsError(`cannot ${action} tensor ${JSON.stringify(name)}: data must be a Uint8Array of ` +
      'little-endian bytes');
  }
  const count = elementCount(t.shape);
  const bytes = count === undefined ? undefined : count * ITEM_SIZE[t.dtype];
  if (count === undefined || bytes !== t.data.byteLength) {
    throw new SafetensorsError(`cannot ${action} tensor ${JSON.stringify(name)}: dtype ${t.dtype} with shape ` +
      `[${t.shape.join(', ')}] needs ${bytes ?? 'too many'} bytes but data has ${t.data.byteLength}; ` +
      'make the shape match the data');
  }
  return count;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

let halfTable: Float32Array | undefined;

/**
 * Converts a float tensor (F32, F16, BF16 or F64) to a new, aligned Float32Array.
 * Integer and bool tensors are refused. `nameForErrors` identifies the tensor in messages.
 */
export function toFloat32(t: SafeTensor, nameForErrors: string): Float32Array {
  const n = checkTensor(t, nameForErrors, 'convert');
  const bytes = t.data;
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN_HOST) {
        new Uint8Array(out.buffer).set(bytes);
      } else {
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      }
      return out;
    case 'F64': {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    }
    case 'F16': {
      if (halfTable === undefined) {
        halfTable = new Float32Array(65536);
        for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
      }
      const table = halfTable;
      for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = table[bytes[j] | (bytes[j + 1] << 8)];
      return out;
    }
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      if (LITTLE_ENDIAN_HOST) {
        for (let i = 0, j = 0; i < n; i++, j += 2) bits[i] = ((bytes[j] | (bytes[j + 1] << 8)) << 16) >>> 0;
      } else {
        const dv = new DataView(out.buffer);
        for (let i = 0, j = 0; i < n; i++, j += 2) dv.setUint32(4 * i, (bytes[j] | (bytes[j + 1] << 8)) << 16);
      }
      return out;
    }
    default:
      throw new SafetensorsError(`tensor ${JSON.stringify(nameForErrors)} has dtype ${t.dtype}, which is not a ` +
        'floating-point type; only F32, F16, BF16 and F64 tensors can be converted to float32');
  }
}

/**
 * float32 values as a tensor of a float dtype (F32, F16 and BF16 rounded to nearest even, F64
 * exact): how a module writes its weights back in the dtype it was loaded in.
 */
export function floatTensor(data: Float32Array, shape: number[], dtype: SafeDType): SafeTensor {
  const t = f32Tensor(data, shape);
  if (dtype === 'F16') return { dtype, shape, data: new Uint8Array(float32ToF16(data).buffer) };
  if (dtype === 'BF16') return { dtype, shape, data: new Uint8Array(float32ToBF16(data).buffer) };
  if (dtype === 'F64') {
    const out = new Uint8Array(data.length * 8);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) dv.setFloat64(8 * i, data[i], true);
    return { dtype, shape, data: out };
  }
  if (dtype !== 'F32') throw new SafetensorsError(`floatTensor: ${dtype} is not a floating-point dtype`);
  return t;
}

/** Wraps float32 values as an F32 tensor (a view of `data` on little-endian hosts). */
export function f32Tensor(data: Float32Array, shape: number[]): SafeTensor {
  if (!isValidShape(shape)) {
    throw new SafetensorsError(`f32Tensor: shape ${describeValue(shape)} is not a list of non-negative integers`);
  }
  const count = elementCount(shape);
  if (count !== data.length) {
    throw new SafetensorsError(`f32Tensor: shape [${shape.join(', ')}] has ${count ?? 'too many'} elements but ` +
      `data has ${data.length}; make the shape match the data`);
  }
  let bytes: Uint8Array;
  if (LITTLE_ENDIAN_HOST) {
    bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } else {
    bytes = new Uint8Array(data.length * 4);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) dv.setFloat32(4 * i, data[i], true);
  }
  return { dtype: 'F32', shape: [...shape], data: bytes };
}

function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13); // inf / quiet NaN
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // below half of the smallest subnormal -> signed zero
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h; // a carry into bit 10 yields the smallest normal, as it should
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry may overflow to inf, as it should
  return sign | h;
}

/** float32 → IEEE half-precision bits, round-to-nearest-even (NaN stays NaN, overflow becomes ±inf). */
export function float32ToF16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < x.length; i++) out[i] = f32BitsToF16(bits[i]);
  return out;
}

/** float32 → bfloat16 bits, round-to-nearest-even; every NaN becomes 0x7fc0 as in PyTorch. */
export function float32ToBF16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < x.length; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) {
      out[i] = 0x7fc0;
    } else {
      out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    }
  }
  return out;
}

interface Prepared {
  header: Uint8Array;
  order: Array<[string, SafeTensor]>;
  dataLength: number;
}

function prepare(
  tensors: Map<string, SafeTensor> | Array<[string, SafeTensor]>,
  metadata: Record<string, string> | undefined,
): Prepared {
  if (!(tensors instanceof Map) && !Array.isArray(tensors)) {
    throw new SafetensorsError(`cannot serialize ${describeValue(tensors)}: pass a Map or an array of ` +
      '[name, tensor] pairs');
  }
  const list: Array<[string, SafeTensor]> = [...tensors];
  for (const pair of list) {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new SafetensorsError(`cannot serialize: entry ${describeValue(pair)} is not a [name, tensor] pair`);
    }
  }
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (typeof name !== 'string') {
      throw new SafetensorsError(`cannot serialize: tensor name ${describeValue(name)} is not a string`);
    }
    if (name === '__metadata__') {
      throw new SafetensorsError('cannot serialize a tensor named "__metadata__": the name is reserved for ' +
        'file metadata; rename the tensor');
    }
    if (seen.has(name)) {
      throw new SafetensorsError(`cannot serialize: tensor name ${JSON.stringify(name)} appears twice; ` +
        'tensor names must be unique');
    }
    seen.add(name);
    checkTensor(t, name, 'serialize');
  }
  // Same order as the reference implementation: dtype alignment descending, then name (byte order).
  list.sort(([an, a], [bn, b]) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareUtf8(an, bn));

  const parts: string[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new SafetensorsError(`cannot serialize: metadata ${describeValue(metadata)} is not an object of strings`);
    }
    const keys = Object.keys(metadata).sort(compareUtf8);
    for (const k of keys) {
      if (typeof metadata[k] !== 'string') {
        throw new SafetensorsError(`cannot serialize: metadata entry ${JSON.stringify(k)} is ` +
          `${describeValue(metadata[k])}; safetensors metadata values must be strings`);
      }
    }
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of list) {
    const end = offset + t.data.byteLength;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],` +
      `"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, padded % 2 ** 32, true);
  dv.setUint32(4, Math.floor(padded / 2 ** 32), true);
  header.set(json, 8);
  return { header, order: list, dataLength: offset };
}

/** Orders strings by their UTF-8 bytes, as Rust's `str` ordering does. */
function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ab, bb);
}

/**
 * Serializes tensors (and optional string metadata) into safetensors bytes,
 * byte-identical to the Python library's output for the same input.
 */
export function serializeSafetensors(
  tensors: Map<string, SafeTensor> | Array<[string, SafeTensor]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const { header, order, dataLength } = prepare(tensors, metadata);
  const out = new Uint8Array(header.byteLength + dataLength);
  out.set(header, 0);
  let pos = header.byteLength;
  for (const [, t] of order) {
    out.set(t.data, pos);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Writes tensors to `path` atomically: the bytes go to `${path}.tmp-<random>`,
 * which is fsynced and renamed over `path`; the directory is fsynced last.
 */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, SafeTensor> | Array<[string, SafeTensor]>,
  metadata?: Record<string, string>,
): Promise<void> {
  const { header, order } = prepare(tensors, metadata);
  const file = await openAtomic(path);
  try {
    await file.write(header);
    for (const [, t] of order) if (t.data.byteLength > 0) await file.write(t.data);
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
}
