// Dataset utilities on in-memory examples: dedupe (by all texts or by the first text, keeping
// the first occurrence) and a seeded, deterministic train/test split. Take Example arrays and
// return new arrays; the inputs are not modified.

import type { Example } from './dataset.js';

/**
 * Drops repeated examples, keeping the first of each. 'texts' (default): examples with the
 * same texts in the same order are repeats (labels are not compared); 'first': examples with
 * the same first text (the anchor) are repeats.
 */
export function dedupe(examples: readonly Example[], by: 'texts' | 'first' = 'texts'): Example[] {
  if (by !== 'texts' && by !== 'first') throw new RangeError(`dedupe: by must be 'texts' or 'first', got ${JSON.stringify(by)}`);
  const seen = new Set<string>();
  const out: Example[] = [];
  for (const ex of examples) {
    const key = by === 'first' ? (ex.texts[0] ?? '') : JSON.stringify(ex.texts);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(ex);
  }
  return out;
}

export interface SplitOptions {
  /** A fraction in (0, 1) (the test count is rounded up, as scikit-learn does) or a count ≥ 1. */
  testSize: number;
  /** PRNG seed (an integer; default 42). The same seed and input give the same split. */
  seed?: number;
}

/** A 32-bit seeded generator (mulberry32): uniform floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Splits examples at random into train and test with a seeded shuffle; both parts keep the
 * input's relative order. Deterministic: the same examples, testSize and seed give the same parts.
 */
export function trainTestSplit(examples: readonly Example[], opts: SplitOptions): { train: Example[]; test: Example[] } {
  const n = examples.length;
  const { testSize } = opts;
  const seed = opts.seed ?? 42;
  if (!Number.isInteger(seed)) throw new RangeError(`trainTestSplit: seed must be an integer, got ${String(seed)}`);
  if (n < 2) throw new RangeError(`trainTestSplit: need at least 2 examples to split, got ${n}`);
  let nTest: number;
  if (typeof testSize === 'number' && testSize > 0 && testSize < 1) nTest = Math.ceil(testSize * n);
  else if (Number.isInteger(testSize) && testSize >= 1) nTest = testSize;
  else throw new RangeError(`trainTestSplit: testSize must be a fraction in (0, 1) or a whole count ≥ 1, got ${String(testSize)}`);
  if (nTest >= n) {
    throw new RangeError(`trainTestSplit: testSize ${String(testSize)} leaves no training examples out of ${n}; use a smaller testSize`);
  }
  const rand = seededRandom(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const isTest = new Uint8Array(n);
  for (let k = 0; k < nTest; k++) isTest[order[k]!] = 1;
  const train: Example[] = [];
  const test: Example[] = [];
  for (let i = 0; i < n; i++) (isTest[i] ? test : train).push(examples[i]!);
  return { train, test };
}
