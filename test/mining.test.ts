// Tests for src/mining: ExactIndex (cosine top-k by ONNX MatMul + TopK, against a float64
// brute force; blocked and batched search equal to one-shot search, ties included) and
// mineHardNegatives with a fake encoder whose vectors are built so that every query-candidate
// cosine is known by hand: rangeMin/rangeMax, absolute and relative margin, maxScore/minScore,
// skipping positives and texts equal to the query, n-tuple and labeled outputs, seeded random
// sampling, too few candidates (reported), and chunked mining equal to unchunked.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ExactIndex, mineHardNegatives, miningRecords, summarizeScores, type MineOptions, type MiningPair } from '../src/mining/index.js';
import { seededRandom } from '../src/data/split.js';
import { clearSessionCache } from '../src/runtime/session.js';

after(async () => {
  await clearSessionCache();
});

const DIM = 4;

/** A unit vector whose cosine with the query of `world` (0: [1,0,0,0], 1: [0,0,1,0]) is s. */
function at(s: number, world = 0): number[] {
  const v = [0, 0, 0, 0];
  v[2 * world] = s;
  v[2 * world + 1] = Math.sqrt(1 - s * s);
  return v;
}

/** Encodes by table lookup: every text must have a vector. */
class FakeEncoder {
  calls = 0;
  texts = 0;
  constructor(private readonly table: Map<string, number[]>, readonly dim = DIM) {}
  async encodeMatrix(texts: readonly string[], opts: { normalize?: boolean; prompt?: string } = {}): Promise<{ data: Float32Array; rows: number; dim: number }> {
    this.calls++;
    this.texts += texts.length;
    const data = new Float32Array(texts.length * this.dim);
    texts.forEach((t, i) => {
      const key = (opts.prompt ?? '') + t;
      const v = this.table.get(key);
      if (!v) throw new Error(`FakeEncoder: no vector for ${JSON.stringify(key)}`);
      const n = opts.normalize ? Math.hypot(...v) || 1 : 1;
      v.forEach((x, j) => (data[i * this.dim + j] = x / n));
    });
    return { data, rows: texts.length, dim: this.dim };
  }
}

// World 0: query q1, positive P (0.80), corpus c1 … c8 with known cosines to q1.
const SCORES: Record<string, number> = { c1: 0.95, c2: 0.9, c3: 0.85, c4: 0.75, c5: 0.7, c6: 0.6, c7: 0.5, c8: 0.4 };
const CORPUS = Object.keys(SCORES);

function table(extra: Record<string, number[]> = {}): Map<string, number[]> {
  const m = new Map<string, number[]>([['q1', [1, 0, 0, 0]], ['P', at(0.8)]]);
  for (const [t, s] of Object.entries(SCORES)) m.set(t, at(s));
  for (const [t, v] of Object.entries(extra)) m.set(t, v);
  return m;
}

const Q1: MiningPair[] = [{ query: 'q1', positive: 'P' }];

async function negativesOf(opts: MineOptions, pairs = Q1, enc = new FakeEncoder(table())): Promise<string[]> {
  const r = await mineHardNegatives(enc, pairs, { corpus: CORPUS, ...opts });
  return r.rows.map((row) => row[2] as string);
}

// ------------------------------------------------------------------ the index

function randomMatrix(rows: number, dim: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: rows * dim }, () => rand() * 2 - 1);
}

test('ExactIndex: cosine top-k equals a float64 brute force, padded with -1 past the stored vectors', async () => {
  const dim = 8;
  const corpus = randomMatrix(50, dim, 1);
  const queries = randomMatrix(7, dim, 2);
  const index = new ExactIndex(dim);
  index.add({ data: corpus, rows: 50, dim });
  const res = await index.search({ data: queries, rows: 7, dim }, 5);
  const norm = (m: Float32Array, r: number): number => Math.hypot(...m.subarray(r * dim, (r + 1) * dim));
  for (let q = 0; q < 7; q++) {
    const all = Array.from({ length: 50 }, (_, c) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += queries[q * dim + d] * corpus[c * dim + d];
      return { c, s: s / (norm(queries, q) * norm(corpus, c)) };
    }).sort((a, b) => b.s - a.s);
    for (let j = 0; j < 5; j++) {
      assert.equal(res.ids[q * 5 + j], all[j].c, `query ${q} rank ${j}`);
      assert.ok(Math.abs(res.scores[q * 5 + j] - all[j].s) < 1e-5, `query ${q} rank ${j}: ${res.scores[q * 5 + j]} vs ${all[j].s}`);
    }
  }
  const wide = await index.search({ data: queries.slice(0, dim), rows: 1, dim }, 53);
  assert.deepEqual([...wide.ids.slice(50)], [-1, -1, -1]);
  assert.deepEqual([...wide.scores.slice(50)], [-Infinity, -Infinity, -Infinity]);
  await index.close();
  await assert.rejects(index.search({ data: queries, rows: 7, dim }, 1), /closed/);
});

