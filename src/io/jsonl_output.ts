// JSON Lines embedding output: one `{"embedding":[...]}` object per row, with
// each float32 printed in a short decimal form that parses back to the exact
// same float32 value. Written through an atomic temp file.

import { openAtomic } from './atomic.js';
import { makeStreamWriter, type EmbeddingWriter } from './npy.js';

/** Flush accumulated text to the file once it grows past this many characters. */
const FLUSH_CHARS = 1 << 20;

/**
 * Shortest decimal string (at most 9 significant digits) that reads back as
 * the same float32. `x` must be a finite float32 value.
 */
export function formatFloat32(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  // A float32's rounding interval is narrower than half a unit in the 6th
  // significant digit, so any representation with 6 digits or fewer is also
  // the 6-digit rounding: starting at 6 finds the shortest with fewer calls.
  for (let p = 6; p < 9; p++) {
    const candidate = Number(x.toPrecision(p));
    if (Math.fround(candidate) === x) return String(candidate);
  }
  // Nine significant digits always identify a float32 uniquely.
  return String(Number(x.toPrecision(9)));
}

/**
 * Streams embeddings to `path` as JSON Lines, one `{"embedding":[...]}` per
 * row. Same interface as the .npy writer; the file appears only on close().
 */
export async function createJsonlEmbeddingWriter(path: string, dim: number): Promise<EmbeddingWriter> {
  if (!Number.isSafeInteger(dim) || dim < 1) {
    throw new Error(`createJsonlEmbeddingWriter: dim must be a positive integer (the embedding size), got ${String(dim)}`);
  }
  const file = await openAtomic(path);
  const where = `JSONL writer for ${JSON.stringify(path)}`;
  return makeStreamWriter(
    file, dim, 'JSONL',
    async (batch, firstRow) => {
      let out = '';
      const n = batch.length / dim;
      for (let r = 0; r < n; r++) {
        let line = '{"embedding":[';
        for (let j = 0; j < dim; j++) {
          const v = batch[r * dim + j]!;
          if (!Number.isFinite(v)) {
            throw new Error(
              `${where}: row ${firstRow + r}, component ${j} is ${String(v)}, which JSON cannot represent; check the model output or write .npy instead`,
            );
          }
          if (j > 0) line += ',';
          line += formatFloat32(v);
        }
        out += `${line}]}\n`;
        if (out.length >= FLUSH_CHARS) {
          await file.write(out);
          out = '';
        }
      }
      if (out.length > 0) await file.write(out);
    },
    async () => undefined,
  );
}
