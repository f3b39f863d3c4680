// Hard-negative mining, as sentence-transformers' util.mine_hard_negatives: for (query, positive)
// pairs, find corpus texts the model scores close to the query that are not its positive.
// Candidates are the corpus plus every positive, deduplicated (default: the positives alone).
// Queries and candidates are encoded L2-normalised; a SearchIndex (exact by default) gives each
// query its best matches by cosine score s(q, c) = q̂·ĉ. Per query, in score order:
//   1. skip its positives (unless includePositives) and any candidate equal to the query text;
//   2. rank the rest 0, 1, 2, …: skip ranks < rangeMin, stop at rank rangeMax (ranks are
//      places in the similarity order, so a candidate dropped in step 3 still takes its rank);
//   3. drop a candidate when s > p − margin, s > p − |p|·relativeMargin, s > maxScore or
//      s < minScore, with p the query's lowest positive score;
//   4. take the best numNegatives left ('top') or numNegatives of them at random with a seeded
//      generator ('random'), ordered by score.
// A query with several positives is mined once; a query with fewer than numNegatives left is
// counted in the report. Takes an encoder (anything with encodeMatrix), the pairs and options;
// returns the rows in the output format (triplet, n-tuple, labeled-pair, labeled-list) and a report.

import type { Encoder } from '../evaluation/base.js';
import { seededRandom } from '../data/split.js';
import { ExactIndex, pairedCosine, type SearchIndex } from '../index/exact_search.js';

export type SamplingStrategy = 'top' | 'random';
export type MiningOutputFormat = 'triplet' | 'n-tuple' | 'labeled-pair' | 'labeled-list';
export const MINING_OUTPUT_FORMATS: readonly MiningOutputFormat[] = ['triplet', 'n-tuple', 'labeled-pair', 'labeled-list'];

/** What mining needs from a model: SentenceTransformer fits. */
export type MiningEncoder = Pick<Encoder, 'encodeMatrix'>;

export interface MiningPair {
  query: string;
  positive: string;
}

export interface MineOptions {
  /** Candidate texts besides the positives (which are always candidates). */
  corpus?: readonly string[];
  /** Candidates ranked before this (0-based, positives not counted) are skipped (default 0). */
  rangeMin?: number;
  /**
   * Candidates ranked at or after this are not looked at. Default, as sentence-transformers:
   * rangeMin + numNegatives × 10 + most positives of a query when a margin or maxScore is set,
   * else rangeMin + numNegatives + most positives of a query.
   */
  rangeMax?: number;
  /** Drop candidates scoring above this. */
  maxScore?: number;
  /** Drop candidates scoring below this. */
  minScore?: number;
  /** Absolute margin: drop candidates scoring above (positive score − margin). */
  margin?: number;
  /** Relative margin: drop candidates scoring above (positive score − |positive score| × relativeMargin). */
  relativeMargin?: number;
  /** Negatives per query (default 3). */
  numNegatives?: number;
  /** 'top' (default): the best candidates left; 'random': a seeded sample of them. */
  samplingStrategy?: SamplingStrategy;
  /** Default 'triplet'. includePositives forces 'n-tuple', as sentence-transformers does. */
  outputFormat?: MiningOutputFormat;
  /** Add the scores to every row (a "scores" column; labeled formats: scores instead of labels). */
  outputScores?: boolean;
  /** Keep the positives among the candidates (full rankings for reranker evaluation; default false). */
  includePositives?: boolean;
  /** Seed of the 'random' sampling (default 42). */
  seed?: number;
  /** Texts per encodeMatrix batch (default 32). */
  batchSize?: number;
  /** Prepended to every query before encoding. */
  queryPrompt?: string;
  /** Prepended to every candidate before encoding. */
  corpusPrompt?: string;
  /** Candidates encoded and added to the index per step (default 16384). */
  corpusChunkSize?: number;
  /** Queries encoded and searched per step (default 4096). */
  queryChunkSize?: number;
  /** The index to search (default: an ExactIndex of the embedding dimension). */
  createIndex?: (dim: number) => SearchIndex;
  /** Called after every step with (done, total) in texts encoded. */
  onProgress?: (done: number, total: number) => void;
}

/** Order and number of the values in one output row. */
export type MinedValue = string | number | string[] | number[];

/** count, mean, std (sample, n − 1), min, quartiles and max of a set of scores; null figures when empty. */
export interface ScoreSummary {
  count: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  p25: number | null;
  median: number | null;
  p75: number | null;
  max: number | null;
}

