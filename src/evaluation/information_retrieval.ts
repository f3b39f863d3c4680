// InformationRetrievalEvaluator: ranks a corpus for every query by embedding similarity and
// measures the ranking against relevance judgements, with sentence-transformers v3's metrics
// and keys "<fn>_<metric>@<k>" (e.g. cosine_ndcg@10), each averaged over the queries that have
// at least one relevant document:
//   accuracy@k  = 1 if a relevant document is in the top k, else 0
//   precision@k = (relevant in top k) / k            (k, not the number retrieved, as ST)
//   recall@k    = (relevant in top k) / |relevant|
//   mrr@k       = 1 / rank of the first relevant document in the top k (0 if none)
//   ndcg@k      = DCG@k / IDCG@k, DCG@k = Σᵢ₌₁..ₖ gain(relᵢ) / log₂(i+1), IDCG from the ideal order
//   map@k       = Σ over relevant ranks r ≤ k of precision@r, divided by min(k, |relevant|)
// Relevance is graded (document → grade; grade > 0 is relevant). nDCG's gain is binary by
// default, as ST computes it (gain 1 for any relevant document); 'linear' (gain = grade) and
// 'exponential' (gain = 2^grade − 1) use the grades. The corpus is encoded chunk by chunk and
// each query keeps only its best max-k documents in a bounded heap, so memory is
// O(queries × max k + chunk) whatever the corpus size. Takes queries and corpus (id → text),
// relevance judgements (query id → document id → grade, or a set of document ids) and options.

import {
  checkName,
  checkOptionalPositiveInt,
  checkPositiveInt,
  checkPrecision,
  embed,
  metricKey,
  prefixMetrics,
  toMap,
  type Encoder,
  type EvaluatorOptions,
  type SentenceEvaluator,
} from './base.js';
import { isScoreFunction, rowNorms, rowScore, type ScoreFunction } from './metrics.js';
import type { Precision } from './quantize.js';
import { TopK } from './topk.js';

export type NdcgGain = 'binary' | 'linear' | 'exponential';

export interface RetrievalCutoffs {
  accuracyAtK: readonly number[];
  precisionRecallAtK: readonly number[];
  mrrAtK: readonly number[];
  ndcgAtK: readonly number[];
  mapAtK: readonly number[];
}

export const DEFAULT_CUTOFFS: RetrievalCutoffs = {
  accuracyAtK: [1, 3, 5, 10],
  precisionRecallAtK: [1, 3, 5, 10],
  mrrAtK: [10],
  ndcgAtK: [10],
  mapAtK: [100],
};

/**
 * How the relevance judgements match the queries and the corpus: judgements (grade > 0) that
 * point at a document id the corpus lacks can never be retrieved, so they pull recall, MAP and
 * nDCG down without saying why; judgements of unknown query ids are not evaluated at all.
 */
export interface QrelsCoverage {
  /** Relevant (query, document) judgements, grade > 0. */
  judgements: number;
  /** Of those, judgements whose document id is not in the corpus. */
  unknownDocuments: number;
  /** Judgements whose query id is not among the queries (not evaluated). */
  unknownQueries: number;
  /** Evaluated queries none of whose relevant documents is in the corpus (they score 0). */
  queriesWithoutKnownDocument: number;
  /** A few of the unknown ids, for the message. */
  examples: { query: string; document: string }[];
}

/** A sentence saying what is wrong with the coverage, or null when every judgement is usable. */
export function describeQrelsCoverage(c: QrelsCoverage): string | null {
  if (c.unknownDocuments === 0 && c.unknownQueries === 0) return null;
  const parts: string[] = [];
  if (c.unknownDocuments > 0) {
    const pct = ((100 * c.unknownDocuments) / c.judgements).toFixed(1);
    parts.push(`${c.unknownDocuments} of ${c.judgements} relevance judgements (${pct}%) point at document ids that are not in the corpus` +
      (c.queriesWithoutKnownDocument > 0 ? `, and ${c.queriesWithoutKnownDocument} evaluated quer${c.queriesWithoutKnownDocument === 1 ? 'y has' : 'ies have'} no relevant document in the corpus at all` : '') +
      '; those documents can never be retrieved, so recall, MAP and nDCG are lower than the model deserves');
  }
  if (c.unknownQueries > 0) parts.push(`${c.unknownQueries} judgement(s) name query ids that are not among the queries (not evaluated)`);
  const ex = c.examples.slice(0, 3).map((e) => `query ${JSON.stringify(e.query)} → document ${JSON.stringify(e.document)}`).join(', ');
  return `${parts.join('; ')}${ex ? ` (e.g. ${ex})` : ''}; check that the corpus, queries and qrels belong to the same dataset and split`;
}

