// Exact nearest-neighbour search (the flat backend's scorer, also used by hard-negative mining)
// behind a small interface, so that an approximate index can replace
// the exact one: add(vectors) appends rows (ids 0, 1, … in the order added); search(queries, k)
// gives each query its k best ids and scores, best first, padded with id −1 and score −Infinity
// when the index holds fewer than k vectors. ExactIndex scores every stored vector:
//   cosine(q, c) = q·c / (max(‖q‖, 1e-12) · max(‖c‖, 1e-12))   (or the dot product q·c),
// one ONNX graph (normalise → MatMul → TopK) per block of stored rows and batch of queries, run
// by onnxruntime; the blocks' best are merged in a bounded heap per query, so memory is
// O(queries × k + queryBatch × blockRows) besides the stored vectors. Equal scores rank the
// lower id first, in a block and across blocks; block and batch sizes change scores by float32
// rounding at most (the matrix product's summation order can depend on its shape).
// Takes the dimension, the metric and the block sizes.

import { DEFAULT_OPSET, GraphBuilder } from '../graph/builder.js';
import { toModelProto } from '../graph/serialise.js';
import { l2normalize } from '../models/normalize.js';
import { Session } from '../runtime/session.js';
import { TopK } from '../evaluation/topk.js';
import type { IndexMetric, Vectors } from './types.js';

export type { IndexMetric } from './types.js';

/** Row-major float32 vectors: `rows` rows of `dim` numbers (the index layer's {@link Vectors}). */
export type VectorBatch = Vectors;

/** Per query, k ids and scores, best first: row r holds ids[r*k … r*k+k-1]. */
export interface SearchResult {
  rows: number;
  k: number;
  /** Stored-vector ids (order of add), −1 where fewer than k vectors exist. */
  ids: Int32Array;
  /** Scores, −Infinity where the id is −1. */
  scores: Float32Array;
}

/** What hard-negative mining (and later an ANN index) needs from a vector index. */
export interface SearchIndex {
  readonly dim: number;
  /** Vectors added so far. */
  readonly size: number;
  add(vectors: VectorBatch): Promise<void> | void;
  search(queries: VectorBatch, k: number): Promise<SearchResult>;
  /** Frees native resources (sessions); the index cannot be searched afterwards. */
  close(): Promise<void>;
}

export interface ExactIndexOptions {
  /** 'cosine' (default): vectors are L2-normalised inside the search graph; 'dot': raw inner product. */
  metric?: IndexMetric;
  /** Stored rows scored per graph run (default 16384). */
  blockRows?: number;
  /** Queries scored per graph run (default 1024). */
  queryBatch?: number;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
}