export interface MiningReport {
  /** Pairs given, and distinct (query, positive) pairs among them. */
  pairs: number;
  uniquePairs: number;
  /** Distinct queries (each mined once). */
  queries: number;
  /** Distinct candidate texts (corpus ∪ positives). */
  candidates: number;
  numNegatives: number;
  rangeMin: number;
  rangeMax: number;
  /** Matches asked of the index per query (rangeMax + the most texts a query skips as its own). */
  searchK: number;
  samplingStrategy: SamplingStrategy;
  outputFormat: MiningOutputFormat;
  /** Queries that got fewer than numNegatives negatives, and those that got none. */
  queriesWithFewerNegatives: number;
  queriesWithoutNegatives: number;
  /** Negatives chosen, summed over queries. */
  negatives: number;
  /** Output rows, and (query, positive) pairs left out of them (n-tuple: too few negatives; others: none). */
  rows: number;
  pairsWithoutRow: number;
  /** Candidates passed over, by reason (each counted once, for the first reason that applies). */
  skipped: {
    positive: number;
    sameAsQuery: number;
    rangeMin: number;
    margin: number;
    relativeMargin: number;
    maxScore: number;
    minScore: number;
  };
  /** Scores of the (query, positive) pairs, of every chosen (query, positive, negative) negative, and positive − negative. */
  scores: { positive: ScoreSummary; negative: ScoreSummary; difference: ScoreSummary };
  notes: string[];
}

export interface MiningResult {
  /** Column names, e.g. anchor, positive, negative (triplet) or anchor, positive, negative_1 … negative_n. */
  columns: string[];
  /** Rows of values in column order. */
  rows: MinedValue[][];
  report: MiningReport;
}

function checkInt(v: unknown, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`mineHardNegatives: ${name} must be an integer ≥ ${min}, got ${String(v)}`);
  return v;
}

