// Evaluation metrics on plain number arrays, all accumulated in float64:
// - Pearson r = Σ(x−x̄)(y−ȳ) / (‖x−x̄‖·‖y−ȳ‖), and Spearman ρ = Pearson r of the average ranks
//   (ties share the mean of their positions), as scipy.stats.pearsonr / spearmanr;
// - average precision AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct score thresholds, as
//   sklearn.metrics.average_precision_score;
// - best-threshold accuracy and F1 for binary labels: sort the scores, sweep a threshold between
//   neighbours and keep the best, as sentence-transformers' BinaryClassificationEvaluator;
// - the Matthews correlation coefficient, as sklearn.metrics.matthews_corrcoef;
// - cosine, dot, Euclidean and Manhattan scores of row pairs and of all rows against all rows.
// Takes score and label arrays (any ArrayLike<number>) and row-major matrices {data, rows, dim}.

import { SIMILARITY_FNS, type SimilarityFn } from '../models/similarity.js';

/** The score functions evaluators compare embeddings with: the model's similarity functions. */
export type ScoreFunction = SimilarityFn;

export const SCORE_FUNCTIONS: readonly ScoreFunction[] = SIMILARITY_FNS;

/** A row-major matrix of `rows` rows of `dim` numbers. */
export interface Matrix {
  data: ArrayLike<number>;
  rows: number;
  dim: number;
}

