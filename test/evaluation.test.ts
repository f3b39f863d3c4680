// The evaluation metrics against independent references (test/fixtures/evaluation_goldens.json,
// written by scripts/reference/metrics_reference.py with scipy, scikit-learn, numpy and brute
// force), hand-derived retrieval cases, quantization, and edge cases: constant inputs, empty
// relevance sets, k larger than the corpus, ties in the threshold sweep.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  averagePrecision,
  averageRanks,
  bestAccuracyThreshold,
  bestF1Threshold,
  matthewsCorrcoef,
  pairedScores,
  pearson,
  scoreMatrix,
  spearman,
} from '../src/evaluation/metrics.js';
import { quantizeEmbeddings, toScoringMatrix, type Precision } from '../src/evaluation/quantize.js';
import { retrievalMetrics, type RetrievalCutoffs } from '../src/evaluation/information_retrieval.js';
import { binaryClassificationMetrics } from '../src/evaluation/binary_classification.js';
import { TopK } from '../src/evaluation/topk.js';

interface Goldens {
  correlations: { name: string; x: number[]; y: number[]; pearson: number | null; spearman: number | null }[];
  average_precision: { name: string; labels: number[]; scores: number[]; ap: number }[];
  thresholds: ({ name: string; scores: number[]; labels: number[]; high_is_similar: boolean } & Record<string, number>)[];
  quantization: Record<string, number[][]>;
}

const goldens = JSON.parse(await readFile(new URL('../../test/fixtures/evaluation_goldens.json', import.meta.url), 'utf8')) as Goldens;