test('ExactIndex: blocked, batched search equals one-shot search (scores to float32 rounding), ties ranked by lower id', async () => {
  const dim = 6;
  const corpus = randomMatrix(41, dim, 3);
  // exact duplicates make ties across blocks
  corpus.copyWithin(10 * dim, 2 * dim, 3 * dim);
  corpus.copyWithin(37 * dim, 2 * dim, 3 * dim);
  const queries = randomMatrix(9, dim, 4);
  queries.set(corpus.subarray(2 * dim, 3 * dim), 0);
  const whole = new ExactIndex(dim);
  whole.add({ data: corpus, rows: 41, dim });
  const small = new ExactIndex(dim, { blockRows: 4, queryBatch: 2 });
  small.add({ data: corpus.slice(0, 13 * dim), rows: 13, dim });
  small.add({ data: corpus.slice(13 * dim), rows: 28, dim });
  for (const k of [1, 3, 7, 41]) {
    const a = await whole.search({ data: queries, rows: 9, dim }, k);
    const b = await small.search({ data: queries, rows: 9, dim }, k);
    assert.deepEqual([...b.ids], [...a.ids], `ids at k=${k}`);
    // the matrix product's rounding may depend on the block shape: scores agree to float32 rounding
    a.scores.forEach((x, i) => assert.ok(Math.abs(x - b.scores[i]) <= 1e-6, `score ${i} at k=${k}: ${x} vs ${b.scores[i]}`));
  }
  const first = await small.search({ data: queries, rows: 1, dim }, 3);
  assert.deepEqual([...first.ids], [2, 10, 37], 'three equal vectors come back in id order');
  await whole.close();
  await small.close();
});

test('ExactIndex: wrong dimensions and k are refused with what to do', async () => {
  const index = new ExactIndex(4);
  assert.throws(() => index.add({ data: new Float32Array(6), rows: 2, dim: 3 }), /dimension 3, the index 4/);
  await assert.rejects(index.search({ data: new Float32Array(4), rows: 1, dim: 4 }, 0), /k must be a positive integer/);
  assert.throws(() => new ExactIndex(0), /dim must be a positive integer/);
  await index.close();
});

// ------------------------------------------------------------------ mining by hand

test('defaults: the top 3 candidates, positive excluded; report counts and scores', async () => {
  const enc = new FakeEncoder(table());
  const r = await mineHardNegatives(enc, Q1, { corpus: CORPUS });
  assert.deepEqual(r.columns, ['anchor', 'positive', 'negative']);
  assert.deepEqual(r.rows, [['q1', 'P', 'c1'], ['q1', 'P', 'c2'], ['q1', 'P', 'c3']]);
  assert.deepEqual(miningRecords(r)[0], { anchor: 'q1', positive: 'P', negative: 'c1' });
  const rep = r.report;
  assert.equal(rep.rangeMax, 0 + 3 + 1, 'sentence-transformers default: rangeMin + numNegatives + max positives');
  assert.equal(rep.candidates, 9);
  assert.equal(rep.queriesWithFewerNegatives, 0);
  assert.equal(rep.negatives, 3);
  assert.equal(rep.rows, 3);
  assert.equal(rep.skipped.positive, 1, 'the positive (0.80) is passed over between c3 and c4 (rank 3, the last looked at)');
  assert.ok(Math.abs(rep.scores.positive.mean! - 0.8) < 1e-6);
  assert.ok(Math.abs(rep.scores.negative.mean! - 0.9) < 1e-6);
  assert.ok(Math.abs(rep.scores.difference.mean! - -0.1) < 1e-6);
  assert.equal(enc.texts, 10, 'nine candidates and one query encoded once each');
});

