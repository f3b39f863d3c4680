// Backend `usearch`, the embedded ANN default: an HNSW graph from the usearch library (Unum),
// keyed by row, beside the documents in the index folder (file_index.ts). Scores: usearch's
// distances are 1 − cos(q, v) ('cos') and 1 − q·v ('ip'), so score = 1 − distance. Options:
// connectivity M (default 32: on 384-dimensional data it beat 16 at 100,000 and 1M vectors in
// both recall and queries/s), expansionAdd efConstruction (128), expansionSearch ef (64),
// quantization of the graph's own copy of the vectors ('i8' default for cosine, 'f32' for dot;
// 'f16'); with 'f16' or 'i8' the candidates are rescored exactly in float32 from the stored
// vectors (rescore × k candidates, default 4), so scores are exact and the graph is 4× smaller.
// int8 codes for cosine are made here, per vector (int8.ts): c = round(127 · x / max|x|), so the largest
// component is ±127 (cosine does not change with the scale). The library's own cast, 127 · x/‖x‖
// truncated, leaves a 384-dimensional unit vector about ±6 levels a component, and its top 10
// agreed with the exact one on 0.84 of hits against 0.98 with these codes; the codes go to the
// native binding as an Int8Array (the JavaScript wrapper would turn them back into floats and
// cast them again). For f32, f16 and dot the graph receives float32 (L2-normalised copies for
// cosine; the copies are made ADD_PIECE rows at a time). A reader that will
// add nothing (read-only, no commits after the saved graph) memory-maps the graph file (usearch
// view) instead of reading it. threads: search threads (0 = all cores).
// Insertion: usearch 2.26's concurrent add() can leave a node stored but unreachable by any
// search (upstream issue unum-cloud/USearch#735). In a small graph that is common (20,000 × 64
// random vectors: 14 of 40,000 never found even by their own vector when inserted on 2 threads,
// 0 when serial; a 60-vector graph loses one in about 1 build of 10); in a large one a concurrent
// inserter seldom meets a node still being linked (1M × 384: 11 of 2,000 sampled vectors missed
// with concurrent insertion, 8 serially, 8 for hnswlib-node — the graph's own misses). So by
// default ('auto') rows go in one at a time until the graph holds CONCURRENT_FROM vectors, and
// pieces of at least CONCURRENT_PIECE rows go in on all threads after that; concurrentInsert
// true/false forces either. A serial add is its own call with the search thread count, so the
// library keeps a context per search thread.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FileIndex, type AnnEngine, type FileIndexOptions } from './file_index.js';
import { IndexInputError } from './documents.js';
import { exactScore, int8Codes, norm, writeBest, type Candidate } from './int8.js';
import type { Manifest } from './segments.js';
import type { IndexMetric, IndexModelInfo, Vectors } from './types.js';

export const USEARCH = 'usearch';

export interface UsearchOptions {
  connectivity?: number;
  expansionAdd?: number;
  expansionSearch?: number;
  quantization?: 'f32' | 'f16' | 'i8';
  /** Candidates fetched per hit and rescored in float32 when quantization is not f32 (default 4). */
  rescore?: number;
  threads?: number;
  /** Insert on all threads at once: 'auto' (default) once the graph is large, true always, false never. */
  concurrentInsert?: boolean | 'auto';
}

/** The compiled index of the usearch package (its native binding, beneath the JavaScript wrapper). */
interface NativeIndex {
  add(keys: BigUint64Array, vectors: Float32Array | Int8Array, threads: number): void;
  /** [keys, distances, counts]: k slots a query, counts[q] of them filled. */
  search(vectors: Float32Array | Int8Array, k: number, threads: number): [BigUint64Array, Float32Array, BigUint64Array];
  remove(keys: BigUint64Array): unknown;
  size(): number;
  save(path: string): void;
  load(path: string): void;
  view(path: string): void;
}

interface NativeModule {
  CompiledIndex: new (dimensions: number, metric: string, quantization: string, connectivity: number, expansionAdd: number, expansionSearch: number, multi: boolean) => NativeIndex;
}