function checkNumber(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`mineHardNegatives: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

/** Summary of a set of scores (quartiles by linear interpolation, as numpy/pandas). */
export function summarizeScores(values: ArrayLike<number>): ScoreSummary {
  const n = values.length;
  if (n === 0) return { count: 0, mean: null, std: null, min: null, p25: null, median: null, p75: null, max: null };
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (s[i] - mean) ** 2;
  const q = (p: number): number => {
    const x = p * (n - 1);
    const lo = Math.floor(x);
    const hi = Math.min(lo + 1, n - 1);
    return s[lo] + (s[hi] - s[lo]) * (x - lo);
  };
  return { count: n, mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : null, min: s[0], p25: q(0.25), median: q(0.5), p75: q(0.75), max: s[n - 1] };
}

interface QueryGroup {
  text: string;
  /** Candidate ids of the positives, in first-appearance order. */
  positives: number[];
  /** Score of each positive. */
  positiveScores: number[];
  /** Chosen negatives: candidate ids and scores, best first. */
  negatives: number[];
  negativeScores: number[];
}

/** Mines hard negatives for (query, positive) pairs; see the file comment and {@link MineOptions}. */
export async function mineHardNegatives(model: MiningEncoder, pairs: readonly MiningPair[], opts: MineOptions = {}): Promise<MiningResult> {
  if (model === null || typeof model !== 'object' || typeof model.encodeMatrix !== 'function') {
    throw new TypeError('mineHardNegatives: model must have an encodeMatrix method (a SentenceTransformer)');
  }
  if (!Array.isArray(pairs)) throw new TypeError('mineHardNegatives: pairs must be an array of { query, positive }');
  if (pairs.length === 0) throw new RangeError('mineHardNegatives: no pairs given; pass at least one { query, positive }');
  pairs.forEach((p, i) => {
    if (p === null || typeof p !== 'object') throw new TypeError(`mineHardNegatives: pairs[${i}] must be { query, positive }`);
    if (typeof p.query !== 'string') throw new TypeError(`mineHardNegatives: pairs[${i}].query must be a string, got ${p.query === null ? 'null' : typeof p.query}`);
    if (typeof p.positive !== 'string') throw new TypeError(`mineHardNegatives: pairs[${i}].positive must be a string, got ${p.positive === null ? 'null' : typeof p.positive}`);
  });
  if (opts.corpus !== undefined) {
    if (!Array.isArray(opts.corpus)) throw new TypeError('mineHardNegatives: corpus must be an array of strings');
    opts.corpus.forEach((t, i) => {
      if (typeof t !== 'string') throw new TypeError(`mineHardNegatives: corpus[${i}] must be a string, got ${t === null ? 'null' : typeof t}`);
    });
  }

  const notes: string[] = [];
  const numNegatives = checkInt(opts.numNegatives, 'numNegatives', 3, 1);
  const rangeMin = checkInt(opts.rangeMin, 'rangeMin', 0, 0);
  const maxScore = checkNumber(opts.maxScore, 'maxScore');
  const minScore = checkNumber(opts.minScore, 'minScore');
  const margin = checkNumber(opts.margin, 'margin');
  const relativeMargin = checkNumber(opts.relativeMargin, 'relativeMargin');
  const seed = checkInt(opts.seed, 'seed', 42, Number.MIN_SAFE_INTEGER);
  const batchSize = checkInt(opts.batchSize, 'batchSize', 32, 1);
  const corpusChunk = checkInt(opts.corpusChunkSize, 'corpusChunkSize', 16384, 1);
  const queryChunk = checkInt(opts.queryChunkSize, 'queryChunkSize', 4096, 1);
  const sampling = opts.samplingStrategy ?? 'top';
  if (sampling !== 'top' && sampling !== 'random') throw new RangeError(`mineHardNegatives: samplingStrategy must be 'top' or 'random', got ${JSON.stringify(sampling)}`);
  let format = opts.outputFormat ?? 'triplet';
  if (!MINING_OUTPUT_FORMATS.includes(format)) {
    throw new RangeError(`mineHardNegatives: outputFormat must be one of ${MINING_OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  const includePositives = opts.includePositives ?? false;
  if (includePositives && format !== 'n-tuple') {
    notes.push(`includePositives keeps the ranking order, so the output format is n-tuple instead of ${format}`);
    format = 'n-tuple';
  }

  // group by query; candidates = corpus ∪ positives, deduplicated, corpus first
  const candidateIds = new Map<string, number>();
  const candidates: string[] = [];
  const idOf = (t: string): number => {
    let id = candidateIds.get(t);
    if (id === undefined) {
      id = candidates.length;
      candidates.push(t);
      candidateIds.set(t, id);
    }
    return id;
  };
  for (const t of opts.corpus ?? []) idOf(t);
  const groups: QueryGroup[] = [];
  const groupOf = new Map<string, QueryGroup>();
  let uniquePairs = 0;
  for (const p of pairs) {
    let g = groupOf.get(p.query);
    if (!g) {
      g = { text: p.query, positives: [], positiveScores: [], negatives: [], negativeScores: [] };
      groupOf.set(p.query, g);
      groups.push(g);
    }
    const id = idOf(p.positive);
    if (!g.positives.includes(id)) {
      g.positives.push(id);
      uniquePairs++;
    }
  }
  if (uniquePairs < pairs.length) notes.push(`${pairs.length - uniquePairs} repeated (query, positive) pair(s) mined once`);
  let maxPositives = 0;
  let ownMax = 0; // ranks skip a query's own texts, so the index is asked for that many more
  for (const g of groups) {
    maxPositives = Math.max(maxPositives, g.positives.length);
    ownMax = Math.max(ownMax, (includePositives ? 0 : g.positives.length) + (candidateIds.has(g.text) ? 1 : 0));
  }
  const filtering = margin !== undefined || relativeMargin !== undefined || maxScore !== undefined;
  const rangeMax = opts.rangeMax === undefined
    ? rangeMin + numNegatives * (filtering ? 10 : 1) + maxPositives
    : checkInt(opts.rangeMax, 'rangeMax', 0, 1);
  if (rangeMin >= rangeMax) throw new RangeError(`mineHardNegatives: rangeMin (${rangeMin}) must be below rangeMax (${rangeMax})`);
  if (numNegatives > rangeMax - rangeMin) {
    throw new RangeError(
      `mineHardNegatives: cannot mine ${numNegatives} negatives from ranks ${rangeMin} to ${rangeMax - 1} (${rangeMax - rangeMin} candidates); ` +
        'lower numNegatives or rangeMin, or raise rangeMax',
    );
  }
  const searchK = Math.min(rangeMax + ownMax, candidates.length);

  // encode the candidates chunk by chunk into the index; keep the positives' vectors
  const totalTexts = candidates.length + groups.length;
  let done = 0;
  const positiveSet = new Set<number>();
  for (const g of groups) for (const id of g.positives) positiveSet.add(id);
  const positiveRow = new Map<number, number>();
  let positiveVecs: Float32Array | null = null;
  let dim = 0;
  let index: SearchIndex | null = null;
  const report: MiningReport = {
    pairs: pairs.length, uniquePairs, queries: groups.length, candidates: candidates.length,
    numNegatives, rangeMin, rangeMax, searchK, samplingStrategy: sampling, outputFormat: format,
    queriesWithFewerNegatives: 0, queriesWithoutNegatives: 0, negatives: 0, rows: 0, pairsWithoutRow: 0,
    skipped: { positive: 0, sameAsQuery: 0, rangeMin: 0, margin: 0, relativeMargin: 0, maxScore: 0, minScore: 0 },
    scores: { positive: summarizeScores([]), negative: summarizeScores([]), difference: summarizeScores([]) },
    notes,
  };
  const encode = async (texts: string[], prompt: string | undefined): Promise<{ data: Float32Array; rows: number; dim: number }> => {
    const m = await model.encodeMatrix(texts, { batchSize, normalize: true, prompt });
    if (m.rows !== texts.length || m.data.length < m.rows * m.dim) {
      throw new Error(`mineHardNegatives: the encoder returned ${m.rows} rows of ${m.dim} for ${texts.length} texts`);
    }
    if (dim === 0) dim = m.dim;
    else if (m.dim !== dim) throw new Error(`mineHardNegatives: the encoder returned dimension ${m.dim} after ${dim}`);
    done += texts.length;
    opts.onProgress?.(done, totalTexts);
    return { data: m.data, rows: m.rows, dim: m.dim };
  };
  try {
    for (let start = 0; start < candidates.length; start += corpusChunk) {
      const m = await encode(candidates.slice(start, start + corpusChunk), opts.corpusPrompt);
      if (!index) {
        index = opts.createIndex ? opts.createIndex(m.dim) : new ExactIndex(m.dim);
        positiveVecs = new Float32Array(positiveSet.size * m.dim);
      }
      await index.add(m);
      for (let r = 0; r < m.rows; r++) {
        const id = start + r;
        if (!positiveSet.has(id)) continue;
        const row = positiveRow.size;
        positiveRow.set(id, row);
        positiveVecs!.set(m.data.subarray(r * m.dim, (r + 1) * m.dim), row * m.dim);
      }
    }
    const rand = seededRandom(seed);
    const posAll: number[] = [];
    const negAll: number[] = [];
    const diffAll: number[] = [];
    for (let q0 = 0; q0 < groups.length; q0 += queryChunk) {
      const chunk = groups.slice(q0, q0 + queryChunk);
      const qv = await encode(chunk.map((g) => g.text), opts.queryPrompt);
      // positive scores, one per (query, positive)
      const pairRows: number[] = [];
      const posRows: number[] = [];
      chunk.forEach((g, i) => {
        for (const id of g.positives) {
          pairRows.push(i);
          posRows.push(positiveRow.get(id)!);
        }
      });
      const a = new Float32Array(pairRows.length * dim);
      const b = new Float32Array(pairRows.length * dim);
      pairRows.forEach((r, i) => a.set(qv.data.subarray(r * dim, (r + 1) * dim), i * dim));
      posRows.forEach((r, i) => b.set(positiveVecs!.subarray(r * dim, (r + 1) * dim), i * dim));
      const ps = await pairedCosine({ data: a, rows: pairRows.length, dim }, { data: b, rows: pairRows.length, dim });
      let p = 0;
      for (const g of chunk) for (let j = 0; j < g.positives.length; j++) g.positiveScores.push(ps[p++]);

      const found = await index!.search(qv, searchK);
      chunk.forEach((g, i) => {
        const own = new Set(includePositives ? [] : g.positives);
        const selfId = candidateIds.get(g.text);
        const pos = g.positiveScores.reduce((x, y) => Math.min(x, y), Number.POSITIVE_INFINITY);
        const kept: { id: number; score: number }[] = [];
        let rank = 0;
        for (let j = 0; j < searchK; j++) {
          const id = found.ids[i * searchK + j];
          if (id < 0) break;
          const s = found.scores[i * searchK + j];
          if (own.has(id)) {
            report.skipped.positive++;
            continue;
          }
          if (id === selfId) {
            report.skipped.sameAsQuery++;
            continue;
          }
          const r = rank++;
          if (r >= rangeMax) break;
          if (r < rangeMin) report.skipped.rangeMin++;
          else if (margin !== undefined && s > pos - margin) report.skipped.margin++;
          else if (relativeMargin !== undefined && s > pos - Math.abs(pos) * relativeMargin) report.skipped.relativeMargin++;
          else if (maxScore !== undefined && s > maxScore) report.skipped.maxScore++;
          else if (minScore !== undefined && s < minScore) report.skipped.minScore++;
          else kept.push({ id, score: s });
        }
        let chosen = kept.slice(0, numNegatives);
        if (sampling === 'random' && kept.length > numNegatives) {
          // partial Fisher–Yates: the first numNegatives of a seeded shuffle, then back in score order
          const order = kept.map((_, t) => t);
          for (let t = 0; t < numNegatives; t++) {
            const u = t + Math.floor(rand() * (order.length - t));
            [order[t], order[u]] = [order[u], order[t]];
          }
          chosen = order.slice(0, numNegatives).sort((x, y) => x - y).map((t) => kept[t]);
        }
        g.negatives = chosen.map((c) => c.id);
        g.negativeScores = chosen.map((c) => c.score);
        if (chosen.length < numNegatives) report.queriesWithFewerNegatives++;
        if (chosen.length === 0) report.queriesWithoutNegatives++;
        report.negatives += chosen.length;
        g.positiveScores.forEach((ps2) => {
          posAll.push(ps2);
          for (const ns of g.negativeScores) {
            negAll.push(ns);
            diffAll.push(ps2 - ns);
          }
        });
      });
    }
    report.scores = { positive: summarizeScores(posAll), negative: summarizeScores(negAll), difference: summarizeScores(diffAll) };
  } finally {
    await index?.close();
  }
  if (report.queriesWithFewerNegatives > 0) {
    notes.push(
      `${report.queriesWithFewerNegatives} of ${groups.length} queries got fewer than ${numNegatives} negatives; ` +
        'raise rangeMax or lower rangeMin, margin or relativeMargin, or raise maxScore, to find more',
    );
  }
  const { columns, rows, without } = buildRows(groups, candidates, format, numNegatives, opts.outputScores ?? false);
  report.rows = rows.length;
  report.pairsWithoutRow = without;
  return { columns, rows, report };
}

function buildRows(
  groups: QueryGroup[],
  texts: string[],
  format: MiningOutputFormat,
  numNegatives: number,
  scores: boolean,
): { columns: string[]; rows: MinedValue[][]; without: number } {
  const rows: MinedValue[][] = [];
  let without = 0;
  switch (format) {
    case 'triplet':
      for (const g of groups) {
        g.positives.forEach((pid, j) => {
          if (g.negatives.length === 0) without++;
          g.negatives.forEach((nid, t) => {
            const row: MinedValue[] = [g.text, texts[pid], texts[nid]];
            if (scores) row.push([g.positiveScores[j], g.negativeScores[t]]);
            rows.push(row);
          });
        });
      }
      return { columns: ['anchor', 'positive', 'negative', ...(scores ? ['scores'] : [])], rows, without };
    case 'n-tuple': {
      for (const g of groups) {
        g.positives.forEach((pid, j) => {
          if (g.negatives.length < numNegatives) {
            without++;
            return;
          }
          const row: MinedValue[] = [g.text, texts[pid], ...g.negatives.map((n) => texts[n])];
          if (scores) row.push([g.positiveScores[j], ...g.negativeScores]);
          rows.push(row);
        });
      }
      const negs = Array.from({ length: numNegatives }, (_, i) => `negative_${i + 1}`);
      return { columns: ['anchor', 'positive', ...negs, ...(scores ? ['scores'] : [])], rows, without };
    }
    case 'labeled-pair':
      for (const g of groups) {
        g.positives.forEach((pid, j) => rows.push([g.text, texts[pid], scores ? g.positiveScores[j] : 1]));
        g.negatives.forEach((nid, t) => rows.push([g.text, texts[nid], scores ? g.negativeScores[t] : 0]));
      }
      return { columns: ['anchor', 'document', scores ? 'score' : 'label'], rows, without };
    case 'labeled-list':
      for (const g of groups) {
        g.positives.forEach((pid, j) => {
          if (g.negatives.length === 0) {
            without++;
            return;
          }
          rows.push([
            g.text,
            [texts[pid], ...g.negatives.map((n) => texts[n])],
            scores ? [g.positiveScores[j], ...g.negativeScores] : [1, ...g.negatives.map(() => 0)],
          ]);
        });
      }
      return { columns: ['anchor', 'documents', scores ? 'scores' : 'labels'], rows, without };
  }
}

/** The rows as objects keyed by column name (what the command line writes as JSON lines). */
export function miningRecords(result: Pick<MiningResult, 'columns' | 'rows'>): Record<string, MinedValue>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}