test('rangeMin and rangeMax bound the ranks looked at (the positive does not take a rank)', async () => {
  assert.deepEqual(await negativesOf({ rangeMin: 2, rangeMax: 6 }), ['c3', 'c4', 'c5']);
  assert.deepEqual(await negativesOf({ rangeMin: 5, rangeMax: 7, numNegatives: 2 }), ['c6', 'c7']);
  assert.deepEqual(await negativesOf({ rangeMax: 2, numNegatives: 2 }), ['c1', 'c2']);
  // ranks 3 and 4 are c4 and c5 with P skipped: P (0.80) sits between c3 and c4
  const r = await mineHardNegatives(new FakeEncoder(table()), Q1, { corpus: CORPUS, rangeMin: 3, rangeMax: 5, numNegatives: 2 });
  assert.deepEqual(r.rows.map((row) => row[2]), ['c4', 'c5']);
  assert.equal(r.report.skipped.rangeMin, 3);
  assert.equal(r.report.skipped.positive, 1);
  await assert.rejects(mineHardNegatives(new FakeEncoder(table()), Q1, { corpus: CORPUS, rangeMax: 2 }), /cannot mine 3 negatives from ranks 0 to 1/);
  await assert.rejects(mineHardNegatives(new FakeEncoder(table()), Q1, { corpus: CORPUS, rangeMin: 4, rangeMax: 4 }), /rangeMin \(4\) must be below rangeMax \(4\)/);
});

test('absolute and relative margin drop candidates too close to the positive score', async () => {
  // margin 0: keep s ≤ 0.80 → c4, c5, c6 (rangeMax default with a margin: 0 + 3·10 + 1)
  const r = await mineHardNegatives(new FakeEncoder(table()), Q1, { corpus: CORPUS, margin: 0 });
  assert.deepEqual(r.rows.map((row) => row[2]), ['c4', 'c5', 'c6']);
  assert.equal(r.report.rangeMax, 31);
  assert.equal(r.report.skipped.margin, 3);
  // margin 0.12: keep s ≤ 0.68
  assert.deepEqual(await negativesOf({ margin: 0.12 }), ['c6', 'c7', 'c8']);
  // relative 0.1: keep s ≤ 0.80 − 0.08 = 0.72
  assert.deepEqual(await negativesOf({ relativeMargin: 0.1 }), ['c5', 'c6', 'c7']);
});

test('maxScore and minScore bound the candidate scores', async () => {
  assert.deepEqual(await negativesOf({ maxScore: 0.88 }), ['c3', 'c4', 'c5']);
  const r = await mineHardNegatives(new FakeEncoder(table()), Q1, { corpus: CORPUS, maxScore: 0.72, minScore: 0.55 });
  assert.deepEqual(r.rows.map((row) => row[2]), ['c5', 'c6']);
  assert.equal(r.report.skipped.maxScore, 4);
  assert.equal(r.report.skipped.minScore, 2);
  assert.equal(r.report.queriesWithFewerNegatives, 1);
});

test('the positive, other positives of the query and a text equal to the query are never negatives', async () => {
  // the corpus holds the query itself (score 1), the positive again, and a second positive P2 (0.97)
  const enc = new FakeEncoder(table({ P2: at(0.97) }));
  const pairs: MiningPair[] = [{ query: 'q1', positive: 'P' }, { query: 'q1', positive: 'P2' }, { query: 'q1', positive: 'P' }];
  const r = await mineHardNegatives(enc, pairs, { corpus: ['q1', 'P', ...CORPUS, 'P'], margin: 0 });
  // margin against the lowest positive score, 0.80
  assert.deepEqual(r.rows, [
    ['q1', 'P', 'c4'], ['q1', 'P', 'c5'], ['q1', 'P', 'c6'],
    ['q1', 'P2', 'c4'], ['q1', 'P2', 'c5'], ['q1', 'P2', 'c6'],
  ]);
  assert.equal(r.report.pairs, 3);
  assert.equal(r.report.uniquePairs, 2);
  assert.equal(r.report.queries, 1);
  assert.equal(r.report.candidates, 11, 'q1, P, c1–c8, P2: duplicates removed');
  assert.equal(r.report.skipped.sameAsQuery, 1);
  assert.equal(r.report.skipped.positive, 2);
  assert.equal(enc.texts, 12, 'each distinct text and the one distinct query encoded once');
  // without a margin the top ranks are c1, c2, c3: the query (1.0) and P2 (0.97) are skipped
  const top = await mineHardNegatives(new FakeEncoder(table({ P2: at(0.97) })), pairs, { corpus: ['q1', ...CORPUS] });
  assert.deepEqual(top.rows.slice(0, 3).map((row) => row[2]), ['c1', 'c2', 'c3']);
});

