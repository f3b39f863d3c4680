// sentence-transformers' util search functions on the index layer's exact scorer (ExactIndex:
// ONNX MatMul + TopK) or on any VectorIndex:
//   semanticSearch(queries, corpus, {topK})  per query the topK corpus entries by cosine (or dot),
//     best first, as {corpusId, score}; the corpus may be one matrix, an (async) iterable of
//     chunks (a corpus larger than memory: chunk c's rows are numbered after the chunks before
//     it, each query keeps its best topK in a bounded heap) or a VectorIndex (ids are strings).
//   paraphraseMining(embeddings, {topK, maxPairs})  pairs [score, i, j] (i < j) of distinct
//     rows, each row's topK neighbours, the maxPairs best, highest score first.
//   communityDetection(embeddings, {threshold, minCommunitySize})  groups of rows whose cosine to
//     a central row is ≥ threshold: a row with ≥ minCommunitySize neighbours (itself included)
//     at ≥ threshold seeds a community of all of them (central row first, then by score);
//     communities are taken largest first without the rows of earlier ones, and kept when they
//     still have minCommunitySize rows. Largest first.
// Ties rank the lower row first.

import { TopK } from '../evaluation/topk.js';
import { ExactIndex } from './exact_search.js';
import type { IndexMetric, VectorIndex, Vectors } from './types.js';

export interface SemanticSearchOptions {
  /** Hits per query (default 10). */
  topK?: number;
  /** 'cosine' (default) or 'dot'. */
  scoreFunction?: IndexMetric;
  /** Queries scored per graph run (default 100). */
  queryChunkSize?: number;
  /** Corpus rows per chunk when the corpus is one matrix (default 500000). */
  corpusChunkSize?: number;
  threads?: number;
}

export interface SearchMatch<Id = number> {
  corpusId: Id;
  score: number;
}

function isIndex(x: unknown): x is VectorIndex {
  return typeof (x as VectorIndex).search === 'function' && typeof (x as VectorIndex).upsert === 'function';
}

function isVectors(x: unknown): x is Vectors {
  return (x as Vectors).data instanceof Float32Array;
}

function slice(v: Vectors, start: number, end: number): Vectors {
  return { data: v.data.subarray(start * v.dim, end * v.dim), rows: end - start, dim: v.dim };
}

export async function semanticSearch(queries: Vectors, corpus: VectorIndex, opts?: SemanticSearchOptions): Promise<SearchMatch<string>[][]>;
export async function semanticSearch(queries: Vectors, corpus: Vectors | Iterable<Vectors> | AsyncIterable<Vectors>, opts?: SemanticSearchOptions): Promise<SearchMatch<number>[][]>;
export async function semanticSearch(
  queries: Vectors,
  corpus: VectorIndex | Vectors | Iterable<Vectors> | AsyncIterable<Vectors>,
  opts: SemanticSearchOptions = {},
): Promise<SearchMatch<number>[][] | SearchMatch<string>[][]> {
  const topK = opts.topK ?? 10;
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`semanticSearch: topK must be a positive integer, got ${String(topK)}`);
  if (isIndex(corpus)) {
    const hits = await corpus.search(queries, topK, { includeDocuments: false });
    return hits.map((h) => h.map((x) => ({ corpusId: x.id, score: x.score })));
  }
  const chunkRows = opts.corpusChunkSize ?? 500000;
  const chunks: Iterable<Vectors> | AsyncIterable<Vectors> = isVectors(corpus)
    ? (function* () {
        for (let s = 0; s < corpus.rows; s += chunkRows) yield slice(corpus, s, Math.min(corpus.rows, s + chunkRows));
      })()
    : corpus;
  const heaps = Array.from({ length: queries.rows }, () => new TopK(topK));
  const index = new ExactIndex(queries.dim, { metric: opts.scoreFunction ?? 'cosine', queryBatch: opts.queryChunkSize ?? 100, threads: opts.threads });
  try {
    let base = 0;
    for await (const c of chunks) {
      if (c.rows === 0) continue;
      index.clear();
      index.add(c);
      const res = await index.search(queries, topK);
      for (let q = 0; q < queries.rows; q++) {
        for (let j = 0; j < topK; j++) {
          const id = res.ids[q * topK + j];
          if (id >= 0) heaps[q].push(res.scores[q * topK + j], base + id);
        }
      }
      base += c.rows;
    }
  } finally {
    await index.close();
  }
  return heaps.map((h) => h.sorted().map((e) => ({ corpusId: e.index, score: e.score })));
}

