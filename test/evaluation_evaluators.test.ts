// The evaluators end to end: with a fake Encoder that returns fixed vectors (the reference
// embeddings of test/fixtures/evaluation_goldens.json, or hand-made 2-D vectors whose results
// are derived in the comments), then with a tiny randomly initialised SentenceTransformer over
// the real MiniLM tokenizer (skipped when ../shared is absent). Also SequentialEvaluator and
// the JSON / table formatting.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { EncodeMatrixOptions, Encoder } from '../src/evaluation/base.js';
import { EmbeddingSimilarityEvaluator } from '../src/evaluation/embedding_similarity.js';
import { InformationRetrievalEvaluator, type NdcgGain } from '../src/evaluation/information_retrieval.js';
import { TripletEvaluator } from '../src/evaluation/triplet.js';
import { BinaryClassificationEvaluator } from '../src/evaluation/binary_classification.js';
import { ParaphraseMiningEvaluator } from '../src/evaluation/paraphrase_mining.js';
import { SequentialEvaluator } from '../src/evaluation/sequential.js';
import { formatJson, formatTable } from '../src/evaluation/format.js';
import { pairedScores, spearman, type ScoreFunction } from '../src/evaluation/metrics.js';
import type { Precision } from '../src/evaluation/quantize.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { MINILM_TOKENIZER, STSB_DEV, sharedMissing } from './helpers/shared.js';

interface Goldens {
  retrieval: {
    queries: Record<string, number[]>;
    corpus: Record<string, number[]>;
    relevant: Record<string, Record<string, number>>;
    evaluated_queries: string[];
    cutoffs: { accuracy: number[]; pr: number[]; mrr: number[]; ndcg: number[]; map: number[] };
    metrics: Record<NdcgGain, Record<'cosine' | 'dot', Record<string, number>>>;
  };
  embedding_similarity: {
    emb1: number[][];
    emb2: number[][];
    emb1_normalized: number[][];
    emb2_normalized: number[][];
    labels: number[];
    results: Record<string, Record<string, number>>;
  };
  binary_classification: { emb1: number[][]; emb2: number[][]; labels: number[]; results: Record<string, number> };
}

const goldens = JSON.parse(await readFile(new URL('../../test/fixtures/evaluation_goldens.json', import.meta.url), 'utf8')) as Goldens;

