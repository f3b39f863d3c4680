// Streamed output of quantised (compact) embeddings: .npy with numpy's int8 ('|i1') or uint8
// ('|u1') dtype, shape (N, cols), the row count fixed up on close, or JSON lines
// {"embedding": [integers]}; cols = dim for int8/uint8, ⌈dim/8⌉ for binary/ubinary. Written
// through an atomic temporary file, so the destination only appears once the whole matrix is
// there. Takes a path, the numbers per row and the precision (and int8/uint8 ranges).

import { openAtomic } from '../io/atomic.js';
import type { EmbeddingWriter } from '../io/npy.js';
import { quantizeEmbeddings, type Precision, type QuantizationRanges } from '../evaluation/quantize.js';

export interface CompactWriter {
  /** Appends whole rows (a multiple of `cols` values). */
  writeRows(rows: Int8Array | Uint8Array): Promise<void>;
  close(): Promise<number>;
  abort(): Promise<void>;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const GROWTH_AXIS_MAX_DIGITS = 21;

/** numpy.save's header (format 1.0) for a C-order 2-D int8 or uint8 array. */
export function npyHeader8(rows: number, cols: number, signed: boolean): Uint8Array {
  let dict = `{'descr': '${signed ? '|i1' : '|u1'}', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(rows).length));
  const hlen = dict.length + 1;
  const pad = 64 - ((MAGIC.length + 4 + hlen) % 64);
  const out = new Uint8Array(MAGIC.length + 4 + hlen + pad);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = (hlen + pad) & 0xff;
  out[9] = (hlen + pad) >> 8;
  const body = `${dict}${' '.repeat(pad)}\n`;
  for (let i = 0; i < body.length; i++) out[10 + i] = body.charCodeAt(i);
  return out;
}

function isSigned(p: Precision): boolean {
  return p === 'int8' || p === 'binary';
}

/** A writer for `path` (.npy or .jsonl by extension) of rows with `cols` 8-bit values. */
export async function createCompactWriter(path: string, cols: number, precision: Exclude<Precision, 'float32'>): Promise<CompactWriter> {
  if (!Number.isSafeInteger(cols) || cols < 1) throw new Error(`createCompactWriter: cols must be a positive integer, got ${String(cols)}`);
  const npy = path.toLowerCase().endsWith('.npy');
  const signed = isSigned(precision);
  const file = await openAtomic(path);
  const headerLength = npyHeader8(0, cols, signed).length;
  let rows = 0;
  let state: 'open' | 'closed' | 'aborted' = 'open';
  try {
    if (npy) await file.write(npyHeader8(0, cols, signed));
  } catch (e) {
    await file.abort();
    throw e;
  }
  return {
    async writeRows(data: Int8Array | Uint8Array): Promise<void> {
      if (state !== 'open') throw new Error(`compact writer for ${JSON.stringify(path)}: already ${state}`);
      if (data.length % cols !== 0) throw new Error(`compact writer for ${JSON.stringify(path)}: ${data.length} values are not whole rows of ${cols}`);
      if ((data instanceof Int8Array) !== signed) throw new Error(`compact writer for ${JSON.stringify(path)}: ${precision} rows must be ${signed ? 'Int8Array' : 'Uint8Array'}`);
      const n = data.length / cols;
      if (npy) await file.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else {
        const lines: string[] = [];
        for (let r = 0; r < n; r++) lines.push(`{"embedding":[${Array.prototype.join.call(data.subarray(r * cols, (r + 1) * cols), ',')}]}\n`);
        await file.write(lines.join(''));
      }
      rows += n;
    },
    async close(): Promise<number> {
      if (state !== 'open') throw new Error(`compact writer for ${JSON.stringify(path)}: already ${state}`);
      state = 'closed';
      try {
        if (npy) {
          const header = npyHeader8(rows, cols, signed);
          if (header.length !== headerLength) throw new Error(`compact writer for ${JSON.stringify(path)}: ${rows} rows do not fit the reserved header`);
          await file.fd.write(header, 0, header.length, 0);
        }
        await file.commit();
      } catch (e) {
        await file.abort();
        throw e;
      }
      return rows;
    },
    async abort(): Promise<void> {
      if (state !== 'open') return;
      state = 'aborted';
      await file.abort();
    },
  };
}

/**
 * An embedding writer (float32 rows in, as `sentencekit encode` streams them) that quantises
 * each chunk with fixed `ranges` (int8/uint8) or by sign (binary/ubinary) before writing, so
 * every chunk of a long input is quantised the same way.
 */
export async function createQuantizingWriter(path: string, dim: number, precision: Exclude<Precision, 'float32'>, ranges?: QuantizationRanges): Promise<EmbeddingWriter> {
  if ((precision === 'int8' || precision === 'uint8') && !ranges) throw new Error(`${precision} output needs calibration ranges`);
  const cols = precision === 'binary' || precision === 'ubinary' ? Math.ceil(dim / 8) : dim;
  const w = await createCompactWriter(path, cols, precision);
  return {
    async writeRows(rows: Float32Array): Promise<void> {
      if (rows.length % dim !== 0) throw new Error(`quantising writer for ${JSON.stringify(path)}: ${rows.length} values are not whole rows of ${dim}`);
      const q = quantizeEmbeddings({ data: rows, rows: rows.length / dim, dim }, precision, ranges ? { ranges } : {});
      await w.writeRows(q.data as Int8Array | Uint8Array);
    },
    close: () => w.close(),
    abort: () => w.abort(),
  };
}
