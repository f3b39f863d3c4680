// NumPy .npy (format 1.0) support for float32 C-order arrays: a streaming
// matrix writer whose row count is fixed up on close, plus in-memory
// encodeNpy/parseNpy used by tests and tools. Headers are byte-identical to
// what numpy.save writes.

import { readFile } from 'node:fs/promises';
import { openAtomic, type AtomicFile } from './atomic.js';

/** Streaming writer of an (N, dim) float32 matrix; N is known only at close(). */
export interface EmbeddingWriter {
  /**
   * Appends rows; `rows.length` must be a multiple of dim (row-major). Do not
   * modify `rows` until the returned promise settles.
   */
  writeRows(rows: Float32Array): Promise<void>;
  /** Finalizes the file, moves it into place and returns the number of rows written. */
  close(): Promise<number>;
  /** Discards everything; no file is left at the destination. */
  abort(): Promise<void>;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/** numpy reserves room for a first axis of up to this many digits (GROWTH_AXIS_MAX_DIGITS). */
const GROWTH_AXIS_MAX_DIGITS = 21;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkShape(shape: readonly number[], where: string): void {
  for (const [i, d] of shape.entries()) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new Error(`${where}: shape[${i}] must be a non-negative integer, got ${String(d)}`);
    }
  }
}

function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The full header block (magic, version, length, dict, padding, '\n') numpy writes for a float32 C array. */
export function npyHeader(shape: readonly number[]): Uint8Array {
  checkShape(shape, 'npyHeader');
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = dict.length + 1;
  const padlen = ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ALIGN);
  const total = MAGIC.length + 2 + 2 + hlen + padlen;
  if (hlen + padlen > 0xffff) throw new Error(`npyHeader: header for shape ${shapeRepr(shape)} is too long for .npy format 1.0`);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = (hlen + padlen) & 0xff;
  out[9] = (hlen + padlen) >> 8;
  const body = `${dict}${' '.repeat(padlen)}\n`;
  for (let i = 0; i < body.length; i++) out[10 + i] = body.charCodeAt(i);
  return out;
}

/** Little-endian bytes of a float32 array (a view when the host is little-endian). */
function float32Bytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

/** Serializes a float32 array of the given C-order shape to .npy bytes. */
export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  checkShape(shape, 'encodeNpy');
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`encodeNpy: shape ${shapeRepr(shape)} holds ${count} values but data has ${data.length}; pass the matching shape`);
  }
  const header = npyHeader(shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(float32Bytes(data), header.length);
  return out;
}

function parseHeaderDict(header: string, where: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) {
    throw new Error(`${where}: malformed .npy header ${JSON.stringify(header.trim())}; expected keys 'descr', 'fortran_order' and 'shape'`);
  }
  const dims = shape[1]!.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = /^\d+L?$/.test(s) ? Number.parseInt(s, 10) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw new Error(`${where}: bad dimension ${JSON.stringify(s)} in .npy shape (${shape[1]})`);
    return n;
  });
  return { descr: descr[1]!, fortran: fortran[1] === 'True', shape: dims };
}

/**
 * Parses .npy bytes (format 1.0, 2.0 or 3.0) holding a little-endian float32
 * C-order array. `source` names the data in error messages.
 */
export function parseNpy(buf: Uint8Array, source = '.npy data'): { shape: number[]; data: Float32Array } {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new Error(`${source}: not a .npy file (it does not start with the magic bytes \\x93NUMPY)`);
  }
  const major = buf[6]!;
  const minor = buf[7]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new Error(`${source}: truncated .npy header`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new Error(`${source}: unsupported .npy format version ${major}.${minor}; only 1.x, 2.x and 3.x are understood`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > buf.length) {
    throw new Error(`${source}: truncated .npy file (header claims ${headerLen} bytes, only ${buf.length - headerStart} present)`);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(headerStart, dataStart));
  const { descr, fortran, shape } = parseHeaderDict(header, source);
  if (descr !== '<f4' && !(descr === '=f4' && LITTLE_ENDIAN_HOST)) {
    throw new Error(`${source}: dtype ${JSON.stringify(descr)} is not supported; only little-endian float32 ('<f4') is — convert with arr.astype('<f4')`);
  }
  if (fortran) {
    throw new Error(`${source}: Fortran-order arrays are not supported; save a C-order copy (numpy.ascontiguousarray(arr))`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = buf.length - dataStart;
  if (bytes !== count * 4) {
    throw new Error(`${source}: shape ${shapeRepr(shape)} needs ${count * 4} data bytes but the file has ${bytes}; the file is truncated or corrupt`);
  }
  const data = new Float32Array(count);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(data.buffer).set(buf.subarray(dataStart));
  } else {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + i * 4, true);
  }
  return { shape, data };
}