export type RelevanceJudgements =
  | ReadonlyMap<string, ReadonlyMap<string, number> | ReadonlySet<string> | readonly string[]>
  | Record<string, Record<string, number> | readonly string[]>;

export interface InformationRetrievalOptions extends EvaluatorOptions, Partial<RetrievalCutoffs> {
  /** Corpus texts encoded per chunk (default 50000). */
  corpusChunkSize?: number;
  /** Score functions (default: the model's similarityFnName, else cosine). */
  scoreFunctions?: readonly ScoreFunction[];
  /** Function whose ndcg@max-k is the primary metric; default: the one with the highest ndcg. */
  mainScoreFunction?: ScoreFunction;
  /** Gain of a document of grade g in nDCG (default 'binary', as sentence-transformers). */
  ndcgGain?: NdcgGain;
  /** Text prepended to every query / corpus text. */
  queryPrompt?: string;
  corpusPrompt?: string;
  truncateDim?: number;
  /** Quantize queries and each corpus chunk (normalised first) before scoring, as ST does. */
  precision?: Precision;
}

function checkCutoffs(v: readonly number[] | undefined, what: string, dflt: readonly number[]): readonly number[] {
  if (v === undefined) return dflt;
  if (!Array.isArray(v) || v.length === 0) throw new Error(`${what} must be a non-empty array of positive integers`);
  for (const k of v) checkPositiveInt(k, `${what} entry`, 1);
  return [...v];
}

function gainOf(grade: number, gain: NdcgGain): number {
  if (grade <= 0) return 0;
  return gain === 'binary' ? 1 : gain === 'linear' ? grade : 2 ** grade - 1;
}

function dcg(gains: readonly number[], k: number): number {
  let s = 0;
  for (let i = 0; i < Math.min(gains.length, k); i++) s += gains[i] / Math.log2(i + 2);
  return s;
}

/**
 * The retrieval metrics of ranked document lists (best first), one per query, against each
 * query's relevance grades (only grades > 0 count; every query must have one). Keys
 * "accuracy@k", "precision@k", "recall@k", "ndcg@k", "mrr@k", "map@k", means over the queries.
 */
