// Batch plans of the training benchmark, written once and run by both sides (ours and the
// sentence-transformers peer) so every step sees exactly the same token ids:
//   stsb: STS-B train shuffled (seeded), 32 pairs a step, each text tokenized by the model's
//         tokenizer and truncated to its max_seq_length (128); labels score/5 for CoSENTLoss
//   fixed: synthetic rows of exactly `len` tokens ([CLS] … [SEP]), the same batch every step.
// A plan: { loss: {name, scale}, optimizer: {lr, weight_decay, max_grad_norm}, warmup: steps
// not timed, steps: [{ columns: ids[column][row][token], labels: number[] | null }] }.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { permutation } from '../src/training/sampler.js';
import type { Tokenizer } from '../src/tokenizers/tokenizer.js';
import { SHARED } from './common.js';

export interface PlanStep {
  columns: number[][][];
  labels: number[] | null;
}

export interface TrainPlan {
  loss: { name: 'MultipleNegativesRankingLoss' | 'CoSENTLoss'; scale: number };
  optimizer: { lr: number; weight_decay: number; max_grad_norm: number };
  warmup: number;
  steps: PlanStep[];
}

export const STSB_TRAIN = resolve(SHARED, 'data', 'stsb', 'sts-train.csv');

/** `pairs` (anchor, positive) rows of exactly `len` tokens: [CLS] … [SEP]. */
export function syntheticBatch(pairs: number, len: number, seed: number): number[][][] {
  let s = seed;
  const r = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
  const row = (): number[] => [101, ...Array.from({ length: len - 2 }, () => 1000 + (r() % 28000)), 102];
  return [Array.from({ length: pairs }, row), Array.from({ length: pairs }, row)];
}

/** STS-B train rows (sentence1, sentence2, score in [0, 5]); tab-separated, 7 fields. */
export function readStsbTrain(path = STSB_TRAIN): { a: string; b: string; score: number }[] {
  if (!existsSync(path)) throw new Error(`${path}: STS-B train is needed for the shuffled training benchmark (the shared data folder beside the checkout)`);
  const out: { a: string; b: string; score: number }[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const f = line.split('\t');
    const score = Number(f[4]);
    if (f.length < 7 || !Number.isFinite(score)) throw new Error(`${path}:${i + 1}: expected 7 tab-separated fields with a numeric score in field 5`);
    out.push({ a: f[5], b: f[6], score });
  });
  return out;
}

const OPT = { lr: 2e-5, weight_decay: 0.01, max_grad_norm: 1.0 };

export function stsbPlan(tok: Tokenizer, loss: TrainPlan['loss']['name'], steps: number, warmup: number, pairs = 32, seed = 42): TrainPlan {
  const rows = readStsbTrain();
  const order = permutation(rows.length, seed, 0, true);
  if ((steps + warmup) * pairs > rows.length) throw new Error(`${steps + warmup} steps of ${pairs} pairs need more than the ${rows.length} STS-B train rows`);
  const plan: PlanStep[] = [];
  for (let s = 0; s < steps + warmup; s++) {
    const idx = order.slice(s * pairs, (s + 1) * pairs);
    plan.push({
      columns: [idx.map((i) => tok.encode(rows[i].a).ids), idx.map((i) => tok.encode(rows[i].b).ids)],
      labels: loss === 'CoSENTLoss' ? idx.map((i) => rows[i].score / 5) : null,
    });
  }
  return { loss: { name: loss, scale: 20 }, optimizer: OPT, warmup, steps: plan };
}

export function fixedPlan(pairs: number, len: number, steps: number, warmup: number): TrainPlan {
  const columns = syntheticBatch(pairs, len, 7);
  return { loss: { name: 'MultipleNegativesRankingLoss', scale: 20 }, optimizer: OPT, warmup, steps: Array.from({ length: steps + warmup }, () => ({ columns, labels: null })) };
}

/** Real tokens of a plan step, and padded ones as we stack it (every column's rows padded to the step's longest row). */
export function stepTokens(st: PlanStep): { real: number; padded: number } {
  let real = 0;
  let longest = 0;
  let rows = 0;
  for (const col of st.columns) {
    rows += col.length;
    for (const r of col) {
      real += r.length;
      longest = Math.max(longest, r.length);
    }
  }
  return { real, padded: rows * longest };
}
