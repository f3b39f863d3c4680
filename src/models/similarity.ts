// Similarity of embeddings, as sentence-transformers' SentenceTransformer.similarity and
// similarity_pairwise compute it (util.cos_sim, dot_score, euclidean_sim, manhattan_sim and
// their pairwise_* forms), each run as a small ONNX graph.
// Matrix forms take a [N, D] and b [M, D] and give S [N, M]:
//   cosine:    S_ij = â_i · b̂_j with x̂ = x / max(‖x‖₂, 1e-12)
//   dot:       S_ij = a_i · b_j
//   euclidean: S_ij = −‖a_i − b_j‖₂, as −√max(‖a_i‖² + ‖b_j‖² − 2 a_i·b_j, 0) (torch.cdist's
//              matrix-product form, which it uses for more than 25 rows; memory [N, M])
//   manhattan: S_ij = −‖a_i − b_j‖₁ (rows of a taken in blocks so that [rows, M, D] stays small)
// Pairwise forms take a, b [N, D] and give s [N] with s_i = sim(a_i, b_i).
// Inputs: one vector (one row), a list of vectors, or a row-major {data, rows, dim} matrix (what
// encodeMatrix returns). Outputs are float32: one Float32Array per row of a, or one for pairs.

import { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { Session } from '../runtime/session.js';

/** A model's similarity function (similarity_fn_name in config_sentence_transformers.json). */
export type SimilarityFn = 'cosine' | 'dot' | 'euclidean' | 'manhattan';

export const SIMILARITY_FNS: readonly SimilarityFn[] = ['cosine', 'dot', 'euclidean', 'manhattan'];

/** One embedding, a list of embeddings, or a row-major matrix of `rows` embeddings of `dim` numbers. */
export type Embeddings = ArrayLike<number> | readonly ArrayLike<number>[] | { data: ArrayLike<number>; rows: number; dim: number };

interface Rows {
  data: Float32Array;
  rows: number;
  dim: number;
}

/** Elements of [rows, M, D] a manhattan block may hold (64 MB of float32). */
const MANHATTAN_BLOCK = 1 << 24;

function isMatrix(e: Embeddings): e is { data: ArrayLike<number>; rows: number; dim: number } {
  return typeof (e as { rows?: unknown }).rows === 'number' && typeof (e as { dim?: unknown }).dim === 'number';
}

function toRows(e: Embeddings, what: string): Rows {
  if (isMatrix(e)) {
    if (e.data.length !== e.rows * e.dim) throw new Error(`${what}: a matrix of ${e.rows} × ${e.dim} needs ${e.rows * e.dim} numbers, got ${e.data.length}`);
    return { data: e.data instanceof Float32Array ? e.data : Float32Array.from(e.data), rows: e.rows, dim: e.dim };
  }
  const list = e as ArrayLike<unknown>;
  if (list.length > 0 && typeof list[0] === 'number') return { data: Float32Array.from(e as ArrayLike<number>), rows: 1, dim: list.length };
  const vectors = e as readonly ArrayLike<number>[];
  const dim = vectors.length ? vectors[0].length : 0;
  const data = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new Error(`${what}: embedding ${i} has ${v.length} dimensions, embedding 0 has ${dim}`);
    data.set(v, i * dim);
  });
  return { data, rows: vectors.length, dim };
}

function checkName(fn: string): asserts fn is SimilarityFn {
  if (!(SIMILARITY_FNS as readonly string[]).includes(fn)) throw new Error(`unknown similarity function "${fn}" (expected ${SIMILARITY_FNS.join(', ')})`);
}

function checkDims(a: Rows, b: Rows): void {
  if (a.dim !== b.dim) throw new Error(`similarity: the embeddings have ${a.dim} and ${b.dim} dimensions; both sides need the same`);
}

function normalized(g: GraphBuilder, x: Value): Value {
  return g.div(x, g.max(g.reduceL2(x, [-1], true), g.scalar(1e-12)));
}

function matrixGraph(fn: SimilarityFn): GraphBuilder {
  const g = new GraphBuilder(`similarity_${fn}`);
  const a = g.input('a', 'float32', ['n', 'd']);
  const b = g.input('b', 'float32', ['m', 'd']);
  const bT = (x: Value): Value => g.transpose(x, [1, 0]);
  let s: Value;
  switch (fn) {
    case 'cosine': s = g.matMul(normalized(g, a), bT(normalized(g, b))); break;
    case 'dot': s = g.matMul(a, bT(b)); break;
    case 'euclidean': {
      const sq = (x: Value): Value => g.reduceSum(g.mul(x, x), [1], true);
      const d2 = g.sub(g.add(sq(a), bT(sq(b))), g.mul(g.scalar(2), g.matMul(a, bT(b))));
      s = g.neg(g.sqrt(g.max(d2, g.scalar(0))));
      break;
    }
    case 'manhattan': {
      const diff = g.sub(g.unsqueeze(a, [1]), g.unsqueeze(b, [0]));
      s = g.neg(g.reduceSum(g.op1('Abs', [diff]), [2], false));
      break;
    }
  }
  g.output(s, 'similarity');
  return g;
}