function assertClose(a: number, b: number, what: string, rel = 1e-12): void {
  const tol = rel * Math.max(Math.abs(a), Math.abs(b));
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs reference ${b}`);
}

/** An Encoder over a fixed table text → vector (and optionally text → normalised vector). */
class TableEncoder implements Encoder {
  readonly calls: { texts: string[]; opts: EncodeMatrixOptions }[] = [];
  constructor(
    private readonly raw: Map<string, readonly number[]>,
    private readonly normalized: Map<string, readonly number[]> = new Map(),
    readonly similarityFnName?: ScoreFunction,
  ) {}

  async encodeMatrix(texts: readonly string[], opts: EncodeMatrixOptions = {}) {
    this.calls.push({ texts: [...texts], opts: { ...opts } });
    const first = this.raw.values().next().value as readonly number[];
    const dim = Math.min(first.length, opts.truncateDim ?? Infinity);
    const data = new Float32Array(texts.length * dim);
    texts.forEach((t, i) => {
      const v = (opts.normalize ? this.normalized.get(t) : undefined) ?? this.raw.get(t);
      if (!v) throw new Error(`no vector for "${t}"`);
      let row = v.slice(0, dim);
      if (opts.normalize && !this.normalized.has(t)) {
        const n = Math.hypot(...row);
        row = row.map((x) => x / Math.max(n, 1e-12));
      }
      data.set(row, i * dim);
    });
    return { data, rows: texts.length, dim };
  }
}

function table(prefix: string, rows: number[][]): Map<string, number[]> {
  return new Map(rows.map((r, i) => [`${prefix}${i}`, r]));
}

// ---------------------------------------------------------------- EmbeddingSimilarityEvaluator

test('EmbeddingSimilarityEvaluator equals the reference for every precision', async () => {
  const g = goldens.embedding_similarity;
  const n = g.labels.length;
  const s1 = Array.from({ length: n }, (_, i) => `a${i}`);
  const s2 = Array.from({ length: n }, (_, i) => `b${i}`);
  const enc = new TableEncoder(
    new Map([...table('a', g.emb1), ...table('b', g.emb2)]),
    new Map([...table('a', g.emb1_normalized), ...table('b', g.emb2_normalized)]),
  );
  for (const precision of [undefined, 'float32', 'int8', 'uint8', 'binary', 'ubinary'] as (Precision | undefined)[]) {
    enc.calls.length = 0;
    const ev = new EmbeddingSimilarityEvaluator(s1, s2, g.labels, { name: 'sts-dev', precision, batchSize: 8 });
    const res = await ev.evaluate(enc);
    const ref = g.results[precision ?? 'none'];
    assert.deepEqual(Object.keys(res), Object.keys(ref).map((k) => `sts-dev_${k}`), 'keys and their order');
    for (const [k, v] of Object.entries(ref)) assertClose(res[`sts-dev_${k}`], v, `${precision ?? 'none'} ${k}`);
    assert.equal(ev.primaryMetric, 'sts-dev_spearman_cosine');
    // each side encoded on its own (so each is its own int8 calibration set), normalised iff quantized
    assert.deepEqual(enc.calls.map((c) => c.texts), [s1, s2]);
    for (const c of enc.calls) assert.deepEqual(c.opts, precision ? { batchSize: 8, normalize: true } : { batchSize: 8 });
  }
});

test('EmbeddingSimilarityEvaluator options: function subset, main similarity, truncateDim, errors', async () => {
  const g = goldens.embedding_similarity;
  const enc = new TableEncoder(new Map([...table('a', g.emb1), ...table('b', g.emb2)]));
  const s1 = g.labels.map((_, i) => `a${i}`);
  const s2 = g.labels.map((_, i) => `b${i}`);
  const one = new EmbeddingSimilarityEvaluator(s1, s2, g.labels, { similarityFns: ['dot'] });
  const r1 = await one.evaluate(enc);
  assert.deepEqual(Object.keys(r1), ['pearson_dot', 'spearman_dot']); // no *_max for a single function
  assert.equal(one.primaryMetric, 'spearman_dot');
  assertClose(r1.spearman_dot, g.results.none.spearman_dot, 'dot only');
  const max = new EmbeddingSimilarityEvaluator(s1, s2, g.labels, { similarityFns: ['cosine', 'manhattan'], mainSimilarity: 'max' });
  const r2 = await max.evaluate(enc);
  assert.equal(max.primaryMetric, 'spearman_max');
  assert.equal(r2.spearman_max, Math.max(r2.spearman_cosine, r2.spearman_manhattan));
  const trunc = new EmbeddingSimilarityEvaluator(s1, s2, g.labels, { truncateDim: 4, similarityFns: ['cosine'] });
  const r3 = await trunc.evaluate(enc);
  const cut = (rows: number[][]) => ({ data: rows.flatMap((r) => r.slice(0, 4)), rows: rows.length, dim: 4 });
  assertClose(r3.spearman_cosine, spearman(g.labels, pairedScores('cosine', cut(g.emb1), cut(g.emb2))), 'truncated');
  assert.equal(enc.calls.at(-1)!.opts.truncateDim, 4);
  assert.throws(() => new EmbeddingSimilarityEvaluator(['a'], ['b', 'c'], [1]), /same length/);
  assert.throws(() => new EmbeddingSimilarityEvaluator(['a'], ['b'], [1], { similarityFns: ['dot'], mainSimilarity: 'cosine' }), /not among/);
  assert.throws(() => new EmbeddingSimilarityEvaluator(['a'], ['b'], [1], { precision: 'int4' as Precision }), /precision/);
  assert.throws(() => new EmbeddingSimilarityEvaluator(['a'], ['b'], [1], { batchSize: 0 }), /batchSize/);
});

// ---------------------------------------------------------------- BinaryClassificationEvaluator

test('BinaryClassificationEvaluator equals the brute-force reference; distances use "≤ threshold"', async () => {
  const g = goldens.binary_classification;
  const enc = new TableEncoder(new Map([...table('x', g.emb1), ...table('y', g.emb2)]));
  const ev = new BinaryClassificationEvaluator(g.emb1.map((_, i) => `x${i}`), g.emb2.map((_, i) => `y${i}`), g.labels, { name: 'quora' });
  const res = await ev.evaluate(enc);
  for (const [k, v] of Object.entries(g.results)) assertClose(res[`quora_${k}`], v, k);
  for (const k of ['accuracy', 'accuracy_threshold', 'f1', 'f1_threshold', 'precision', 'recall', 'ap', 'mcc']) {
    const perFn = (['cosine', 'dot', 'euclidean', 'manhattan'] as const).map((f) => res[`quora_${f}_${k}`]);
    assert.equal(res[`quora_max_${k}`], Math.max(...perFn), `max_${k}`);
  }
  assert.ok(res.quora_euclidean_f1_threshold > 0, 'distance thresholds are positive distances');
  assert.equal(ev.primaryMetric, 'quora_cosine_ap');
  assert.equal(Object.keys(res).length, 4 * 8 + 8);
});

test('BinaryClassificationEvaluator encodes each distinct text once and checks labels', async () => {
  // cos(s, t) = 1 (label 1), cos(s, u) = 0 (label 0), cos(t, u) = 0 (label 0): perfect separation.
  const enc = new TableEncoder(new Map([['s', [1, 0]], ['t', [2, 0]], ['u', [0, 1]]]));
  const ev = new BinaryClassificationEvaluator(['s', 's', 't'], ['t', 'u', 'u'], [1, 0, 0], { similarityFns: ['cosine'], batchSize: 4 });
  const res = await ev.evaluate(enc);
  assert.deepEqual(enc.calls.map((c) => c.texts), [['s', 't', 'u']]);
  // sorted: 1 (label 1), 0, 0 → after row 0 all right: accuracy 1 at (1 + 0)/2
  assert.deepEqual(res, { cosine_accuracy: 1, cosine_accuracy_threshold: 0.5, cosine_f1: 1, cosine_f1_threshold: 0.5, cosine_precision: 1, cosine_recall: 1, cosine_ap: 1, cosine_mcc: 1 });
  assert.throws(() => new BinaryClassificationEvaluator(['a'], ['b'], [2]), /0 or 1/);
});

// ---------------------------------------------------------------- InformationRetrievalEvaluator

test('InformationRetrievalEvaluator equals the reference (chunked corpus, graded gains, k > corpus)', async () => {
  const g = goldens.retrieval;
  const enc = new TableEncoder(new Map([...Object.entries(g.queries), ...Object.entries(g.corpus)].map(([k, v]) => [`t:${k}`, v])));
  const queries = new Map(Object.keys(g.queries).map((id) => [id, `t:${id}`]));
  const corpus = new Map(Object.keys(g.corpus).map((id) => [id, `t:${id}`]));
  for (const gain of ['binary', 'linear', 'exponential'] as NdcgGain[]) {
    enc.calls.length = 0;
    const ev = new InformationRetrievalEvaluator(queries, corpus, g.relevant, {
      name: 'ir',
      corpusChunkSize: 7,
      batchSize: 5,
      scoreFunctions: ['cosine', 'dot'],
      ndcgGain: gain,
      accuracyAtK: g.cutoffs.accuracy,
      precisionRecallAtK: g.cutoffs.pr,
      mrrAtK: g.cutoffs.mrr,
      ndcgAtK: g.cutoffs.ndcg,
      mapAtK: g.cutoffs.map,
    });
    assert.deepEqual(ev.queryIds, g.evaluated_queries, 'queries without a relevant document are skipped');
    const res = await ev.evaluate(enc);
    for (const fn of ['cosine', 'dot'] as const) {
      for (const [k, v] of Object.entries(g.metrics[gain][fn])) assertClose(res[`ir_${fn}_${k}`], v, `${gain} ${fn} ${k}`);
    }
    assert.equal(Object.keys(res).length, 2 * Object.keys(g.metrics[gain].cosine).length);
    const best = res['ir_cosine_ndcg@50'] >= res['ir_dot_ndcg@50'] ? 'cosine' : 'dot';
    assert.equal(ev.primaryMetric, `ir_${best}_ndcg@50`);
    // the corpus went to the encoder in chunks of at most 7 texts, after the queries
    assert.equal(enc.calls[0].texts.length, g.evaluated_queries.length);
    assert.ok(enc.calls.slice(1).every((c) => c.texts.length <= 7));
    assert.equal(enc.calls.slice(1).reduce((s, c) => s + c.texts.length, 0), Object.keys(g.corpus).length);
  }
});

test('InformationRetrievalEvaluator, hand-checked on 2-D vectors', async () => {
  // q = (1, 0); cosine and dot rank d1 (1, 0) > d2 (0.8, 0.6) > d3 (0, 1) > d4 (−1, 0).
  // q relevant: d2 (grade 1) and d4 (grade 2). "empty" has an empty judgement set and "zero"
  // only a grade-0 one: both are skipped, as sentence-transformers skips queries without relevant docs.
  const enc = new TableEncoder(new Map([['q', [1, 0]], ['e', [0, 1]], ['z', [0, 1]], ['d1', [1, 0]], ['d2', [0.8, 0.6]], ['d3', [0, 1]], ['d4', [-1, 0]]]), new Map(), 'dot');
  const ev = new InformationRetrievalEvaluator(
    { q: 'q', empty: 'e', zero: 'z' },
    { d1: 'd1', d2: 'd2', d3: 'd3', d4: 'd4' },
    new Map<string, ReadonlyMap<string, number> | ReadonlySet<string>>([['q', new Map([['d2', 1], ['d4', 2]])], ['empty', new Set()], ['zero', new Map([['d1', 0]])]]),
    { accuracyAtK: [1, 3], precisionRecallAtK: [3, 5], mrrAtK: [10], ndcgAtK: [5], mapAtK: [5], name: 'tiny' },
  );
  assert.deepEqual(ev.queryIds, ['q']);
  assert.equal(ev.primaryMetric, 'tiny_cosine_ndcg@5'); // before a model is seen
  const res = await ev.evaluate(enc);
  const L3 = Math.log2(3);
  const expected = {
    'tiny_dot_accuracy@1': 0, // d1 first, not relevant
    'tiny_dot_accuracy@3': 1,
    'tiny_dot_precision@3': 1 / 3,
    'tiny_dot_precision@5': 2 / 5, // k = 5 > 4 documents: still divided by 5
    'tiny_dot_recall@3': 1 / 2,
    'tiny_dot_recall@5': 1,
    'tiny_dot_ndcg@5': (1 / L3 + 1 / Math.log2(5)) / (1 + 1 / L3), // hits at ranks 2 and 4; ideal ranks 1, 2
    'tiny_dot_mrr@10': 1 / 2,
    'tiny_dot_map@5': (1 / 2 + 2 / 4) / 2,
  };
  assert.deepEqual(Object.keys(res), Object.keys(expected), 'the model\'s similarity function (dot) is the default');
  for (const [k, v] of Object.entries(expected)) assertClose(res[k], v, k);
  assert.equal(ev.primaryMetric, 'tiny_dot_ndcg@5');
  const ranked = await ev.rank(enc);
  assert.deepEqual(ranked.get('dot'), [['d1', 'd2', 'd3', 'd4']]);
  assert.throws(() => new InformationRetrievalEvaluator({ q: 'q' }, { d: 'd' }, { q: [] }), /no query has a relevant document/);
  assert.throws(() => new InformationRetrievalEvaluator({ q: 'q' }, { d: 'd' }, { q: ['d'] }, { ndcgAtK: [] }), /ndcgAtK/);
});

// ---------------------------------------------------------------- TripletEvaluator

test('TripletEvaluator, hand-checked, with and without a margin', async () => {
  // Triplet 1: a (1,0), p (1,1), n (3,0.5). cos(a,p) = 0.707 < cos(a,n) = 0.986, dot 1 < 3: wrong for
  // both; distances d(a,p) = 1 (L2 and L1) < d(a,n) = 2.062 (L2), 2.5 (L1): right for both.
  // Triplet 2: a (0,1), p (0,2), n (1,0). cos 1 > 0, dot 2 > 0, L2 1 < 1.414, L1 1 < 2: right.
  const enc = new TableEncoder(new Map([['a1', [1, 0]], ['p1', [1, 1]], ['n1', [3, 0.5]], ['a2', [0, 1]], ['p2', [0, 2]], ['n2', [1, 0]]]));
  const args = [['a1', 'a2'], ['p1', 'p2'], ['n1', 'n2']] as const;
  const ev = new TripletEvaluator(...args, { name: 'nli' });
  assert.deepEqual(await ev.evaluate(enc), { nli_cosine_accuracy: 0.5, nli_dot_accuracy: 0.5, nli_euclidean_accuracy: 1, nli_manhattan_accuracy: 1, nli_max_accuracy: 1 });
  assert.equal(ev.primaryMetric, 'nli_cosine_accuracy');
  // margin 0.5: triplet 2 fails for euclidean (1.414 − 1 ≤ 0.5) but not manhattan (2 − 1 > 0.5);
  // triplet 1 still passes both distances (1.062 and 1.5 > 0.5).
  const m = new TripletEvaluator(...args, { margin: 0.5, mainSimilarity: 'max' });
  assert.deepEqual(await m.evaluate(enc), { cosine_accuracy: 0.5, dot_accuracy: 0.5, euclidean_accuracy: 0.5, manhattan_accuracy: 1, max_accuracy: 1 });
  assert.equal(m.primaryMetric, 'max_accuracy');
  const per = new TripletEvaluator(...args, { margin: { manhattan: 1.5 }, similarityFns: ['manhattan', 'euclidean'] });
  // manhattan margin 1.5: triplet 1 (2.5 − 1 = 1.5, not > 1.5) fails, triplet 2 (1) fails
  assert.deepEqual(await per.evaluate(enc), { manhattan_accuracy: 0, euclidean_accuracy: 1, max_accuracy: 1 });
  assert.equal(per.primaryMetric, 'manhattan_accuracy');
  assert.throws(() => new TripletEvaluator(['a'], ['p'], []), /same length/);
});

// ---------------------------------------------------------------- ParaphraseMiningEvaluator

test('ParaphraseMiningEvaluator, hand-checked', async () => {
  // Unit vectors A (1,0), B (0.8,0.6), C (0,1), D (−0.28,0.96). Cosines: CD .96, AB .8, BC .6,
  // BD .352, AC 0, AD −.28 — the mined list in that order (topK 100 keeps all six pairs).
  const enc = new TableEncoder(new Map([['A', [1, 0]], ['B', [0.8, 0.6]], ['C', [0, 1]], ['D', [-0.28, 0.96]]]));
  const sentences = { a: 'A', b: 'B', c: 'C', d: 'D' };
  // Duplicates (a,b), (a,c): 2 pairs. CD no; AB yes at 2: P 1/2, R 1/2, F1 1/2, threshold (.8+.6)/2;
  // BC, BD no; AC yes at 5: P 2/5, R 1, F1 4/7, threshold (0 − .28)/2. AP = (1/2 + 2/5)/2.
  const res = await new ParaphraseMiningEvaluator(sentences, [['a', 'b'], ['a', 'c'], ['a', 'zz']], { name: 'pm' }).evaluate(enc);
  assertClose(res.pm_average_precision, 0.45, 'AP');
  assertClose(res.pm_f1, 4 / 7, 'f1');
  assertClose(res.pm_precision, 0.4, 'precision');
  assert.equal(res.pm_recall, 1);
  assertClose(res.pm_threshold, -0.14, 'threshold', 1e-6);
  // Transitive closure adds (b,c): 3 pairs. AB: P 1/2; BC at 3: P 2/3; AC at 5: P 3/5, R 1, F1 3/4.
  const tc = await new ParaphraseMiningEvaluator(sentences, [['a', 'b'], ['a', 'c']], { addTransitiveClosure: true }).evaluate(enc);
  assertClose(tc.average_precision, (1 / 2 + 2 / 3 + 3 / 5) / 3, 'AP closure');
  assertClose(tc.f1, 0.75, 'f1 closure');
  // topK 1: A↔B and C↔D only. CD no; AB yes: F1 1/2; the next pair does not exist, so the
  // threshold is the midpoint of AB with itself (.8). AP = (1/2)/2.
  const k1 = new ParaphraseMiningEvaluator(sentences, [['a', 'b'], ['a', 'c']], { topK: 1 });
  const r1 = await k1.evaluate(enc);
  assertClose(r1.average_precision, 0.25, 'AP topK 1');
  assertClose(r1.threshold, 0.8, 'threshold topK 1', 1e-6);
  assert.equal(k1.primaryMetric, 'average_precision');
  // maxPairs 1: only CD is kept, which is no duplicate
  const m1 = await new ParaphraseMiningEvaluator(sentences, [['a', 'b']], { maxPairs: 1 }).evaluate(enc);
  assert.deepEqual(m1, { average_precision: 0, f1: 0, precision: 0, recall: 0, threshold: 0 });
  assert.throws(() => new ParaphraseMiningEvaluator(sentences, [['a', 'x']]), /no duplicate pair/);
});

// ---------------------------------------------------------------- SequentialEvaluator and format

test('SequentialEvaluator merges results and aggregates the primary scores', async () => {
  const enc = new TableEncoder(new Map([['a1', [1, 0]], ['p1', [1, 1]], ['n1', [3, 0.5]], ['a2', [0, 1]], ['p2', [0, 2]], ['n2', [1, 0]]]));
  const t1 = new TripletEvaluator(['a1', 'a2'], ['p1', 'p2'], ['n1', 'n2'], { name: 'one' }); // primary 0.5
  const t2 = new TripletEvaluator(['a1', 'a2'], ['p1', 'p2'], ['n1', 'n2'], { name: 'two', mainSimilarity: 'euclidean' }); // primary 1
  const seq = new SequentialEvaluator([t1, t2]);
  const res = await seq.evaluate(enc);
  assert.equal(seq.primaryMetric, 'sequential_score');
  assert.equal(res.sequential_score, 1); // the last evaluator's primary score
  assert.equal(res.one_cosine_accuracy, 0.5);
  assert.equal(res.two_euclidean_accuracy, 1);
  assert.deepEqual(seq.lastScores, [0.5, 1]);
  const mean = new SequentialEvaluator([t1, t2], { aggregate: 'mean', name: 'all' });
  assert.equal((await mean.evaluate(enc)).all_sequential_score, 0.75);
  assert.equal(mean.primaryMetric, 'all_sequential_score');
  const custom = new SequentialEvaluator([t1, t2], { aggregate: (s) => s[0] * 10 });
  assert.equal((await custom.evaluate(enc)).sequential_score, 5);
});

test('formatJson and formatTable', () => {
  const r = { 'sts_pearson_cosine': 0.8, 'sts_spearman_cosine': 0.75, 'sts_pearson_dot': NaN };
  assert.equal(formatJson(r), '{\n  "sts_pearson_cosine": 0.8,\n  "sts_spearman_cosine": 0.75,\n  "sts_pearson_dot": null\n}\n');
  const doc = JSON.parse(formatJson(r, { title: 'EmbeddingSimilarityEvaluator: sts', primaryMetric: 'sts_spearman_cosine' }));
  assert.deepEqual(doc, {
    evaluator: 'EmbeddingSimilarityEvaluator: sts',
    primary_metric: 'sts_spearman_cosine',
    primary_score: 0.75,
    metrics: { sts_pearson_cosine: 0.8, sts_spearman_cosine: 0.75, sts_pearson_dot: null },
  });
  assert.equal(
    formatTable(r, { title: 'STS', primaryMetric: 'sts_spearman_cosine' }),
    [
      'STS',
      'metric                  value',
      '---------------------  ------',
      'sts_pearson_cosine     0.8000',
      'sts_spearman_cosine *  0.7500',
      'sts_pearson_dot           NaN',
      '* primary metric',
      '',
    ].join('\n'),
  );
});

// ---------------------------------------------------------------- a real (tiny) model

function readSts(text: string, n: number): { s1: string[]; s2: string[]; scores: number[] } {
  const out = { s1: [] as string[], s2: [] as string[], scores: [] as number[] };
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length < 7) continue;
    out.scores.push(Number(f[4]));
    out.s1.push(f[5]);
    out.s2.push(f[6]);
    if (out.s1.length === n) break;
  }
  return out;
}

test('every evaluator runs on a tiny SentenceTransformer', { skip: sharedMissing(MINILM_TOKENIZER, STSB_DEV) }, async () => {
  const model = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32 });
  const enc: Encoder = model; // SentenceTransformer satisfies the Encoder interface
  try {
    const sts = readSts(await readFile(STSB_DEV, 'utf8'), 60);
    const stsEval = new EmbeddingSimilarityEvaluator(sts.s1, sts.s2, sts.scores, { name: 'sts-dev', batchSize: 16 });
    const res = await stsEval.evaluate(enc);
    assert.equal(Object.keys(res).length, 10);
    for (const [k, v] of Object.entries(res)) assert.ok(Number.isFinite(v) && Math.abs(v) <= 1, `${k} = ${v}`);
    // the same number straight from the embeddings
    const e1 = await model.encodeMatrix(sts.s1);
    const e2 = await model.encodeMatrix(sts.s2);
    assertClose(res['sts-dev_spearman_cosine'], spearman(sts.scores, pairedScores('cosine', e1, e2)), 'direct spearman', 1e-9);
    for (const precision of ['int8', 'binary'] as const) {
      const q = await new EmbeddingSimilarityEvaluator(sts.s1, sts.s2, sts.scores, { precision, similarityFns: ['cosine'] }).evaluate(enc);
      assert.ok(Number.isFinite(q.spearman_cosine), `${precision}: ${q.spearman_cosine}`);
    }

    const labels = sts.scores.map((s) => (s >= 3 ? 1 : 0));
    const bin = new BinaryClassificationEvaluator(sts.s1, sts.s2, labels, { name: 'sts-bin' });
    const triplets = new TripletEvaluator(sts.s1.slice(0, 20), sts.s2.slice(0, 20), sts.s2.slice(20, 40), { name: 'trip', truncateDim: 8 });
    const queries = new Map(sts.s1.slice(0, 20).map((t, i) => [`q${i}`, t]));
    const corpus = new Map(sts.s2.map((t, i) => [`d${i}`, t]));
    const relevant = new Map([...queries.keys()].map((q, i) => [q, new Set([`d${i}`])]));
    const ir = new InformationRetrievalEvaluator(queries, corpus, relevant, { name: 'ir', corpusChunkSize: 25, scoreFunctions: ['cosine', 'dot'] });
    const sentences = new Map([...sts.s1.slice(0, 30), ...sts.s2.slice(0, 30)].map((t, i) => [`s${i}`, t]));
    const dups = Array.from({ length: 30 }, (_, i) => [`s${i}`, `s${i + 30}`] as const).filter((_, i) => sts.scores[i] >= 4);
    const pm = new ParaphraseMiningEvaluator(sentences, dups, { name: 'pm', topK: 5 });
    const seq = new SequentialEvaluator([stsEval, bin, triplets, ir, pm], { aggregate: 'mean' });
    const all = await seq.evaluate(enc);
    for (const ev of [stsEval, bin, triplets, ir, pm]) assert.ok(Number.isFinite(all[ev.primaryMetric]), `${ev.primaryMetric} = ${all[ev.primaryMetric]}`);
    assert.ok(all['ir_cosine_accuracy@10'] >= 0 && all['ir_cosine_accuracy@10'] <= 1);
    assert.ok(all['sts-bin_cosine_ap'] > 0 && all['sts-bin_cosine_ap'] <= 1);
    assertClose(all.sequential_score, seq.lastScores.reduce((a, b) => a + b, 0) / 5, 'mean of primaries');
    assert.ok(formatTable(all, { primaryMetric: seq.primaryMetric }).includes('sequential_score *'));
  } finally {
    await model.close();
  }
});