/** Reads and parses a .npy file (see parseNpy). */
export async function readNpy(path: string): Promise<{ shape: number[]; data: Float32Array }> {
  return parseNpy(await readFile(path), path);
}

function checkDim(dim: number, who: string): void {
  if (!Number.isSafeInteger(dim) || dim < 1) {
    throw new Error(`${who}: dim must be a positive integer (the embedding size), got ${String(dim)}`);
  }
}

/**
 * Shared plumbing for streamed embedding writers: argument checks, serialized
 * writes and single-use close/abort over an atomic temp file.
 */
export function makeStreamWriter(
  file: AtomicFile,
  dim: number,
  kind: string,
  writeBatch: (rows: Float32Array, firstRow: number) => Promise<void>,
  finish: (rows: number) => Promise<void>,
): EmbeddingWriter {
  let rows = 0;
  let state: 'open' | 'closed' | 'aborted' = 'open';
  let failure: unknown;
  let queue: Promise<void> = Promise.resolve();
  const where = `${kind} writer for ${JSON.stringify(file.path)}`;

  const notOpen = (): Error | undefined => {
    if (failure !== undefined) return new Error(`${where}: an earlier write failed; call abort() and start again`);
    if (state !== 'open') return new Error(`${where}: already ${state}; create a new writer`);
    return undefined;
  };

  return {
    writeRows(batch: Float32Array): Promise<void> {
      const err = notOpen();
      if (err) return Promise.reject(err);
      if (!(batch instanceof Float32Array)) {
        return Promise.reject(new Error(`${where}: writeRows expects a Float32Array`));
      }
      if (batch.length % dim !== 0) {
        return Promise.reject(new Error(
          `${where}: writeRows got ${batch.length} values, not a multiple of dim ${dim}; pass whole rows (n*dim values)`,
        ));
      }
      const firstRow = rows;
      rows += batch.length / dim;
      const step = queue.then(() => {
        if (failure !== undefined) throw new Error(`${where}: an earlier write failed; call abort() and start again`);
        return writeBatch(batch, firstRow);
      });
      queue = step.catch((e: unknown) => {
        failure ??= e;
      });
      // The caller sees this batch's own outcome; later calls see the failure.
      return step;
    },
    async close(): Promise<number> {
      // After a failed write, close() discards the file and rethrows that failure.
      if (state !== 'open') throw new Error(`${where}: already ${state}; create a new writer`);
      state = 'closed';
      try {
        await queue;
        if (failure !== undefined) throw failure;
        await finish(rows);
        await file.commit();
      } catch (err) {
        await file.abort();
        throw err;
      }
      return rows;
    },
    async abort(): Promise<void> {
      if (state === 'closed' || state === 'aborted') return;
      state = 'aborted';
      await queue.catch(() => undefined);
      await file.abort();
    },
  };
}

/**
 * Streams an (N, dim) float32 matrix to `path` in .npy format. The header is
 * written with N = 0 and rewritten in place with the final N on close(); the
 * data only appears at `path` once close() succeeds.
 */
export async function createNpyWriter(path: string, dim: number): Promise<EmbeddingWriter> {
  checkDim(dim, 'createNpyWriter');
  const file = await openAtomic(path);
  const headerLength = npyHeader([0, dim]).length;
  try {
    await file.write(npyHeader([0, dim]));
  } catch (err) {
    await file.abort();
    throw err;
  }
  return makeStreamWriter(
    file, dim, '.npy',
    (batch) => file.write(float32Bytes(batch)),
    async (rows) => {
      const header = npyHeader([rows, dim]);
      if (header.length !== headerLength) {
        throw new Error(`.npy writer for ${JSON.stringify(path)}: ${rows} rows do not fit the reserved header`);
      }
      await file.fd.write(header, 0, header.length, 0);
    },
  );
}