function pairwiseGraph(fn: SimilarityFn): GraphBuilder {
  const g = new GraphBuilder(`similarity_pairwise_${fn}`);
  const a = g.input('a', 'float32', ['n', 'd']);
  const b = g.input('b', 'float32', ['n', 'd']);
  const rowSum = (x: Value): Value => g.reduceSum(x, [1], false);
  let s: Value;
  switch (fn) {
    case 'cosine': s = rowSum(g.mul(normalized(g, a), normalized(g, b))); break;
    case 'dot': s = rowSum(g.mul(a, b)); break;
    case 'euclidean': { const d = g.sub(a, b); s = g.neg(g.sqrt(rowSum(g.mul(d, d)))); break; }
    case 'manhattan': s = g.neg(rowSum(g.op1('Abs', [g.sub(a, b)]))); break;
  }
  g.output(s, 'similarity');
  return g;
}

async function run(g: GraphBuilder, a: Rows, b: Rows): Promise<Float32Array> {
  const session = await Session.create(g.graph);
  const out = await session.run({
    a: { dtype: 'float32', dims: [a.rows, a.dim], data: a.data },
    b: { dtype: 'float32', dims: [b.rows, b.dim], data: b.data },
  }, ['similarity']);
  return out.similarity.data as Float32Array;
}

/**
 * The [N, M] similarity of every embedding of `a` with every one of `b` (default cosine), as
 * one Float32Array of M scores per embedding of `a`; higher means more similar for every function.
 */
export async function similarity(a: Embeddings, b: Embeddings, fn: SimilarityFn = 'cosine'): Promise<Float32Array[]> {
  checkName(fn);
  const ra = toRows(a, 'similarity (first argument)');
  const rb = toRows(b, 'similarity (second argument)');
  checkDims(ra, rb);
  const out = new Float32Array(ra.rows * rb.rows);
  if (ra.rows > 0 && rb.rows > 0 && ra.dim > 0) {
    const g = matrixGraph(fn);
    const block = fn === 'manhattan' ? Math.max(1, Math.floor(MANHATTAN_BLOCK / (rb.rows * ra.dim))) : ra.rows;
    for (let r = 0; r < ra.rows; r += block) {
      const n = Math.min(block, ra.rows - r);
      const part = { data: ra.data.subarray(r * ra.dim, (r + n) * ra.dim), rows: n, dim: ra.dim };
      out.set(await run(g, part, rb), r * rb.rows);
    }
  }
  return Array.from({ length: ra.rows }, (_, i) => out.subarray(i * rb.rows, (i + 1) * rb.rows));
}

/** s_i = sim(a_i, b_i) for two equally long lists of embeddings (default cosine). */
export async function similarityPairwise(a: Embeddings, b: Embeddings, fn: SimilarityFn = 'cosine'): Promise<Float32Array> {
  checkName(fn);
  const ra = toRows(a, 'similarityPairwise (first argument)');
  const rb = toRows(b, 'similarityPairwise (second argument)');
  checkDims(ra, rb);
  if (ra.rows !== rb.rows) throw new Error(`similarityPairwise: ${ra.rows} and ${rb.rows} embeddings; pairs need the same number on both sides`);
  if (ra.rows === 0 || ra.dim === 0) return new Float32Array(ra.rows);
  return run(pairwiseGraph(fn), ra, rb);
}

/** Cosine similarity matrix (sentence-transformers' util.cos_sim). */
export function cosSim(a: Embeddings, b: Embeddings): Promise<Float32Array[]> {
  return similarity(a, b, 'cosine');
}

/** Dot-product matrix (util.dot_score). */
export function dotScore(a: Embeddings, b: Embeddings): Promise<Float32Array[]> {
  return similarity(a, b, 'dot');
}

/** Negative Euclidean distance matrix (util.euclidean_sim). */
export function euclideanSim(a: Embeddings, b: Embeddings): Promise<Float32Array[]> {
  return similarity(a, b, 'euclidean');
}

/** Negative Manhattan distance matrix (util.manhattan_sim). */
export function manhattanSim(a: Embeddings, b: Embeddings): Promise<Float32Array[]> {
  return similarity(a, b, 'manhattan');
}
