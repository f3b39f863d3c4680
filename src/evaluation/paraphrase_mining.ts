// ParaphraseMiningEvaluator: mines the most similar sentence pairs of a collection by cosine
// similarity and checks them against known duplicate pairs. Each sentence keeps its topK most
// similar other sentences (a bounded heap, so memory is O(n × topK)); the union of those pairs,
// unordered and without repeats, sorted by score, is cut to maxPairs. Walking that list best
// first, with D = number of duplicate pairs among the sentences:
//   average_precision = (Σ over extracted duplicates of precision at that point) / D
//   f1, precision, recall = the best F1 of "the first i pairs are duplicates", with
//   threshold = midpoint of that pair's score and the next one's
// as sentence-transformers v3 reports them. Takes sentences (id → text), duplicate id pairs, options.

import {
  checkName,
  checkOptionalPositiveInt,
  checkPositiveInt,
  embed,
  metricKey,
  prefixMetrics,
  toMap,
  type Encoder,
  type EvaluatorOptions,
  type SentenceEvaluator,
} from './base.js';
import { rowNorms, rowScore } from './metrics.js';
import { TopK } from './topk.js';

export interface ParaphraseMiningOptions extends EvaluatorOptions {
  /** Neighbours kept per sentence (default 100). */
  topK?: number;
  /** Pairs kept after mining (default 500000). */
  maxPairs?: number;
  /** Treat duplicates of duplicates as duplicates (default false). */
  addTransitiveClosure?: boolean;
  truncateDim?: number;
}

export interface MinedPair {
  score: number;
  /** Row indices, i < j. */
  i: number;
  j: number;
}

/**
 * The candidate pairs of rows of `m` by cosine similarity: every row's topK best other rows,
 * unordered pairs without repeats, best first (ties: lower i, then lower j), at most maxPairs.
 */
export function minePairs(m: { data: ArrayLike<number>; rows: number; dim: number }, topK: number, maxPairs: number): MinedPair[] {
  const norms = rowNorms(m);
  const seen = new Map<number, MinedPair>();
  const k = Math.min(topK, Math.max(0, m.rows - 1));
  for (let i = 0; i < m.rows; i++) {
    const heap = new TopK(k);
    for (let j = 0; j < m.rows; j++) if (j !== i) heap.push(rowScore('cosine', m, i, m, j, norms, norms), j);
    for (const e of heap.sorted()) {
      const a = Math.min(i, e.index);
      const b = Math.max(i, e.index);
      const key = a * m.rows + b;
      if (!seen.has(key)) seen.set(key, { score: e.score, i: a, j: b });
    }
  }
  const pairs = [...seen.values()].sort((x, y) => y.score - x.score || x.i - y.i || x.j - y.j);
  return pairs.length > maxPairs ? pairs.slice(0, maxPairs) : pairs;
}

export class ParaphraseMiningEvaluator implements SentenceEvaluator {
  readonly name: string;
  readonly batchSize: number;
  readonly topK: number;
  readonly maxPairs: number;
  readonly truncateDim: number | undefined;
  readonly ids: readonly string[];
  readonly sentences: readonly string[];
  /** Duplicate partners of each id (symmetric; ids not in the sentences are dropped). */
  readonly duplicates: ReadonlyMap<string, ReadonlySet<string>>;
  /** Number of unordered duplicate pairs among the sentences. */
  readonly totalDuplicates: number;

  constructor(sentences: ReadonlyMap<string, string> | Record<string, string>, duplicates: Iterable<readonly [string, string]>, opts: ParaphraseMiningOptions = {}) {
    const map = toMap(sentences, 'sentences');
    for (const [id, t] of map) if (typeof t !== 'string') throw new Error(`sentences["${id}"] is not a string`);
    this.ids = [...map.keys()];
    this.sentences = [...map.values()];
    this.name = checkName(opts.name);
    this.batchSize = checkPositiveInt(opts.batchSize, 'batchSize', 16);
    this.topK = checkPositiveInt(opts.topK, 'topK', 100);
    this.maxPairs = checkPositiveInt(opts.maxPairs, 'maxPairs', 500000);
    this.truncateDim = checkOptionalPositiveInt(opts.truncateDim, 'truncateDim');

    const dup = new Map<string, Set<string>>();
    const link = (a: string, b: string) => {
      if (!dup.has(a)) dup.set(a, new Set());
      dup.get(a)!.add(b);
    };
    for (const pair of duplicates) {
      const [a, b] = pair;
      if (typeof a !== 'string' || typeof b !== 'string') throw new Error('duplicates must be pairs of sentence ids');
      if (a === b || !map.has(a) || !map.has(b)) continue;
      link(a, b);
      link(b, a);
    }
    if (opts.addTransitiveClosure) {
      const done = new Set<string>();
      for (const start of [...dup.keys()]) {
        if (done.has(start)) continue;
        const component: string[] = [];
        const queue = [start];
        done.add(start);
        while (queue.length) {
          const x = queue.shift()!;
          component.push(x);
          for (const y of dup.get(x) ?? []) {
            if (!done.has(y)) {
              done.add(y);
              queue.push(y);
            }
          }
        }
        for (const a of component) for (const b of component) if (a !== b) link(a, b);
      }
    }
    let total = 0;
    for (const s of dup.values()) total += s.size;
    this.totalDuplicates = total / 2;
    if (this.totalDuplicates === 0) throw new Error('no duplicate pair among the sentences: nothing to evaluate');
    this.duplicates = dup;
  }

  get primaryMetric(): string {
    return metricKey(this.name, 'average_precision');
  }

  async evaluate(model: Encoder): Promise<Record<string, number>> {
    const e = await embed(model, this.sentences, { batchSize: this.batchSize, truncateDim: this.truncateDim });
    const pairs = minePairs(e, this.topK, this.maxPairs);
    let extracted = 0;
    let correct = 0;
    let sumPrecision = 0;
    const best = { f1: 0, precision: 0, recall: 0, threshold: 0 };
    for (let idx = 0; idx < pairs.length; idx++) {
      const { i, j } = pairs[idx];
      extracted++;
      if (this.duplicates.get(this.ids[i])?.has(this.ids[j])) {
        correct++;
        const precision = correct / extracted;
        const recall = correct / this.totalDuplicates;
        const f1 = (2 * precision * recall) / (precision + recall);
        sumPrecision += precision;
        if (f1 > best.f1) {
          best.f1 = f1;
          best.precision = precision;
          best.recall = recall;
          best.threshold = (pairs[idx].score + pairs[Math.min(idx + 1, pairs.length - 1)].score) / 2;
        }
      }
    }
    return prefixMetrics(this.name, {
      average_precision: sumPrecision / this.totalDuplicates,
      f1: best.f1,
      precision: best.precision,
      recall: best.recall,
      threshold: best.threshold,
    });
  }
}