export interface ParaphraseMiningOptions {
  /** Neighbours considered per row (default 100). */
  topK?: number;
  /** Pairs returned at most (default 500000). */
  maxPairs?: number;
  scoreFunction?: IndexMetric;
  queryChunkSize?: number;
  threads?: number;
}

/** [score, i, j] with i < j, highest score first (see the file comment). */
export async function paraphraseMining(embeddings: Vectors, opts: ParaphraseMiningOptions = {}): Promise<[number, number, number][]> {
  const topK = Math.min((opts.topK ?? 100) + 1, embeddings.rows);
  const maxPairs = opts.maxPairs ?? 500000;
  if (embeddings.rows < 2) return [];
  const index = new ExactIndex(embeddings.dim, { metric: opts.scoreFunction ?? 'cosine', queryBatch: opts.queryChunkSize ?? 5000, threads: opts.threads });
  let res;
  try {
    index.add(embeddings);
    res = await index.search(embeddings, topK);
  } finally {
    await index.close();
  }
  const best = new Map<string, [number, number, number]>();
  for (let i = 0; i < embeddings.rows; i++) {
    for (let t = 0; t < topK; t++) {
      const j = res.ids[i * topK + t];
      if (j < 0 || j === i) continue;
      const a = Math.min(i, j);
      const b = Math.max(i, j);
      const key = `${a},${b}`;
      const s = res.scores[i * topK + t];
      const prev = best.get(key);
      if (!prev || s > prev[0]) best.set(key, [s, a, b]);
    }
  }
  return [...best.values()].sort((x, y) => y[0] - x[0] || x[1] - y[1] || x[2] - y[2]).slice(0, maxPairs);
}

export interface CommunityOptions {
  /** Cosine at or above which two rows are neighbours (default 0.75). */
  threshold?: number;
  /** Fewest rows in a community (default 10). */
  minCommunitySize?: number;
  /** Rows scored per graph run (default 1024). */
  batchSize?: number;
  threads?: number;
}

/** Communities of rows, largest first (see the file comment). */
export async function communityDetection(embeddings: Vectors, opts: CommunityOptions = {}): Promise<number[][]> {
  const threshold = opts.threshold ?? 0.75;
  const n = embeddings.rows;
  if (n === 0) return [];
  const minSize = Math.min(opts.minCommunitySize ?? 10, n);
  let sortMax = Math.min(Math.max(2 * minSize, 50), n);
  const index = new ExactIndex(embeddings.dim, { metric: 'cosine', queryBatch: opts.batchSize ?? 1024, threads: opts.threads });
  const extracted: number[][] = [];
  try {
    index.add(embeddings);
    const batch = opts.batchSize ?? 1024;
    for (let s = 0; s < n; s += batch) {
      const rows = Math.min(batch, n - s);
      const q = slice(embeddings, s, s + rows);
      const k = sortMax;
      const res = await index.search(q, k);
      for (let r = 0; r < rows; r++) {
        if (!(res.scores[r * k + minSize - 1] >= threshold)) continue;
        let scores = res.scores.subarray(r * k, (r + 1) * k);
        let ids = res.ids.subarray(r * k, (r + 1) * k);
        while (scores[scores.length - 1] > threshold && sortMax < n) {
          sortMax = Math.min(2 * sortMax, n);
          const one = await index.search(slice(q, r, r + 1), sortMax);
          scores = one.scores;
          ids = one.ids;
        }
        const members: number[] = [];
        for (let j = 0; j < scores.length; j++) if (scores[j] >= threshold && ids[j] >= 0) members.push(ids[j]);
        extracted.push(members);
      }
    }
  } finally {
    await index.close();
  }
  extracted.sort((a, b) => b.length - a.length);
  const taken = new Set<number>();
  const out: number[][] = [];
  for (const c of extracted) {
    const rest = c.filter((i) => !taken.has(i));
    if (rest.length >= minSize) {
      out.push(rest);
      for (const i of rest) taken.add(i);
    }
  }
  return out.sort((a, b) => b.length - a.length);
}