test('n-tuple rows hold all negatives; rows lacking some are left out and reported', async () => {
  const enc = new FakeEncoder(table({ q2: [0, 0, 1, 0], R: at(0.9, 1), d1: at(0.5, 1) }));
  const pairs: MiningPair[] = [{ query: 'q1', positive: 'P' }, { query: 'q2', positive: 'R' }];
  // q2 world: only d1 scores above 0; everything of world 0 scores 0 for q2 and 0 for q1 ← world 1
  const r = await mineHardNegatives(enc, pairs, { corpus: [...CORPUS, 'd1'], outputFormat: 'n-tuple', numNegatives: 2, minScore: 0.1 });
  assert.deepEqual(r.columns, ['anchor', 'positive', 'negative_1', 'negative_2']);
  assert.deepEqual(r.rows, [['q1', 'P', 'c1', 'c2']]);
  assert.equal(r.report.pairsWithoutRow, 1);
  assert.equal(r.report.queriesWithFewerNegatives, 1);
  assert.deepEqual(miningRecords(r), [{ anchor: 'q1', positive: 'P', negative_1: 'c1', negative_2: 'c2' }]);
  // with scores: [positive, negative_1, negative_2]
  const s = await mineHardNegatives(new FakeEncoder(table()), Q1, { corpus: CORPUS, outputFormat: 'n-tuple', numNegatives: 2, outputScores: true });
  assert.deepEqual(s.columns, ['anchor', 'positive', 'negative_1', 'negative_2', 'scores']);
  const sc = s.rows[0][4] as number[];
  [0.8, 0.95, 0.9].forEach((want, i) => assert.ok(Math.abs(sc[i] - want) < 1e-6, `score ${i}: ${sc[i]}`));
});

test('labeled-pair and labeled-list outputs; includePositives forces n-tuple with the positive ranked', async () => {
  const lp = await mineHardNegatives(new FakeEncoder(table()), Q1, { corpus: CORPUS, outputFormat: 'labeled-pair', numNegatives: 2 });
  assert.deepEqual(lp.columns, ['anchor', 'document', 'label']);
  assert.deepEqual(lp.rows, [['q1', 'P', 1], ['q1', 'c1', 0], ['q1', 'c2', 0]]);
  const ll = await mineHardNegatives(new FakeEncoder(table()), Q1, { corpus: CORPUS, outputFormat: 'labeled-list', numNegatives: 2 });
  assert.deepEqual(ll.rows, [['q1', ['P', 'c1', 'c2'], [1, 0, 0]]]);
  const inc = await mineHardNegatives(new FakeEncoder(table()), Q1, { corpus: CORPUS, includePositives: true, numNegatives: 5, rangeMax: 5 });
  assert.equal(inc.report.outputFormat, 'n-tuple');
  assert.deepEqual(inc.rows, [['q1', 'P', 'c1', 'c2', 'c3', 'P', 'c4']]);
  assert.ok(inc.report.notes.some((n) => n.includes('n-tuple')));
});

test('random sampling: the same seed gives the same negatives, drawn from the allowed ranks, in score order', async () => {
  const opts: MineOptions = { samplingStrategy: 'random', rangeMin: 1, rangeMax: 7, seed: 7 };
  const a = await negativesOf(opts);
  const b = await negativesOf(opts);
  assert.deepEqual(a, b);
  const allowed = ['c2', 'c3', 'c4', 'c5', 'c6', 'c7'];
  const seen = new Set<string>();
  for (let seed = 0; seed < 12; seed++) {
    const n = await negativesOf({ ...opts, seed });
    assert.equal(n.length, 3);
    assert.equal(new Set(n).size, 3, 'no negative twice');
    for (const x of n) assert.ok(allowed.includes(x), `${x} is outside ranks 1–6`);
    assert.deepEqual(n, [...n].sort((x, y) => SCORES[y] - SCORES[x]), 'negatives come best first');
    n.forEach((x) => seen.add(x));
  }
  assert.ok(seen.size >= 5, `12 seeds drew from only ${[...seen].join(', ')}`);
});