export function retrievalMetrics(
  rankings: readonly (readonly string[])[],
  relevant: readonly ReadonlyMap<string, number>[],
  cutoffs: RetrievalCutoffs = DEFAULT_CUTOFFS,
  ndcgGain: NdcgGain = 'binary',
): Record<string, number> {
  if (rankings.length !== relevant.length) throw new Error(`retrievalMetrics: ${rankings.length} rankings for ${relevant.length} relevance sets`);
  const nq = rankings.length;
  const sums = {
    accuracy: new Map<number, number>(cutoffs.accuracyAtK.map((k) => [k, 0])),
    precision: new Map<number, number>(cutoffs.precisionRecallAtK.map((k) => [k, 0])),
    recall: new Map<number, number>(cutoffs.precisionRecallAtK.map((k) => [k, 0])),
    ndcg: new Map<number, number>(cutoffs.ndcgAtK.map((k) => [k, 0])),
    mrr: new Map<number, number>(cutoffs.mrrAtK.map((k) => [k, 0])),
    map: new Map<number, number>(cutoffs.mapAtK.map((k) => [k, 0])),
  };
  for (let q = 0; q < nq; q++) {
    const ranked = rankings[q];
    const grades = relevant[q];
    let nRel = 0;
    const relGrades: number[] = [];
    for (const g of grades.values()) {
      if (g > 0) {
        nRel++;
        relGrades.push(g);
      }
    }
    if (nRel === 0) throw new Error(`retrievalMetrics: query ${q} has no relevant document`);
    const isRel = ranked.map((d) => (grades.get(d) ?? 0) > 0);
    // hits[i] = relevant documents among the first i
    const hits = new Int32Array(ranked.length + 1);
    for (let i = 0; i < ranked.length; i++) hits[i + 1] = hits[i] + (isRel[i] ? 1 : 0);
    const hitsAt = (k: number) => hits[Math.min(k, ranked.length)];
    for (const k of cutoffs.accuracyAtK) sums.accuracy.set(k, sums.accuracy.get(k)! + (hitsAt(k) > 0 ? 1 : 0));
    for (const k of cutoffs.precisionRecallAtK) {
      sums.precision.set(k, sums.precision.get(k)! + hitsAt(k) / k);
      sums.recall.set(k, sums.recall.get(k)! + hitsAt(k) / nRel);
    }
    const gains = ranked.map((d) => gainOf(grades.get(d) ?? 0, ndcgGain));
    const ideal = relGrades.map((g) => gainOf(g, ndcgGain)).sort((a, b) => b - a);
    for (const k of cutoffs.ndcgAtK) sums.ndcg.set(k, sums.ndcg.get(k)! + dcg(gains, k) / dcg(ideal, k));
    for (const k of cutoffs.mrrAtK) {
      const first = isRel.findIndex((r, i) => r && i < k);
      sums.mrr.set(k, sums.mrr.get(k)! + (first >= 0 ? 1 / (first + 1) : 0));
    }
    for (const k of cutoffs.mapAtK) {
      let correct = 0;
      let sumPrec = 0;
      for (let i = 0; i < Math.min(k, ranked.length); i++) {
        if (isRel[i]) {
          correct++;
          sumPrec += correct / (i + 1);
        }
      }
      sums.map.set(k, sums.map.get(k)! + sumPrec / Math.min(k, nRel));
    }
  }
  const out: Record<string, number> = {};
  for (const [metric, m] of Object.entries(sums)) for (const [k, s] of m) out[`${metric}@${k}`] = s / nq;
  return out;
}

function readRelevance(rel: RelevanceJudgements): Map<string, Map<string, number>> {
  const outer = toMap<ReadonlyMap<string, number> | ReadonlySet<string> | readonly string[] | Record<string, number>>(
    rel as ReadonlyMap<string, ReadonlyMap<string, number> | ReadonlySet<string> | readonly string[]>,
    'relevant',
  );
  const out = new Map<string, Map<string, number>>();
  for (const [qid, docs] of outer) {
    const m = new Map<string, number>();
    if (docs instanceof Set || Array.isArray(docs)) {
      for (const d of docs as Iterable<unknown>) {
        if (typeof d !== 'string') throw new Error(`relevant["${qid}"] holds a document id that is not a string`);
        m.set(d, 1);
      }
    } else {
      for (const [d, g] of toMap(docs as ReadonlyMap<string, number> | Record<string, number>, `relevant["${qid}"]`)) {
        if (typeof g !== 'number' || !Number.isFinite(g)) throw new Error(`relevant["${qid}"]["${d}"] is not a finite number`);
        if (g > 0) m.set(d, g);
      }
    }
    out.set(qid, m);
  }
  return out;
}

export class InformationRetrievalEvaluator implements SentenceEvaluator {
  readonly name: string;
  readonly batchSize: number;
  readonly corpusChunkSize: number;
  readonly cutoffs: RetrievalCutoffs;
  readonly ndcgGain: NdcgGain;
  readonly scoreFunctions: readonly ScoreFunction[] | undefined;
  readonly mainScoreFunction: ScoreFunction | undefined;
  readonly queryPrompt: string | undefined;
  readonly corpusPrompt: string | undefined;
  readonly truncateDim: number | undefined;
  readonly precision: Precision | undefined;
  /** Ids of the queries evaluated: those with at least one relevant document, in input order. */
  readonly queryIds: readonly string[];
  readonly queryTexts: readonly string[];
  readonly corpusIds: readonly string[];
  readonly corpusTexts: readonly string[];
  readonly relevant: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** How many judgements point at ids the queries or the corpus lack (see {@link describeQrelsCoverage}). */
  readonly coverage: QrelsCoverage;
  private bestFn: ScoreFunction | undefined;

