// What every evaluator shares: the Encoder it evaluates (anything with encodeMatrix, e.g. a
// SentenceTransformer), the SentenceEvaluator contract (evaluate → metrics, primaryMetric), the
// metric naming rule "<name>_<metric>" when a name is given (as sentence-transformers prefixes
// its metrics), option checks, and the encode step: texts → float32 rows, optionally L2-normalised,
// quantized to a precision and turned back into the numbers that are scored.

import type { ScoreFunction } from './metrics.js';
import { isPrecision, quantizeEmbeddings, toScoringMatrix, type FloatMatrix, type Precision } from './quantize.js';

export interface EncodeMatrixOptions {
  batchSize?: number;
  normalize?: boolean;
  truncateDim?: number;
  prompt?: string;
}

/** A model the evaluators can run: SentenceTransformer, or any object with this method. */
export interface Encoder {
  encodeMatrix(texts: readonly string[], opts?: EncodeMatrixOptions): Promise<{ data: Float32Array; rows: number; dim: number }>;
  /** The model's own similarity function (used where sentence-transformers uses it as default). */
  readonly similarityFnName?: ScoreFunction;
}

/** What the trainer and `evaluate` run: metrics of a model (any object with this method). */
export interface Evaluator {
  evaluate(model: Encoder): Promise<Record<string, number>>;
  /** Key of the metric that summarises the evaluation (best-model selection). */
  readonly primaryMetric?: string;
}

/** The built-in evaluators: an Evaluator with a name and a primary metric. */
export interface SentenceEvaluator extends Evaluator {
  /** Prefix of every metric key ("" for none). */
  readonly name: string;
  /** Key (prefix included) of the metric that summarises the evaluation. */
  readonly primaryMetric: string;
}

export interface EvaluatorOptions {
  /** Prefix of the metric keys: "sts-dev" gives "sts-dev_spearman_cosine". */
  name?: string;
  /** Texts per encodeMatrix batch. */
  batchSize?: number;
}

/** "<name>_<key>", or the key alone when the name is empty. */
export function metricKey(name: string, key: string): string {
  return name ? `${name}_${key}` : key;
}

export function prefixMetrics(name: string, metrics: Record<string, number>): Record<string, number> {
  if (!name) return metrics;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) out[metricKey(name, k)] = v;
  return out;
}

export function checkName(name: unknown): string {
  if (name === undefined) return '';
  if (typeof name !== 'string') throw new Error(`name must be a string, got ${typeof name}`);
  return name;
}

export function checkPositiveInt(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

export function checkOptionalPositiveInt(v: unknown, what: string): number | undefined {
  return v === undefined ? undefined : checkPositiveInt(v, what, 0);
}

export function checkPrecision(p: unknown): Precision | undefined {
  if (p === undefined) return undefined;
  if (!isPrecision(p)) throw new Error(`precision must be one of float32, int8, uint8, binary, ubinary; got ${String(p)}`);
  return p;
}

export function checkTexts(texts: unknown, what: string): readonly string[] {
  if (!Array.isArray(texts)) throw new Error(`${what} must be an array of strings`);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw new Error(`${what}[${i}] is not a string`);
  });
  return texts as readonly string[];
}

/** Reads a Map or a plain object of string → T into a Map (insertion order kept). */
export function toMap<T>(m: ReadonlyMap<string, T> | Record<string, T>, what: string): Map<string, T> {
  if (m instanceof Map) return new Map(m);
  if (m && typeof m === 'object') return new Map(Object.entries(m as Record<string, T>));
  throw new Error(`${what} must be a Map or an object`);
}

export interface EmbedOptions {
  batchSize: number;
  truncateDim?: number;
  /** When set, the rows are L2-normalised, quantized and converted back, as ST's evaluators do. */
  precision?: Precision;
  prompt?: string;
}

/**
 * Encodes `texts` as sentence-transformers' evaluators do: plain embeddings without a precision;
 * with one, normalised embeddings quantized over this call's rows (the calibration set is the
 * texts encoded together) and turned into the numbers ST scores.
 */
export async function embed(model: Encoder, texts: readonly string[], o: EmbedOptions): Promise<FloatMatrix> {
  const opts: EncodeMatrixOptions = { batchSize: o.batchSize };
  if (o.truncateDim !== undefined) opts.truncateDim = o.truncateDim;
  if (o.prompt !== undefined) opts.prompt = o.prompt;
  if (o.precision !== undefined) opts.normalize = true;
  const m = await model.encodeMatrix(texts, opts);
  if (m.rows !== texts.length) throw new Error(`encodeMatrix returned ${m.rows} rows for ${texts.length} texts`);
  if (m.data.length !== m.rows * m.dim) throw new Error(`encodeMatrix returned ${m.data.length} numbers for ${m.rows} rows of ${m.dim}`);
  if (o.truncateDim !== undefined && o.truncateDim > m.dim) {
    throw new RangeError(`truncateDim ${o.truncateDim} is more than the ${m.dim} dimensions the model's embeddings have; use at most ${m.dim}`);
  }
  const dim = o.truncateDim !== undefined ? o.truncateDim : m.dim;
  let rows: FloatMatrix = { data: m.data, rows: m.rows, dim: m.dim };
  if (dim < m.dim) {
    // an encoder that ignores truncateDim: keep the first `dim` numbers of each row
    const data = new Float32Array(m.rows * dim);
    for (let r = 0; r < m.rows; r++) data.set(m.data.subarray(r * m.dim, r * m.dim + dim), r * dim);
    rows = { data, rows: m.rows, dim };
  }
  if (o.precision === undefined || m.rows === 0) return rows;
  return toScoringMatrix(quantizeEmbeddings(rows, o.precision));
}

/** Largest value of `xs`, ignoring NaN; NaN when all are NaN. */
export function maxIgnoringNaN(xs: readonly number[]): number {
  let best = NaN;
  for (const x of xs) if (!Number.isNaN(x) && !(x <= best)) best = x;
  return best;
}