/** a equals b within 1e-12 relative (null in the goldens stands for NaN). */
function assertClose(a: number, b: number | null, what: string, rel = 1e-12): void {
  if (b === null) {
    assert.ok(Number.isNaN(a), `${what}: expected NaN, got ${a}`);
    return;
  }
  const tol = rel * Math.max(Math.abs(a), Math.abs(b));
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs reference ${b} (|diff| ${Math.abs(a - b).toExponential(2)})`);
}

// ---------------------------------------------------------------- correlations

test('pearson and spearman equal scipy, ties included', () => {
  for (const c of goldens.correlations) {
    assertClose(pearson(c.x, c.y), c.pearson, `pearson ${c.name}`);
    assertClose(spearman(c.x, c.y), c.spearman, `spearman ${c.name}`);
  }
});

test('average ranks: ties share the mean position', () => {
  assert.deepEqual([...averageRanks([10, 20, 20, 5, 20])], [2, 4, 4, 1, 4]);
  assert.deepEqual([...averageRanks([1, 1])], [1.5, 1.5]);
});

test('correlation edge cases: constant input is NaN (scipy warns and returns nan), too short is NaN', () => {
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(spearman([0.5, 0.5, 0.5, 0.5], [4, 3, 2, 1])));
  assert.ok(Number.isNaN(spearman([1, 2, 3], [7, 7, 7])));
  assert.ok(Number.isNaN(pearson([1], [2])));
  assert.ok(Number.isNaN(pearson([1, NaN, 3], [1, 2, 3])));
  assert.equal(pearson([1, 2], [5, 3]), -1);
  assert.throws(() => pearson([1, 2], [1]), /differ in length/);
});

// ---------------------------------------------------------------- classification

test('average precision equals sklearn (ties, all positive, no positive)', () => {
  for (const c of goldens.average_precision) assertClose(averagePrecision(c.labels, c.scores), c.ap, `AP ${c.name}`);
  // hand-checked: ranking 1,0,1 → AP = (1/2)(1/1) + (1/2)(2/3) = 5/6
  assertClose(averagePrecision([1, 0, 1], [0.9, 0.5, 0.1]), 5 / 6, 'AP hand');
  // a tie of one positive and one negative at the top is one threshold: (1/1)·(1/2) = 1/2
  assertClose(averagePrecision([1, 0], [0.5, 0.5]), 0.5, 'AP tie');
});

test('best-threshold accuracy, F1, AP and MCC equal a brute-force search over all thresholds', () => {
  for (const c of goldens.thresholds) {
    const m = binaryClassificationMetrics(c.scores, c.labels, c.high_is_similar);
    for (const key of ['accuracy', 'accuracy_threshold', 'f1', 'f1_threshold', 'precision', 'recall', 'ap', 'mcc'] as const) {
      assertClose(m[key], c[key], `${c.name} ${key}`);
    }
  }
});

test('threshold sweep with tied scores follows sentence-transformers: the split may fall inside a tie', () => {
  // Sorted best first (stable): (0.9,1) (0.5,1) (0.5,0) (0.1,0). After row 0: 1 positive called,
  // 2 negatives left → 3/4 at (0.9+0.5)/2 = 0.7. After row 1: 2 + 2 → 4/4 at (0.5+0.5)/2 = 0.5,
  // although no threshold separates the two 0.5 rows. After row 2: 2 + 1 → 3/4, not better.
  assert.deepEqual(bestAccuracyThreshold([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0], true), { accuracy: 1, threshold: 0.5 });
  // Distances sort ascending: (0.1,1) (0.4,0) (0.6,1) (0.8,0): row 0 → 3/4 at 0.25, row 1 → 2/4,
  // row 2 → 3/4 (not better). F1: row 0 P=1 R=1/2 F1=2/3 at 0.25; row 2 P=2/3 R=1 F1=0.8 at 0.7.
  assert.deepEqual(bestAccuracyThreshold([0.6, 0.1, 0.8, 0.4], [1, 1, 0, 0], false), { accuracy: 0.75, threshold: 0.25 });
  const f1 = bestF1Threshold([0.6, 0.1, 0.8, 0.4], [1, 1, 0, 0], false);
  assertClose(f1.f1, 0.8, 'f1');
  assertClose(f1.precision, 2 / 3, 'precision');
  assert.equal(f1.recall, 1);
  assertClose(f1.threshold, 0.7, 'threshold');
  // fewer than two rows: nothing to sweep (ST's initial values)
  assert.deepEqual(bestAccuracyThreshold([0.3], [1], true), { accuracy: 0, threshold: -1 });
  assert.deepEqual(bestF1Threshold([0.3, 0.2], [0, 0], true), { f1: 0, precision: 0, recall: 0, threshold: 0 });
});

test('matthews correlation: hand-checked and degenerate', () => {
  // tp=2 tn=1 fp=1 fn=0: (2·1 − 1·0)/√(3·2·1·2) = 2/√12
  assertClose(matthewsCorrcoef([1, 1, 0, 0], [1, 1, 1, 0]), 2 / Math.sqrt(12), 'mcc');
  assert.equal(matthewsCorrcoef([0, 1, 1], [1, 1, 1]), 0);
});

// ---------------------------------------------------------------- vector scores

test('paired and matrix scores: cosine, dot, −euclidean, −manhattan', () => {
  const a = { data: [3, 4, 0, 0], rows: 2, dim: 2 };
  const b = { data: [4, 3, 1, 1], rows: 2, dim: 2 };
  assert.deepEqual([...pairedScores('dot', a, b)], [24, 0]);
  assert.deepEqual([...pairedScores('cosine', a, b)], [24 / 25, 0]); // the zero vector scores 0
  assert.deepEqual([...pairedScores('euclidean', a, b)], [-Math.sqrt(2), -Math.sqrt(2)]);
  assert.deepEqual([...pairedScores('manhattan', a, b)], [-2, -2]);
  assert.deepEqual([...scoreMatrix('dot', a, b)], [24, 7, 0, 0]);
  assert.throws(() => pairedScores('dot', a, { data: [1, 2, 3], rows: 1, dim: 3 }), /dimensions differ/);
});

// ---------------------------------------------------------------- quantization

test('quantization equals numpy on the quantize_embeddings formulas', () => {
  const q = goldens.quantization;
  const rows = q.embeddings.length;
  const dim = q.embeddings[0].length;
  const m = { data: Float32Array.from(q.embeddings.flat()), rows, dim };
  for (const p of ['int8', 'uint8', 'binary', 'ubinary'] as Precision[]) {
    const out = quantizeEmbeddings(m, p);
    assert.deepEqual([...out.data], q[p].flat(), p);
    assert.equal(out.cols, q[p][0].length, `${p} columns`);
  }
  const m16 = { data: Float32Array.from(q.embeddings16.flat()), rows: q.embeddings16.length, dim: 16 };
  assert.deepEqual([...quantizeEmbeddings(m16, 'binary').data], q.binary16.flat());
  assert.deepEqual([...quantizeEmbeddings(m16, 'ubinary').data], q.ubinary16.flat());
});

test('quantization by hand: buckets, bit order, scoring values, constant dimension', () => {
  // dim 0 ranges over [0, 1]: the float32 step fround(1/255) is a little above 1/255, so
  // 0.5/step = 127.49999 → uint8 127, int8 trunc(−0.50001) = 0, and the maximum lands at
  // 254.99998 → 254 / 126 (numpy gives the same: the top bucket is often unused).
  // dim 1 is constant: 0/0 is NaN, which numpy casts to 0.
  const m = { data: Float32Array.of(0, 2, 0.5, 2, 1, 2), rows: 3, dim: 2 };
  assert.deepEqual([...quantizeEmbeddings(m, 'uint8').data], [0, 0, 127, 0, 254, 0]);
  assert.deepEqual([...quantizeEmbeddings(m, 'int8').data], [-128, 0, 0, 0, 126, 0]);
  // bits of x > 0, first dimension in the most significant bit; 10 dims → 2 bytes per row
  const b = { data: Float32Array.of(1, -1, 0, 2, 0, 0, 0, 0, 3, -3), rows: 1, dim: 10 };
  const ub = quantizeEmbeddings(b, 'ubinary');
  assert.deepEqual([...ub.data], [0b10010000, 0b10000000]);
  assert.deepEqual([...quantizeEmbeddings(b, 'binary').data], [0b10010000 - 128, 0]);
  assert.deepEqual([...toScoringMatrix(ub).data], [1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...toScoringMatrix(quantizeEmbeddings(b, 'binary')).data], [...toScoringMatrix(ub).data]);
  assert.deepEqual([...toScoringMatrix(quantizeEmbeddings(m, 'int8')).data], [-128, 0, 0, 0, 126, 0]);
  // explicit ranges: values outside wrap modulo 256 as numpy's cast does
  const r = quantizeEmbeddings({ data: Float32Array.of(2), rows: 1, dim: 1 }, 'uint8', { ranges: { min: Float32Array.of(0), max: Float32Array.of(1) } });
  assert.deepEqual([...r.data], [253]); // 2/fround(1/255) = 509.99997 → 509 mod 256 = 253, as numpy
  assert.throws(() => quantizeEmbeddings(m, 'int4' as Precision), /not one of/);
});

// ---------------------------------------------------------------- retrieval metrics

const CUT: RetrievalCutoffs = { accuracyAtK: [1, 3], precisionRecallAtK: [1, 3, 5, 10], mrrAtK: [1, 10], ndcgAtK: [5], mapAtK: [1, 5, 10] };

test('retrieval metrics, hand-checked: one query, binary relevance, k beyond the ranking', () => {
  // Ranking d1 d2 d3 d4 d5; relevant d2, d4 and d9 (d9 never retrieved), |R| = 3.
  const m = retrievalMetrics([['d1', 'd2', 'd3', 'd4', 'd5']], [new Map([['d2', 1], ['d4', 1], ['d9', 1]])], CUT);
  const L3 = Math.log2(3);
  const expected: Record<string, number> = {
    'accuracy@1': 0, // d1 is not relevant
    'accuracy@3': 1, // d2 at rank 2
    'precision@1': 0,
    'precision@3': 1 / 3,
    'precision@5': 2 / 5,
    'precision@10': 2 / 10, // divided by k although only 5 documents were ranked (as ST)
    'recall@1': 0,
    'recall@3': 1 / 3,
    'recall@5': 2 / 3,
    'recall@10': 2 / 3,
    // DCG@5 = 1/log2(3) + 1/log2(5); ideal: three relevant at ranks 1-3 → 1 + 1/log2(3) + 1/2
    'ndcg@5': (1 / L3 + 1 / Math.log2(5)) / (1 + 1 / L3 + 1 / 2),
    'mrr@1': 0,
    'mrr@10': 1 / 2, // first relevant at rank 2
    'map@1': 0, // nothing in the top 1; divided by min(1, 3)
    'map@5': (1 / 2 + 2 / 4) / 3, // precision at ranks 2 and 4, divided by min(5, 3)
    'map@10': (1 / 2 + 2 / 4) / 3,
  };
  assert.deepEqual(Object.keys(m), Object.keys(expected));
  for (const [k, v] of Object.entries(expected)) assertClose(m[k], v, k);
});

test('retrieval metrics, hand-checked: graded nDCG gains and the mean over queries', () => {
  // Ranking a b c; grades a=1, c=3, x=2 (x not retrieved). Ideal order of grades: 3 2 1.
  const rank = [['a', 'b', 'c']];
  const rel = [new Map([['a', 1], ['c', 3], ['x', 2]])];
  const cut: RetrievalCutoffs = { accuracyAtK: [1], precisionRecallAtK: [1], mrrAtK: [1], ndcgAtK: [3], mapAtK: [1] };
  const L3 = Math.log2(3);
  // binary: DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) + 1/2
  assertClose(retrievalMetrics(rank, rel, cut, 'binary')['ndcg@3'], 1.5 / (1.5 + 1 / L3), 'binary');
  // linear (gain = grade): DCG = 1 + 3/2; IDCG = 3 + 2/log2(3) + 1/2
  assertClose(retrievalMetrics(rank, rel, cut, 'linear')['ndcg@3'], 2.5 / (3.5 + 2 / L3), 'linear');
  // exponential (gain = 2^g − 1): DCG = 1 + 7/2; IDCG = 7 + 3/log2(3) + 1/2
  assertClose(retrievalMetrics(rank, rel, cut, 'exponential')['ndcg@3'], 4.5 / (7.5 + 3 / L3), 'exponential');
  // two queries: accuracy@1 is 1 for the first (a relevant) and 0 for the second → 1/2
  const two = retrievalMetrics([['a', 'b'], ['b', 'a']], [new Map([['a', 1]]), new Map([['a', 2]])], cut);
  assert.equal(two['accuracy@1'], 0.5);
  assert.equal(two['mrr@1'], 0.5);
});

test('retrieval metrics: a query without a relevant document is refused (evaluators skip it)', () => {
  assert.throws(() => retrievalMetrics([['a']], [new Map([['a', 0]])], CUT), /no relevant document/);
});

// ---------------------------------------------------------------- top-k

test('TopK keeps the k best (ties: lower index first) whatever the order of arrival', () => {
  const h = new TopK(3);
  const scores = [0.1, 0.9, 0.5, 0.9, 0.3, 0.7, 0.5];
  scores.forEach((s, i) => h.push(s, i));
  assert.deepEqual(h.sorted(), [
    { score: 0.9, index: 1 },
    { score: 0.9, index: 3 },
    { score: 0.7, index: 5 },
  ]);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const xs = Array.from({ length: 500 }, () => Math.round(rnd() * 50) / 50);
  const big = new TopK(20);
  xs.forEach((s, i) => big.push(s, i));
  const expected = xs.map((score, index) => ({ score, index })).sort((a, b) => b.score - a.score || a.index - b.index).slice(0, 20);
  assert.deepEqual(big.sorted(), expected);
  const none = new TopK(0);
  none.push(1, 0);
  assert.deepEqual(none.sorted(), []);
});
