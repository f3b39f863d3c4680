// Batch samplers: the order in which examples form batches each epoch.
//   batch_sampler: a seeded shuffle (or file order), cut into consecutive batches
//   no_duplicates: as sentence-transformers' NO_DUPLICATES sampler — a batch never holds the
//   same text twice (in-batch negatives would otherwise include a copy of the positive); an
//   example that collides waits for a later batch.
// The order depends only on (seed, epoch), so a resumed run sees the same batches.

import { Rng } from '../models/init.js';

export type SamplerName = 'batch_sampler' | 'no_duplicates';

export function permutation(n: number, seed: number, epoch: number, shuffle: boolean): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return idx;
  const rng = new Rng((seed * 7919 + epoch * 104729) >>> 0);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

export function epochBatches(texts: (i: number) => readonly string[], n: number, batchSize: number, seed: number, epoch: number, shuffle: boolean, sampler: SamplerName): number[][] {
  const order = permutation(n, seed, epoch, shuffle);
  const batches: number[][] = [];
  if (sampler === 'batch_sampler') {
    for (let s = 0; s < n; s += batchSize) batches.push(order.slice(s, s + batchSize));
    return batches;
  }
  let remaining = order;
  while (remaining.length) {
    const seen = new Set<string>();
    const batch: number[] = [];
    const rest: number[] = [];
    for (const i of remaining) {
      const t = texts(i);
      if (batch.length < batchSize && !t.some((x) => seen.has(x))) {
        batch.push(i);
        for (const x of t) seen.add(x);
      } else rest.push(i);
    }
    batches.push(batch);
    remaining = rest;
  }
  return batches;
}