const require = createRequire(import.meta.url);

let native: NativeModule | null = null;
/** The usearch package's native binding, found as its wrapper finds it (node-gyp-build from the package folder). */
function nativeModule(): NativeModule {
  if (native) return native;
  let dir = dirname(require.resolve('usearch'));
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== 'usearch') {
    const up = dirname(dir);
    if (up === dir) throw new Error('usearch: the package folder of the native binding was not found');
    dir = up;
  }
  native = (require('node-gyp-build') as (d: string) => NativeModule)(dir);
  return native;
}

/** Rows per call into the library's add (one normalised copy of this many rows at a time). */
const ADD_PIECE = 8192;
/** 'auto' insertion: concurrent once the graph holds this many vectors, for pieces of at least CONCURRENT_PIECE rows. */
export const CONCURRENT_FROM = 100_000;
const CONCURRENT_PIECE = 1024;

function positive(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new IndexInputError(`usearch: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** The usearch engine behind FileIndex. */
export class UsearchEngine implements AnnEngine {
  readonly options: Record<string, unknown>;
  private index: NativeIndex;
  /** int8 codes made here (cosine, i8); otherwise float32 goes to the library. */
  private readonly codes: boolean;
  private readonly threads: number;
  private readonly rescore: number;
  private readonly quantized: boolean;
  private readonly concurrent: boolean | 'auto';

  constructor(
    private readonly dim: number,
    private readonly metric: IndexMetric,
    o: UsearchOptions,
    /** Float32 vector of a row (for rescoring quantized candidates). */
    private readonly vectorOf: (row: number) => Float32Array,
  ) {
    const q = o.quantization ?? (metric === 'cosine' ? 'i8' : 'f32');
    if (!['f32', 'f16', 'i8'].includes(q)) throw new IndexInputError(`usearch: quantization must be f32, f16 or i8, got ${JSON.stringify(q)}`);
    this.options = {
      connectivity: positive(o.connectivity, 'connectivity', 32),
      expansionAdd: positive(o.expansionAdd, 'expansionAdd', 128),
      expansionSearch: positive(o.expansionSearch, 'expansionSearch', 64),
      quantization: q,
      rescore: positive(o.rescore, 'rescore', 4),
    };
    if (o.concurrentInsert !== undefined && typeof o.concurrentInsert !== 'boolean' && o.concurrentInsert !== 'auto') throw new IndexInputError(`usearch: concurrentInsert must be true, false or "auto", got ${JSON.stringify(o.concurrentInsert)}`);
    this.concurrent = o.concurrentInsert ?? 'auto';
    if (this.concurrent !== 'auto') this.options.concurrentInsert = this.concurrent;
    this.threads = o.threads ?? 0;
    this.rescore = this.options.rescore as number;
    this.quantized = q !== 'f32';
    this.codes = q === 'i8' && metric === 'cosine';
    this.index = this.make();
  }

  private make(): NativeIndex {
    const o = this.options;
    return new (nativeModule().CompiledIndex)(this.dim, this.metric === 'cosine' ? 'cos' : 'ip', o.quantization as string, o.connectivity as number, o.expansionAdd as number, o.expansionSearch as number, false);
  }

  /** What the graph receives for these rows: int8 codes (cosine, i8), unit-length copies (cosine), or the vectors themselves (dot). */
  private prepare(v: Float32Array, rows: number): Float32Array | Int8Array {
    if (this.codes) return int8Codes(v, rows, this.dim);
    if (this.metric !== 'cosine') return v.length === rows * this.dim ? v : v.subarray(0, rows * this.dim);
    const dim = this.dim;
    const out = v.slice(0, rows * dim);
    for (let r = 0; r < rows; r++) {
      let n = 0;
      for (let d = 0; d < dim; d++) n += out[r * dim + d] * out[r * dim + d];
      const inv = 1 / Math.max(Math.sqrt(n), 1e-12);
      for (let d = 0; d < dim; d++) out[r * dim + d] *= inv;
    }
    return out;
  }

  /** Inserts in pieces of ADD_PIECE rows, so that the normalised copy stays small whatever the batch. */
  add(rows: Int32Array, vectors: Float32Array): void {
    const dim = this.dim;
    for (let s = 0; s < rows.length; s += ADD_PIECE) {
      const e = Math.min(rows.length, s + ADD_PIECE);
      const keys = new BigUint64Array(e - s);
      for (let i = s; i < e; i++) keys[i - s] = BigInt(rows[i]);
      const prepared = this.prepare(vectors.subarray(s * dim, e * dim), e - s);
      const together = this.concurrent === 'auto' ? this.index.size() >= CONCURRENT_FROM && e - s >= CONCURRENT_PIECE : this.concurrent;
      if (together) {
        this.index.add(keys, prepared, this.threads);
        continue;
      }
      for (let i = 0; i < keys.length; i++) this.index.add(keys.subarray(i, i + 1), prepared.subarray(i * dim, (i + 1) * dim), this.threads);
    }
  }

  remove(rows: Int32Array): void {
    if (rows.length === 0) return;
    const keys = new BigUint64Array(rows.length);
    for (let i = 0; i < rows.length; i++) keys[i] = BigInt(rows[i]);
    this.index.remove(keys);
  }

  search(queries: Vectors, k: number): { rows: Int32Array; scores: Float32Array } {
    const nq = queries.rows;
    const rows = new Int32Array(nq * k).fill(-1);
    const scores = new Float32Array(nq * k).fill(Number.NEGATIVE_INFINITY);
    if (nq === 0 || this.index.size() === 0) return { rows, scores };
    const kk = this.quantized ? k * this.rescore : k;
    const data = queries.data.length === nq * this.dim ? queries.data : queries.data.subarray(0, nq * this.dim);
    const [keys, distances, counts] = this.index.search(this.prepare(data, nq), kk, this.threads);
    for (let q = 0; q < nq; q++) {
      const count = Number(counts[q]);
      const base = q * kk;
      if (!this.quantized) {
        for (let j = 0; j < Math.min(count, k); j++) {
          rows[q * k + j] = Number(keys[base + j]);
          scores[q * k + j] = 1 - distances[base + j];
        }
        continue;
      }
      const qv = data.subarray(q * this.dim, (q + 1) * this.dim);
      const qn = this.metric === 'dot' ? 1 : norm(qv);
      const cand: Candidate[] = [];
      for (let j = 0; j < count; j++) {
        const row = Number(keys[base + j]);
        cand.push({ row, score: exactScore(this.metric, qv, qn, this.vectorOf(row)) });
      }
      writeBest(cand, q, k, rows, scores);
    }
    return { rows, scores };
  }

  save(path: string): void {
    this.index.save(path);
  }

  load(path: string, view = false): void {
    this.index = this.make();
    if (view) this.index.view(path);
    else this.index.load(path);
  }

  reset(): void {
    this.index = this.make();
  }

  stats(): Record<string, unknown> {
    return { ann: { library: 'usearch', size: this.index.size(), ...this.options } };
  }

  close(): void {
    this.index = this.make();
  }
}

export function createUsearch(dir: string, dim: number, metric: IndexMetric, model: IndexModelInfo | undefined, o: UsearchOptions & FileIndexOptions = {}): Promise<FileIndex> {
  return FileIndex.createWith(dir, USEARCH, dim, metric, model, (vectorOf) => new UsearchEngine(dim, metric, o, vectorOf), o);
}

export function openUsearch(dir: string, m: Manifest, o: UsearchOptions & FileIndexOptions = {}): Promise<FileIndex> {
  const saved = m.options as UsearchOptions;
  return FileIndex.openWith(dir, m, (vectorOf) => new UsearchEngine(m.dim, m.metric, { ...saved, expansionSearch: o.expansionSearch ?? saved.expansionSearch, threads: o.threads }, vectorOf), o);
}
