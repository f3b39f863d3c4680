// What the quantized ANN backends (usearch.ts, ivf.ts) share: per-vector int8 codes
//   c = round(127 · x / max|x|)   (the largest component ±127; zeros for a zero vector)
// with, when asked, each row's scale max|x| (so x ≈ c · max|x| / 127), and the exact float32
// rescoring of a candidate b for a query a: cos(a, b) = a·b / (‖a‖ · max(‖b‖, 1e-12)), the
// query's norm taken once per query (norm()), or the dot product a·b (exactScore in JavaScript;
// ivf.ts takes a·b and ‖b‖² from its WebAssembly kernel and the cosine from cosineOf).

import type { IndexMetric } from './types.js';

/** Per-vector int8 codes: round(127 · x / max|x|); `scales[r]` receives max|x| of row r (0 for a zero vector). */
export function int8Codes(v: Float32Array, rows: number, dim: number, scales?: Float32Array): Int8Array {
  const out = new Int8Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let m = 0;
    for (let d = 0; d < dim; d++) m = Math.max(m, Math.abs(v[o + d]));
    if (scales) scales[r] = m;
    if (!(m > 0)) continue;
    const s = 127 / m;
    for (let d = 0; d < dim; d++) out[o + d] = Math.round(v[o + d] * s);
  }
  return out;
}

/** ‖v‖, at least 1e-12 (the query's side of the rescoring cosine, once a query). */
export function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.max(Math.sqrt(s), 1e-12);
}

/** Float32 rescoring of a candidate b for query a (of norm `an`, from norm(); ignored for dot): cos or dot.
 * Four partial sums (in float64), so that the additions do not wait on one another. */
export function exactScore(metric: IndexMetric, a: Float32Array, an: number, b: Float32Array): number {
  const n = a.length;
  const n4 = n - (n % 4);
  let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
  if (metric === 'dot') {
    for (let i = 0; i < n4; i += 4) {
      d0 += a[i] * b[i];
      d1 += a[i + 1] * b[i + 1];
      d2 += a[i + 2] * b[i + 2];
      d3 += a[i + 3] * b[i + 3];
    }
    for (let i = n4; i < n; i++) d0 += a[i] * b[i];
    return d0 + d1 + (d2 + d3);
  }
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let i = 0; i < n4; i += 4) {
    const b0 = b[i], b1 = b[i + 1], b2 = b[i + 2], b3 = b[i + 3];
    d0 += a[i] * b0;
    d1 += a[i + 1] * b1;
    d2 += a[i + 2] * b2;
    d3 += a[i + 3] * b3;
    s0 += b0 * b0;
    s1 += b1 * b1;
    s2 += b2 * b2;
    s3 += b3 * b3;
  }
  for (let i = n4; i < n; i++) {
    d0 += a[i] * b[i];
    s0 += b[i] * b[i];
  }
  return cosineOf(d0 + d1 + (d2 + d3), an, s0 + s1 + (s2 + s3));
}

/** The cosine from a·b, ‖a‖ (from norm()) and ‖b‖². */
export function cosineOf(dot: number, an: number, bb: number): number {
  return dot / (an * Math.max(Math.sqrt(bb), 1e-12));
}

/** A rescored candidate: its row and exact score. */
export interface Candidate {
  row: number;
  score: number;
}

/** Sorts query q's rescored candidates (score descending, then row ascending) and writes the best k at q·k of rows and scores. */
export function writeBest(cand: Candidate[], q: number, k: number, rows: Int32Array, scores: Float32Array): void {
  cand.sort((a, b) => b.score - a.score || a.row - b.row);
  for (let j = 0; j < Math.min(k, cand.length); j++) {
    rows[q * k + j] = cand[j].row;
    scores[q * k + j] = cand[j].score;
  }
}