function positiveInt(v: number | undefined, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`ExactIndex: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

function checkBatch(v: VectorBatch, dim: number, what: string): void {
  if (v === null || typeof v !== 'object' || !(v.data instanceof Float32Array)) {
    throw new TypeError(`ExactIndex.${what}: expected { data: Float32Array, rows, dim }`);
  }
  if (v.dim !== dim) throw new RangeError(`ExactIndex.${what}: vectors have dimension ${v.dim}, the index ${dim}; encode them with the same model`);
  if (!Number.isInteger(v.rows) || v.rows < 0 || v.data.length < v.rows * dim) {
    throw new RangeError(`ExactIndex.${what}: ${v.rows} rows of ${dim} need ${v.rows * dim} numbers, data has ${v.data.length}`);
  }
}

/** The search graph: queries [q, dim], corpus [c, dim], k [1] → scores [q, k], indices [q, k]. */
function searchGraph(dim: number, metric: IndexMetric): Uint8Array {
  const g = new GraphBuilder('exact_search', { opset: DEFAULT_OPSET });
  let q = g.input('queries', 'float32', ['queries', dim]);
  let c = g.input('corpus', 'float32', ['corpus', dim]);
  const k = g.input('k', 'int64', [1]);
  if (metric === 'cosine') {
    q = l2normalize(g, q);
    c = l2normalize(g, c);
  }
  const scores = g.matMul(q, g.transpose(c, [1, 0]));
  const [values, indices] = g.op('TopK', [scores, k], { axis: -1, largest: 1, sorted: 1 }, ['scores', 'indices']);
  g.output(values);
  g.output(indices);
  return toModelProto(g.graph, { opset: g.opset });
}

/** Exact search over every stored vector; see the file comment. */
export class ExactIndex implements SearchIndex {
  readonly dim: number;
  readonly metric: IndexMetric;
  readonly blockRows: number;
  readonly queryBatch: number;
  private readonly threads: number | undefined;
  private readonly blocks: Float32Array[] = [];
  private lastRows = 0;
  private count = 0;
  private session: Promise<Session> | null = null;
  private closed = false;

  constructor(dim: number, opts: ExactIndexOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`ExactIndex: dim must be a positive integer, got ${String(dim)}`);
    this.dim = dim;
    this.metric = opts.metric ?? 'cosine';
    if (this.metric !== 'cosine' && this.metric !== 'dot') throw new RangeError(`ExactIndex: metric must be 'cosine' or 'dot', got ${JSON.stringify(this.metric)}`);
    this.blockRows = positiveInt(opts.blockRows, 'blockRows', 16384);
    this.queryBatch = positiveInt(opts.queryBatch, 'queryBatch', 1024);
    this.threads = opts.threads;
  }

  get size(): number {
    return this.count;
  }

  add(vectors: VectorBatch): void {
    if (this.closed) throw new Error('ExactIndex.add: the index was closed');
    checkBatch(vectors, this.dim, 'add');
    const dim = this.dim;
    let r = 0;
    while (r < vectors.rows) {
      if (this.blocks.length === 0 || this.lastRows === this.blockRows) {
        this.blocks.push(new Float32Array(this.blockRows * dim));
        this.lastRows = 0;
      }
      const block = this.blocks[this.blocks.length - 1];
      const n = Math.min(this.blockRows - this.lastRows, vectors.rows - r);
      block.set(vectors.data.subarray(r * dim, (r + n) * dim), this.lastRows * dim);
      this.lastRows += n;
      r += n;
    }
    this.count += vectors.rows;
  }

  /** Drops the stored vectors (the search graph's session is kept for the next ones). */
  clear(): void {
    this.blocks.length = 0;
    this.lastRows = 0;
    this.count = 0;
  }

  private getSession(): Promise<Session> {
    this.session ??= Session.create(searchGraph(this.dim, this.metric), { threads: this.threads, cache: false });
    return this.session;
  }

  async search(queries: VectorBatch, k: number): Promise<SearchResult> {
    if (this.closed) throw new Error('ExactIndex.search: the index was closed');
    checkBatch(queries, this.dim, 'search');
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`ExactIndex.search: k must be a positive integer, got ${String(k)}`);
    const dim = this.dim;
    const n = queries.rows;
    const ids = new Int32Array(n * k).fill(-1);
    const scores = new Float32Array(n * k).fill(Number.NEGATIVE_INFINITY);
    if (n === 0 || this.count === 0) return { rows: n, k, ids, scores };
    const session = await this.getSession();
    for (let q0 = 0; q0 < n; q0 += this.queryBatch) {
      const nb = Math.min(this.queryBatch, n - q0);
      const qdata = queries.data.slice(q0 * dim, (q0 + nb) * dim);
      const heaps = Array.from({ length: nb }, () => new TopK(k));
      let base = 0;
      for (let b = 0; b < this.blocks.length; b++) {
        const rows = b === this.blocks.length - 1 ? this.lastRows : this.blockRows;
        const block = rows === this.blockRows ? this.blocks[b] : this.blocks[b].slice(0, rows * dim);
        const kc = Math.min(k, rows);
        const res = await session.run({
          queries: { dtype: 'float32', dims: [nb, dim], data: qdata },
          corpus: { dtype: 'float32', dims: [rows, dim], data: block },
          k: { dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(kc)) },
        });
        const v = res.scores.data as Float32Array;
        const ix = res.indices.data as BigInt64Array;
        for (let r = 0; r < nb; r++) {
          const heap = heaps[r];
          for (let j = 0; j < kc; j++) heap.push(v[r * kc + j], base + Number(ix[r * kc + j]));
        }
        base += rows;
      }
      for (let r = 0; r < nb; r++) {
        const best = heaps[r].sorted();
        const o = (q0 + r) * k;
        for (let j = 0; j < best.length; j++) {
          ids[o + j] = best[j].index;
          scores[o + j] = best[j].score;
        }
      }
    }
    return { rows: n, k, ids, scores };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.blocks.length = 0;
    const s = this.session;
    this.session = null;
    if (s) await (await s).release();
  }
}

let pairSession: Promise<Session> | null = null;

/**
 * Cosine similarity of row i of `a` with row i of `b` (both L2-normalised in the graph, as
 * ExactIndex scores), computed by one ONNX graph: Σ_d â[i,d]·b̂[i,d].
 */
export async function pairedCosine(a: VectorBatch, b: VectorBatch): Promise<Float32Array> {
  if (a.dim !== b.dim || a.rows !== b.rows) throw new RangeError(`pairedCosine: shapes differ ([${a.rows}, ${a.dim}] and [${b.rows}, ${b.dim}])`);
  if (a.rows === 0) return new Float32Array(0);
  const dim = a.dim;
  if (pairSession === null) {
    const g = new GraphBuilder('paired_cosine', { opset: DEFAULT_OPSET });
    const x = g.input('a', 'float32', ['rows', 'dim']);
    const y = g.input('b', 'float32', ['rows', 'dim']);
    g.output(g.reduceSum(g.mul(l2normalize(g, x), l2normalize(g, y)), [1], false), 'scores');
    pairSession = Session.create(toModelProto(g.graph, { opset: g.opset }));
  }
  const s = await pairSession;
  const res = await s.run({
    a: { dtype: 'float32', dims: [a.rows, dim], data: a.data.length === a.rows * dim ? a.data : a.data.slice(0, a.rows * dim) },
    b: { dtype: 'float32', dims: [b.rows, dim], data: b.data.length === b.rows * dim ? b.data : b.data.slice(0, b.rows * dim) },
  });
  return res.scores.data as Float32Array;
}
