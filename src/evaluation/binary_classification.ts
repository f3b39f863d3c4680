// BinaryClassificationEvaluator: how well a threshold on embedding similarity separates similar
// pairs (label 1) from dissimilar ones (label 0). For each function — cosine and dot
// (similarities: "similar when score ≥ t") and euclidean and manhattan (distances ‖a−b‖₂,
// ‖a−b‖₁: "similar when distance ≤ t") — it reports, as sentence-transformers v3 names them:
//   <fn>_accuracy, <fn>_accuracy_threshold   best accuracy over the sorted-score sweep
//   <fn>_f1, <fn>_f1_threshold, <fn>_precision, <fn>_recall   best F1 over the same sweep
//   <fn>_ap    average precision of the similarity (the negated distance)
//   <fn>_mcc   Matthews correlation of the predictions at the F1 threshold
// and max_<metric> over the functions when more than one is evaluated. Each distinct text is
// encoded once. Takes two sentence lists, 0/1 labels and options.

import {
  checkName,
  checkOptionalPositiveInt,
  checkPositiveInt,
  checkTexts,
  embed,
  maxIgnoringNaN,
  metricKey,
  prefixMetrics,
  type Encoder,
  type EvaluatorOptions,
  type SentenceEvaluator,
} from './base.js';
import {
  averagePrecision,
  bestAccuracyThreshold,
  bestF1Threshold,
  isScoreFunction,
  matthewsCorrcoef,
  pairedScores,
  SCORE_FUNCTIONS,
  type ScoreFunction,
} from './metrics.js';
import type { FloatMatrix } from './quantize.js';

export interface BinaryClassificationOptions extends EvaluatorOptions {
  /** Functions to evaluate (default: cosine, dot, euclidean, manhattan). */
  similarityFns?: readonly ScoreFunction[];
  /** Whose AP is the primary metric: a function or 'max' (default 'cosine' when evaluated, else the first). */
  mainSimilarity?: ScoreFunction | 'max';
  truncateDim?: number;
}

export const BINARY_METRICS = ['accuracy', 'accuracy_threshold', 'f1', 'f1_threshold', 'precision', 'recall', 'ap', 'mcc'] as const;
export type BinaryMetric = (typeof BINARY_METRICS)[number];

/** The eight metrics of one function's scores; `higherIsSimilar` is false for distances. */
export function binaryClassificationMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, higherIsSimilar: boolean): Record<BinaryMetric, number> {
  const acc = bestAccuracyThreshold(scores, labels, higherIsSimilar);
  const f1 = bestF1Threshold(scores, labels, higherIsSimilar);
  const signed = Float64Array.from(scores, (s) => (higherIsSimilar ? s : -s));
  const predicted = Array.from(scores, (s) => (higherIsSimilar ? s >= f1.threshold : s <= f1.threshold));
  return {
    accuracy: acc.accuracy,
    accuracy_threshold: acc.threshold,
    f1: f1.f1,
    f1_threshold: f1.threshold,
    precision: f1.precision,
    recall: f1.recall,
    ap: averagePrecision(labels, signed),
    mcc: matthewsCorrcoef(labels, predicted),
  };
}

function gather(m: FloatMatrix, rows: readonly number[]): FloatMatrix {
  const data = new Float32Array(rows.length * m.dim);
  rows.forEach((r, i) => data.set(m.data.subarray(r * m.dim, (r + 1) * m.dim), i * m.dim));
  return { data, rows: rows.length, dim: m.dim };
}

export class BinaryClassificationEvaluator implements SentenceEvaluator {
  readonly name: string;
  readonly batchSize: number;
  readonly similarityFns: readonly ScoreFunction[];
  readonly mainSimilarity: ScoreFunction | 'max';
  readonly truncateDim: number | undefined;
  readonly sentences1: readonly string[];
  readonly sentences2: readonly string[];
  readonly labels: Uint8Array;

  constructor(sentences1: readonly string[], sentences2: readonly string[], labels: readonly number[], opts: BinaryClassificationOptions = {}) {
    this.sentences1 = checkTexts(sentences1, 'sentences1');
    this.sentences2 = checkTexts(sentences2, 'sentences2');
    if (sentences1.length !== sentences2.length || sentences1.length !== labels.length) {
      throw new Error(`sentences1, sentences2 and labels must have the same length (${sentences1.length}, ${sentences2.length}, ${labels.length})`);
    }
    labels.forEach((l, i) => {
      if (l !== 0 && l !== 1) throw new Error(`labels[${i}] must be 0 or 1, got ${String(l)}`);
    });
    this.labels = Uint8Array.from(labels);
    this.name = checkName(opts.name);
    this.batchSize = checkPositiveInt(opts.batchSize, 'batchSize', 32);
    this.truncateDim = checkOptionalPositiveInt(opts.truncateDim, 'truncateDim');
    const fns = opts.similarityFns ?? SCORE_FUNCTIONS;
    if (fns.length === 0) throw new Error('similarityFns must name at least one function');
    for (const f of fns) if (!isScoreFunction(f)) throw new Error(`unknown similarity function "${String(f)}"`);
    this.similarityFns = [...new Set(fns)];
    const main = opts.mainSimilarity ?? (this.similarityFns.includes('cosine') ? 'cosine' : this.similarityFns[0]);
    if (main !== 'max' && !this.similarityFns.includes(main)) throw new Error(`mainSimilarity "${main}" is not among the evaluated functions`);
    this.mainSimilarity = main === 'max' && this.similarityFns.length === 1 ? this.similarityFns[0] : main;
  }

  get primaryMetric(): string {
    return metricKey(this.name, this.mainSimilarity === 'max' ? 'max_ap' : `${this.mainSimilarity}_ap`);
  }

  async evaluate(model: Encoder): Promise<Record<string, number>> {
    const index = new Map<string, number>();
    for (const t of [...this.sentences1, ...this.sentences2]) if (!index.has(t)) index.set(t, index.size);
    const all = await embed(model, [...index.keys()], { batchSize: this.batchSize, truncateDim: this.truncateDim });
    const e1 = gather(all, this.sentences1.map((t) => index.get(t)!));
    const e2 = gather(all, this.sentences2.map((t) => index.get(t)!));
    const metrics: Record<string, number> = {};
    const perFn: Record<BinaryMetric, number>[] = [];
    for (const fn of this.similarityFns) {
      const higherIsSimilar = fn === 'cosine' || fn === 'dot';
      const s = pairedScores(fn, e1, e2);
      if (!higherIsSimilar) for (let i = 0; i < s.length; i++) s[i] = -s[i]; // distances
      const m = binaryClassificationMetrics(s, this.labels, higherIsSimilar);
      for (const k of BINARY_METRICS) metrics[`${fn}_${k}`] = m[k];
      perFn.push(m);
    }
    if (this.similarityFns.length > 1) for (const k of BINARY_METRICS) metrics[`max_${k}`] = maxIgnoringNaN(perFn.map((m) => m[k]));
    return prefixMetrics(this.name, metrics);
  }
}