  constructor(
    queries: ReadonlyMap<string, string> | Record<string, string>,
    corpus: ReadonlyMap<string, string> | Record<string, string>,
    relevant: RelevanceJudgements,
    opts: InformationRetrievalOptions = {},
  ) {
    this.name = checkName(opts.name);
    this.batchSize = checkPositiveInt(opts.batchSize, 'batchSize', 32);
    this.corpusChunkSize = checkPositiveInt(opts.corpusChunkSize, 'corpusChunkSize', 50000);
    this.cutoffs = {
      accuracyAtK: checkCutoffs(opts.accuracyAtK, 'accuracyAtK', DEFAULT_CUTOFFS.accuracyAtK),
      precisionRecallAtK: checkCutoffs(opts.precisionRecallAtK, 'precisionRecallAtK', DEFAULT_CUTOFFS.precisionRecallAtK),
      mrrAtK: checkCutoffs(opts.mrrAtK, 'mrrAtK', DEFAULT_CUTOFFS.mrrAtK),
      ndcgAtK: checkCutoffs(opts.ndcgAtK, 'ndcgAtK', DEFAULT_CUTOFFS.ndcgAtK),
      mapAtK: checkCutoffs(opts.mapAtK, 'mapAtK', DEFAULT_CUTOFFS.mapAtK),
    };
    const gain = opts.ndcgGain ?? 'binary';
    if (!['binary', 'linear', 'exponential'].includes(gain)) throw new Error(`ndcgGain must be binary, linear or exponential; got ${String(gain)}`);
    this.ndcgGain = gain;
    if (opts.scoreFunctions !== undefined) {
      if (opts.scoreFunctions.length === 0) throw new Error('scoreFunctions must name at least one function');
      for (const f of opts.scoreFunctions) if (!isScoreFunction(f)) throw new Error(`unknown score function "${String(f)}"`);
      this.scoreFunctions = [...new Set(opts.scoreFunctions)];
    }
    if (opts.mainScoreFunction !== undefined) {
      if (!isScoreFunction(opts.mainScoreFunction)) throw new Error(`unknown score function "${String(opts.mainScoreFunction)}"`);
      if (this.scoreFunctions && !this.scoreFunctions.includes(opts.mainScoreFunction)) throw new Error(`mainScoreFunction "${opts.mainScoreFunction}" is not among scoreFunctions`);
    }
    this.mainScoreFunction = opts.mainScoreFunction;
    this.queryPrompt = opts.queryPrompt;
    this.corpusPrompt = opts.corpusPrompt;
    this.truncateDim = checkOptionalPositiveInt(opts.truncateDim, 'truncateDim');
    this.precision = checkPrecision(opts.precision);

    const rel = readRelevance(relevant);
    this.relevant = rel;
    const q = toMap(queries, 'queries');
    const c = toMap(corpus, 'corpus');
    const qids: string[] = [];
    for (const [id, text] of q) {
      if (typeof text !== 'string') throw new Error(`queries["${id}"] is not a string`);
      if ((rel.get(id)?.size ?? 0) > 0) qids.push(id);
    }
    if (qids.length === 0) throw new Error('no query has a relevant document (a grade > 0 in relevant)');
    for (const [id, text] of c) if (typeof text !== 'string') throw new Error(`corpus["${id}"] is not a string`);
    this.queryIds = qids;
    this.queryTexts = qids.map((id) => q.get(id)!);
    this.corpusIds = [...c.keys()];
    this.corpusTexts = [...c.values()];
    this.coverage = coverageOf(rel, q, c);
    if (this.coverage.judgements > 0 && this.coverage.unknownDocuments === this.coverage.judgements) {
      throw new Error(`none of the ${this.coverage.judgements} relevance judgements points at a document in the corpus: ${describeQrelsCoverage(this.coverage)}`);
    }
  }