export function isScoreFunction(s: unknown): s is ScoreFunction {
  return typeof s === 'string' && (SCORE_FUNCTIONS as readonly string[]).includes(s);
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: the two arrays differ in length (${a.length} and ${b.length})`);
}

function isConstant(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] !== x[0]) return false;
  return true;
}

function hasNaN(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (Number.isNaN(x[i])) return true;
  return false;
}

// ---------------------------------------------------------------- correlation

/**
 * Pearson's correlation coefficient, as scipy.stats.pearsonr: NaN when either input is constant
 * (scipy warns and returns nan), when fewer than two values are given (scipy raises) or when a
 * value is NaN; ±1 from the signs of the differences for exactly two values.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkSameLength(x, y, 'pearson');
  const n = x.length;
  if (n < 2 || hasNaN(x) || hasNaN(y)) return NaN;
  if (isConstant(x) || isConstant(y)) return NaN;
  if (n === 2) return Math.sign(x[1] - x[0]) * Math.sign(y[1] - y[0]);
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i];
    sy += y[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  const r = sxy / (Math.sqrt(sxx) * Math.sqrt(syy));
  return Math.max(-1, Math.min(1, r));
}

/** 1-based ranks; tied values get the mean of the positions they span (scipy.stats.rankdata 'average'). */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && x[order[j]] === x[order[i]]) j++;
    const r = (i + 1 + j) / 2; // positions i+1 … j
    for (let t = i; t < j; t++) ranks[order[t]] = r;
    i = j;
  }
  return ranks;
}

/** Spearman's rank correlation (Pearson r of the average ranks), as scipy.stats.spearmanr; NaN for constant input. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkSameLength(x, y, 'spearman');
  if (x.length < 2 || hasNaN(x) || hasNaN(y)) return NaN;
  return pearson(averageRanks(x), averageRanks(y));
}

// ---------------------------------------------------------------- ranking and classification

/**
 * Average precision of `scores` for binary `labels` (1 = positive), as
 * sklearn.metrics.average_precision_score: Σ over distinct thresholds (high to low) of
 * (recall − previous recall) × precision. Tied scores form one threshold. With no positive label
 * the result is 0 (sklearn warns and returns 0).
 */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkSameLength(labels, scores, 'averagePrecision');
  const n = labels.length;
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) positives++;
  if (positives === 0) return 0;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  for (let i = 0; i < n; i++) {
    if (labels[order[i]] === 1) tp++;
    else fp++;
    if (i === n - 1 || scores[order[i + 1]] !== scores[order[i]]) {
      const recall = tp / positives;
      ap += (recall - prevRecall) * (tp / (tp + fp));
      prevRecall = recall;
    }
  }
  return ap;
}

/**
 * Rows sorted by score, best first: descending when high scores mean "similar", ascending for
 * distances. The sort is stable, so tied scores keep their input order (as Python's sorted).
 */
function sweepOrder(scores: ArrayLike<number>, highScoreMoreSimilar: boolean): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => (highScoreMoreSimilar ? scores[b] - scores[a] : scores[a] - scores[b]) || a - b);
}

export interface AccuracyThreshold {
  accuracy: number;
  threshold: number;
}

/**
 * Best accuracy of the rule "similar when the score is on the good side of a threshold", as
 * sentence-transformers sweeps it: rows sorted best first; after row i (i = 0 … n−2) the first
 * i+1 rows are called similar and the rest not; the threshold is the midpoint of rows i and i+1.
 * Only a strictly better accuracy moves the threshold, so among equals the first (most
 * selective) wins. With tied scores the split can fall inside a tie, exactly as in
 * sentence-transformers. Fewer than two rows give {accuracy: 0, threshold: −1}.
 */
export function bestAccuracyThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>, highScoreMoreSimilar: boolean): AccuracyThreshold {
  checkSameLength(scores, labels, 'bestAccuracyThreshold');
  const n = scores.length;
  const order = sweepOrder(scores, highScoreMoreSimilar);
  let negatives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 0) negatives++;
  let best = 0;
  let threshold = -1;
  let positivesSoFar = 0;
  let remainingNegatives = negatives;
  for (let i = 0; i < n - 1; i++) {
    if (labels[order[i]] === 1) positivesSoFar++;
    else remainingNegatives--;
    const acc = (positivesSoFar + remainingNegatives) / n;
    if (acc > best) {
      best = acc;
      threshold = (scores[order[i]] + scores[order[i + 1]]) / 2;
    }
  }
  return { accuracy: best, threshold };
}

export interface F1Threshold {
  f1: number;
  precision: number;
  recall: number;
  threshold: number;
}

/**
 * Best F1 (with its precision and recall) over the same sweep as bestAccuracyThreshold:
 * precision = correct/called, recall = correct/positives, F1 = 2PR/(P+R), computed once at
 * least one positive is called; ties keep the first. All zero when nothing scores above zero.
 */
export function bestF1Threshold(scores: ArrayLike<number>, labels: ArrayLike<number>, highScoreMoreSimilar: boolean): F1Threshold {
  checkSameLength(scores, labels, 'bestF1Threshold');
  const n = scores.length;
  const order = sweepOrder(scores, highScoreMoreSimilar);
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) positives++;
  const out: F1Threshold = { f1: 0, precision: 0, recall: 0, threshold: 0 };
  let called = 0;
  let correct = 0;
  for (let i = 0; i < n - 1; i++) {
    called++;
    if (labels[order[i]] === 1) correct++;
    if (correct > 0) {
      const precision = correct / called;
      const recall = correct / positives;
      const f1 = (2 * precision * recall) / (precision + recall);
      if (f1 > out.f1) {
        out.f1 = f1;
        out.precision = precision;
        out.recall = recall;
        out.threshold = (scores[order[i]] + scores[order[i + 1]]) / 2;
      }
    }
  }
  return out;
}

/**
 * Matthews correlation coefficient of binary predictions, as sklearn.metrics.matthews_corrcoef:
 * (c·s − Σₖ tₖpₖ) / √((s² − Σₖ pₖ²)(s² − Σₖ tₖ²)) with c correct, s samples, tₖ/pₖ the true and
 * predicted counts of class k; 0 when a denominator factor is 0.
 */
export function matthewsCorrcoef(labels: ArrayLike<number>, predicted: ArrayLike<number | boolean>): number {
  if (labels.length !== predicted.length) throw new Error(`matthewsCorrcoef: the two arrays differ in length (${labels.length} and ${predicted.length})`);
  const s = labels.length;
  let c = 0;
  let t1 = 0;
  let p1 = 0;
  for (let i = 0; i < s; i++) {
    const y = labels[i] === 1 ? 1 : 0;
    const p = predicted[i] === true || predicted[i] === 1 ? 1 : 0;
    t1 += y;
    p1 += p;
    if (y === p) c++;
  }
  const t0 = s - t1;
  const p0 = s - p1;
  const covYtYp = c * s - (t0 * p0 + t1 * p1);
  const covYpYp = s * s - (p0 * p0 + p1 * p1);
  const covYtYt = s * s - (t0 * t0 + t1 * t1);
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

// ---------------------------------------------------------------- vector scores

/** ‖row‖₂ of every row, in float64. */
export function rowNorms(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    const o = r * m.dim;
    for (let j = 0; j < m.dim; j++) s += m.data[o + j] * m.data[o + j];
    out[r] = Math.sqrt(s);
  }
  return out;
}

function dotRows(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[ao + j] * b[bo + j];
  return s;
}

/**
 * Score of row i of `a` against row j of `b`, "higher = more similar" as sentence-transformers'
 * similarity functions: cosine a·b/(‖a‖‖b‖) (0 when either is the zero vector), dot a·b,
 * euclidean −‖a−b‖₂, manhattan −‖a−b‖₁. `normsA`/`normsB` are used for cosine.
 */
export function rowScore(fn: ScoreFunction, a: Matrix, i: number, b: Matrix, j: number, normsA?: Float64Array, normsB?: Float64Array): number {
  const dim = a.dim;
  const ao = i * dim;
  const bo = j * dim;
  const ad = a.data;
  const bd = b.data;
  switch (fn) {
    case 'dot':
      return dotRows(ad, ao, bd, bo, dim);
    case 'cosine': {
      const na = normsA ? normsA[i] : Math.sqrt(dotRows(ad, ao, ad, ao, dim));
      const nb = normsB ? normsB[j] : Math.sqrt(dotRows(bd, bo, bd, bo, dim));
      if (na === 0 || nb === 0) return 0;
      return dotRows(ad, ao, bd, bo, dim) / (na * nb);
    }
    case 'euclidean': {
      let s = 0;
      for (let t = 0; t < dim; t++) {
        const d = ad[ao + t] - bd[bo + t];
        s += d * d;
      }
      return -Math.sqrt(s);
    }
    case 'manhattan': {
      let s = 0;
      for (let t = 0; t < dim; t++) s += Math.abs(ad[ao + t] - bd[bo + t]);
      return -s;
    }
  }
}

function checkDims(a: Matrix, b: Matrix, what: string): void {
  if (a.dim !== b.dim) throw new Error(`${what}: dimensions differ (${a.dim} and ${b.dim})`);
}

/** Scores of row i of `a` with row i of `b` (ST's pairwise_*_sim): cosine, dot, −euclidean, −manhattan. */
export function pairedScores(fn: ScoreFunction, a: Matrix, b: Matrix): Float64Array {
  checkDims(a, b, 'pairedScores');
  if (a.rows !== b.rows) throw new Error(`pairedScores: row counts differ (${a.rows} and ${b.rows})`);
  const na = fn === 'cosine' ? rowNorms(a) : undefined;
  const nb = fn === 'cosine' ? rowNorms(b) : undefined;
  const out = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) out[i] = rowScore(fn, a, i, b, i, na, nb);
  return out;
}

/** Row-i-with-row-i distances: cosine 1 − cos, euclidean ‖a−b‖₂, manhattan ‖a−b‖₁. */
export function pairedDistances(fn: 'cosine' | 'euclidean' | 'manhattan', a: Matrix, b: Matrix): Float64Array {
  const s = pairedScores(fn, a, b);
  for (let i = 0; i < s.length; i++) s[i] = fn === 'cosine' ? 1 - s[i] : -s[i];
  return s;
}

/** All rows of `a` against all rows of `b`: a row-major [a.rows, b.rows] Float64Array of scores. */
export function scoreMatrix(fn: ScoreFunction, a: Matrix, b: Matrix): Float64Array {
  checkDims(a, b, 'scoreMatrix');
  const na = fn === 'cosine' ? rowNorms(a) : undefined;
  const nb = fn === 'cosine' ? rowNorms(b) : undefined;
  const out = new Float64Array(a.rows * b.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < b.rows; j++) out[i * b.rows + j] = rowScore(fn, a, i, b, j, na, nb);
  return out;
}