test('fewer candidates than requested: every query is mined, the shortfall reported', async () => {
  const enc = new FakeEncoder(table({ q2: [0, 0, 1, 0], R: at(0.9, 1) }));
  const pairs: MiningPair[] = [{ query: 'q1', positive: 'P' }, { query: 'q2', positive: 'R' }];
  const r = await mineHardNegatives(enc, pairs);
  assert.deepEqual(r.rows, [['q1', 'P', 'R'], ['q2', 'R', 'P']]);
  assert.equal(r.report.candidates, 2);
  assert.equal(r.report.queriesWithFewerNegatives, 2);
  assert.equal(r.report.queriesWithoutNegatives, 0);
  assert.ok(r.report.notes.some((n) => n.includes('2 of 2 queries got fewer than 3 negatives')), r.report.notes.join('\n'));
  const nt = await mineHardNegatives(new FakeEncoder(table({ q2: [0, 0, 1, 0], R: at(0.9, 1) })), pairs, { outputFormat: 'n-tuple' });
  assert.equal(nt.rows.length, 0);
  assert.equal(nt.report.pairsWithoutRow, 2);
});

test('chunked encoding and blocked search mine exactly what one-shot mining does', async () => {
  const dim = 12;
  const rand = seededRandom(11);
  const tableR = new Map<string, number[]>();
  const vec = (): number[] => Array.from({ length: dim }, () => rand() * 2 - 1);
  const pairs: MiningPair[] = [];
  for (let i = 0; i < 30; i++) {
    const q = vec();
    const noise = vec();
    tableR.set(`q${i}`, q);
    tableR.set(`p${i}`, q.map((x, j) => x + 0.6 * noise[j]));
    pairs.push({ query: `q${i}`, positive: `p${i}` });
  }
  const corpus = Array.from({ length: 60 }, (_, i) => `d${i}`);
  for (const d of corpus) tableR.set(d, vec());
  tableR.set('d7', tableR.get('d3')!); // a tie
  const opts: MineOptions = { corpus, numNegatives: 4, rangeMin: 1, rangeMax: 12, margin: 0.05, outputFormat: 'n-tuple', outputScores: true };
  const one = await mineHardNegatives(new FakeEncoder(tableR, dim), pairs, opts);
  const enc = new FakeEncoder(tableR, dim);
  const many = await mineHardNegatives(enc, pairs, {
    ...opts,
    corpusChunkSize: 7,
    queryChunkSize: 4,
    createIndex: (d) => new ExactIndex(d, { blockRows: 5, queryBatch: 3 }),
  });
  const texts = (rows: unknown[][]): unknown[][] => rows.map((r) => r.slice(0, -1));
  assert.deepEqual(texts(many.rows), texts(one.rows));
  many.rows.forEach((r, i) => {
    const a = r[r.length - 1] as number[];
    const b = one.rows[i][r.length - 1] as number[];
    a.forEach((x, j) => assert.ok(Math.abs(x - b[j]) <= 1e-6, `row ${i} score ${j}: ${x} vs ${b[j]}`));
  });
  assert.deepEqual({ ...many.report, scores: null }, { ...one.report, scores: null });
  for (const which of ['positive', 'negative', 'difference'] as const) {
    assert.ok(Math.abs(many.report.scores[which].mean! - one.report.scores[which].mean!) <= 1e-6, which);
  }
  assert.ok(enc.calls >= 9 + 8, `expected chunked encoding, got ${enc.calls} calls`);
  assert.ok(one.rows.length > 10, 'the case mines something');
});

test('bad input is refused naming the pair, field or option', async () => {
  const enc = new FakeEncoder(table());
  await assert.rejects(mineHardNegatives(enc, []), /no pairs given/);
  await assert.rejects(mineHardNegatives(enc, [{ query: 'q1', positive: 3 } as unknown as MiningPair]), /pairs\[0\]\.positive must be a string/);
  await assert.rejects(mineHardNegatives(enc, Q1, { numNegatives: 0 }), /numNegatives must be an integer ≥ 1/);
  await assert.rejects(mineHardNegatives(enc, Q1, { samplingStrategy: 'best' as 'top' }), /samplingStrategy must be 'top' or 'random'/);
  await assert.rejects(mineHardNegatives(enc, Q1, { outputFormat: 'pairs' as 'triplet' }), /outputFormat must be one of/);
  await assert.rejects(mineHardNegatives(enc, Q1, { corpus: ['c1', null as unknown as string] }), /corpus\[1\] must be a string/);
});

test('summarizeScores: quartiles by linear interpolation, sample standard deviation', () => {
  const s = summarizeScores([4, 1, 3, 2]);
  assert.deepEqual(s, { count: 4, mean: 2.5, std: Math.sqrt(5 / 3), min: 1, p25: 1.75, median: 2.5, p75: 3.25, max: 4 });
  assert.equal(summarizeScores([]).mean, null);
});