  private functionsFor(model?: Encoder): readonly ScoreFunction[] {
    if (this.scoreFunctions) return this.scoreFunctions;
    const own = model?.similarityFnName;
    return [this.mainScoreFunction ?? (isScoreFunction(own) ? own : 'cosine')];
  }

  get primaryMetric(): string {
    const fn = this.mainScoreFunction ?? this.bestFn ?? this.functionsFor()[0];
    return metricKey(this.name, `${fn}_ndcg@${Math.max(...this.cutoffs.ndcgAtK)}`);
  }

  /** Every cutoff list's largest k: how many documents each query keeps. */
  get maxK(): number {
    const c = this.cutoffs;
    return Math.max(...c.accuracyAtK, ...c.precisionRecallAtK, ...c.mrrAtK, ...c.ndcgAtK, ...c.mapAtK);
  }

  /** Per score function, per evaluated query: corpus ids of the best max-k documents, best first (ties: corpus order). */
  async rank(model: Encoder): Promise<Map<ScoreFunction, string[][]>> {
    const fns = this.functionsFor(model);
    const base = { batchSize: this.batchSize, truncateDim: this.truncateDim, precision: this.precision };
    const q = await embed(model, this.queryTexts, { ...base, prompt: this.queryPrompt });
    const qNorms = rowNorms(q);
    const k = Math.min(this.maxK, this.corpusIds.length);
    const heaps = fns.map(() => this.queryTexts.map(() => new TopK(k)));
    for (let start = 0; start < this.corpusTexts.length; start += this.corpusChunkSize) {
      const chunk = this.corpusTexts.slice(start, start + this.corpusChunkSize);
      const c = await embed(model, chunk, { ...base, prompt: this.corpusPrompt });
      if (c.dim !== q.dim) throw new Error(`query embeddings have ${q.dim} dimensions, corpus embeddings ${c.dim}`);
      const cNorms = rowNorms(c);
      fns.forEach((fn, f) => {
        for (let qi = 0; qi < q.rows; qi++) {
          const heap = heaps[f][qi];
          for (let j = 0; j < c.rows; j++) heap.push(rowScore(fn, q, qi, c, j, qNorms, cNorms), start + j);
        }
      });
    }
    const out = new Map<ScoreFunction, string[][]>();
    fns.forEach((fn, f) => out.set(fn, heaps[f].map((h) => h.sorted().map((e) => this.corpusIds[e.index]))));
    return out;
  }

  async evaluate(model: Encoder): Promise<Record<string, number>> {
    const rankings = await this.rank(model);
    const relevant = this.queryIds.map((id) => this.relevant.get(id)!);
    const metrics: Record<string, number> = {};
    const ndcgKey = `ndcg@${Math.max(...this.cutoffs.ndcgAtK)}`;
    let best: { fn: ScoreFunction; v: number } | undefined;
    for (const [fn, ranked] of rankings) {
      const m = retrievalMetrics(ranked, relevant, this.cutoffs, this.ndcgGain);
      for (const [key, v] of Object.entries(m)) metrics[`${fn}_${key}`] = v;
      if (!best || m[ndcgKey] > best.v) best = { fn, v: m[ndcgKey] };
    }
    this.bestFn = best?.fn;
    return prefixMetrics(this.name, metrics);
  }
}

function coverageOf(rel: ReadonlyMap<string, ReadonlyMap<string, number>>, queries: ReadonlyMap<string, string>, corpus: ReadonlyMap<string, string>): QrelsCoverage {
  const out: QrelsCoverage = { judgements: 0, unknownDocuments: 0, unknownQueries: 0, queriesWithoutKnownDocument: 0, examples: [] };
  for (const [qid, docs] of rel) {
    const known = queries.has(qid);
    let anyKnown = false;
    let any = false;
    for (const [did, grade] of docs) {
      if (!(grade > 0)) continue;
      any = true;
      out.judgements++;
      if (!known) out.unknownQueries++;
      if (corpus.has(did)) anyKnown = true;
      else {
        out.unknownDocuments++;
        if (out.examples.length < 5) out.examples.push({ query: qid, document: did });
      }
    }
    if (known && any && !anyKnown) out.queriesWithoutKnownDocument++;
  }
  return out;
}
