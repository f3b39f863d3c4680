// TripletEvaluator: the fraction of (anchor, positive, negative) triplets in which the anchor is
// closer to the positive than to the negative by more than a margin:
//   accuracy_fn = mean[ s_fn(a, p) > s_fn(a, n) + margin_fn ]
// with s = cosine, dot, −euclidean or −manhattan (higher = more similar, as sentence-transformers
// v3 scores them; for the distances this reads d(a, n) − d(a, p) > margin). Keys <fn>_accuracy,
// plus max_accuracy when more than one function is evaluated. Takes three sentence lists, options.

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
import { isScoreFunction, pairedScores, SCORE_FUNCTIONS, type ScoreFunction } from './metrics.js';

export interface TripletOptions extends EvaluatorOptions {
  /** Similarity functions (default: cosine, dot, euclidean, manhattan). */
  similarityFns?: readonly ScoreFunction[];
  /** Whose accuracy is the primary metric: a function or 'max' (default 'cosine' when evaluated, else the first). */
  mainSimilarity?: ScoreFunction | 'max';
  /** Margin for every function, or per function (default 0). */
  margin?: number | Partial<Record<ScoreFunction, number>>;
  truncateDim?: number;
}

export class TripletEvaluator implements SentenceEvaluator {
  readonly name: string;
  readonly batchSize: number;
  readonly similarityFns: readonly ScoreFunction[];
  readonly mainSimilarity: ScoreFunction | 'max';
  readonly margins: Readonly<Record<ScoreFunction, number>>;
  readonly truncateDim: number | undefined;
  readonly anchors: readonly string[];
  readonly positives: readonly string[];
  readonly negatives: readonly string[];

  constructor(anchors: readonly string[], positives: readonly string[], negatives: readonly string[], opts: TripletOptions = {}) {
    this.anchors = checkTexts(anchors, 'anchors');
    this.positives = checkTexts(positives, 'positives');
    this.negatives = checkTexts(negatives, 'negatives');
    if (anchors.length !== positives.length || anchors.length !== negatives.length) {
      throw new Error(`anchors, positives and negatives must have the same length (${anchors.length}, ${positives.length}, ${negatives.length})`);
    }
    this.name = checkName(opts.name);
    this.batchSize = checkPositiveInt(opts.batchSize, 'batchSize', 16);
    this.truncateDim = checkOptionalPositiveInt(opts.truncateDim, 'truncateDim');
    const fns = opts.similarityFns ?? SCORE_FUNCTIONS;
    if (fns.length === 0) throw new Error('similarityFns must name at least one function');
    for (const f of fns) if (!isScoreFunction(f)) throw new Error(`unknown similarity function "${String(f)}"`);
    this.similarityFns = [...new Set(fns)];
    const main = opts.mainSimilarity ?? (this.similarityFns.includes('cosine') ? 'cosine' : this.similarityFns[0]);
    if (main !== 'max' && !this.similarityFns.includes(main)) throw new Error(`mainSimilarity "${main}" is not among the evaluated functions`);
    this.mainSimilarity = main === 'max' && this.similarityFns.length === 1 ? this.similarityFns[0] : main;
    const m = opts.margin ?? 0;
    const margins: Record<ScoreFunction, number> = { cosine: 0, dot: 0, euclidean: 0, manhattan: 0 };
    if (typeof m === 'number') {
      for (const f of SCORE_FUNCTIONS) margins[f] = m;
    } else {
      for (const [f, v] of Object.entries(m)) {
        if (!isScoreFunction(f)) throw new Error(`margin: unknown similarity function "${f}"`);
        margins[f] = v as number;
      }
    }
    for (const f of SCORE_FUNCTIONS) if (!Number.isFinite(margins[f])) throw new Error(`margin for ${f} must be a finite number`);
    this.margins = margins;
  }

  get primaryMetric(): string {
    return metricKey(this.name, this.mainSimilarity === 'max' ? 'max_accuracy' : `${this.mainSimilarity}_accuracy`);
  }

  async evaluate(model: Encoder): Promise<Record<string, number>> {
    const o = { batchSize: this.batchSize, truncateDim: this.truncateDim };
    const a = await embed(model, this.anchors, o);
    const p = await embed(model, this.positives, o);
    const n = await embed(model, this.negatives, o);
    const metrics: Record<string, number> = {};
    const accs: number[] = [];
    for (const fn of this.similarityFns) {
      const sp = pairedScores(fn, a, p);
      const sn = pairedScores(fn, a, n);
      let correct = 0;
      for (let i = 0; i < sp.length; i++) if (sp[i] > sn[i] + this.margins[fn]) correct++;
      const acc = sp.length ? correct / sp.length : NaN;
      metrics[`${fn}_accuracy`] = acc;
      accs.push(acc);
    }
    if (this.similarityFns.length > 1) metrics.max_accuracy = maxIgnoringNaN(accs);
    return prefixMetrics(this.name, metrics);
  }
}
