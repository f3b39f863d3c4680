// EmbeddingSimilarityEvaluator: how well embedding similarity tracks gold similarity scores
// (STS-style). For each pair (sentences1[i], sentences2[i]) it scores the two embeddings with
// cosine, dot, −euclidean and −manhattan, then reports Pearson r and Spearman ρ between those
// scores and the gold `scores`: keys pearson_<fn> and spearman_<fn>, plus pearson_max and
// spearman_max (largest over the functions) when more than one function is evaluated, as
// sentence-transformers v3 names them. With a `precision`, embeddings are L2-normalised and
// quantized (each side calibrated on its own rows, as ST encodes each side separately) and the
// similarities are computed on the quantized values. Takes two sentence lists, gold scores, options.

import {
  checkName,
  checkOptionalPositiveInt,
  checkPositiveInt,
  checkPrecision,
  checkTexts,
  embed,
  maxIgnoringNaN,
  metricKey,
  prefixMetrics,
  type Encoder,
  type EvaluatorOptions,
  type SentenceEvaluator,
} from './base.js';
import { isScoreFunction, pairedScores, pearson, SCORE_FUNCTIONS, spearman, type ScoreFunction } from './metrics.js';
import type { Precision } from './quantize.js';

export interface EmbeddingSimilarityOptions extends EvaluatorOptions {
  /** Similarity functions to evaluate (default: all four, in the order cosine, dot, euclidean, manhattan). */
  similarityFns?: readonly ScoreFunction[];
  /**
   * Whose Spearman is the primary metric: a function, or 'max' for spearman_max. Default 'cosine'
   * when evaluated, else the first function. (sentence-transformers itself defaults to
   * spearman_max when several functions are evaluated and no main similarity is given.)
   */
  mainSimilarity?: ScoreFunction | 'max';
  /** Keep only the first N embedding dimensions. */
  truncateDim?: number;
  /** Quantize the (normalised) embeddings before scoring. */
  precision?: Precision;
}

export class EmbeddingSimilarityEvaluator implements SentenceEvaluator {
  readonly name: string;
  readonly batchSize: number;
  readonly similarityFns: readonly ScoreFunction[];
  readonly mainSimilarity: ScoreFunction | 'max';
  readonly truncateDim: number | undefined;
  readonly precision: Precision | undefined;
  readonly sentences1: readonly string[];
  readonly sentences2: readonly string[];
  readonly scores: Float64Array;

  constructor(sentences1: readonly string[], sentences2: readonly string[], scores: readonly number[], opts: EmbeddingSimilarityOptions = {}) {
    this.sentences1 = checkTexts(sentences1, 'sentences1');
    this.sentences2 = checkTexts(sentences2, 'sentences2');
    if (sentences1.length !== sentences2.length || sentences1.length !== scores.length) {
      throw new Error(`sentences1, sentences2 and scores must have the same length (${sentences1.length}, ${sentences2.length}, ${scores.length})`);
    }
    scores.forEach((s, i) => {
      if (typeof s !== 'number' || !Number.isFinite(s)) throw new Error(`scores[${i}] is not a finite number`);
    });
    this.scores = Float64Array.from(scores);
    this.name = checkName(opts.name);
    this.batchSize = checkPositiveInt(opts.batchSize, 'batchSize', 16);
    this.truncateDim = checkOptionalPositiveInt(opts.truncateDim, 'truncateDim');
    this.precision = checkPrecision(opts.precision);
    const fns = opts.similarityFns ?? SCORE_FUNCTIONS;
    if (fns.length === 0) throw new Error('similarityFns must name at least one function');
    for (const f of fns) if (!isScoreFunction(f)) throw new Error(`unknown similarity function "${String(f)}" (expected cosine, dot, euclidean or manhattan)`);
    this.similarityFns = [...new Set(fns)];
    const main = opts.mainSimilarity ?? (this.similarityFns.includes('cosine') ? 'cosine' : this.similarityFns[0]);
    if (main !== 'max' && !this.similarityFns.includes(main)) throw new Error(`mainSimilarity "${main}" is not among the evaluated functions (${this.similarityFns.join(', ')})`);
    this.mainSimilarity = main === 'max' && this.similarityFns.length === 1 ? this.similarityFns[0] : main;
  }

  get primaryMetric(): string {
    return metricKey(this.name, `spearman_${this.mainSimilarity}`);
  }

  async evaluate(model: Encoder): Promise<Record<string, number>> {
    const o = { batchSize: this.batchSize, truncateDim: this.truncateDim, precision: this.precision };
    const e1 = await embed(model, this.sentences1, o);
    const e2 = await embed(model, this.sentences2, o);
    const metrics: Record<string, number> = {};
    const pearsons: number[] = [];
    const spearmans: number[] = [];
    for (const fn of this.similarityFns) {
      const s = pairedScores(fn, e1, e2);
      const p = pearson(this.scores, s);
      const r = spearman(this.scores, s);
      metrics[`pearson_${fn}`] = p;
      metrics[`spearman_${fn}`] = r;
      pearsons.push(p);
      spearmans.push(r);
    }
    if (this.similarityFns.length > 1) {
      metrics.pearson_max = maxIgnoringNaN(pearsons);
      metrics.spearman_max = maxIgnoringNaN(spearmans);
    }
    return prefixMetrics(this.name, metrics);
  }
}
