// Dropout keep-masks drawn in JavaScript and fed to the step graph: each mask depends only on
// (run seed, optimizer step, micro-batch, site), so a run resumed from a checkpoint draws exactly
// the masks an uninterrupted run would. An element is kept when a 32-bit draw u satisfies
// u ≥ p·2³² (probability 1 − p, to within 2⁻³²); kept values are scaled by 1/(1 − p) in-graph.
// Given the texts' lengths (right padding), attention masks are drawn for the real
// query × key block of each text only; the padded positions are 1 (their probabilities are 0,
// or their rows are discarded), so the draws scale with real tokens, not padded ones.

import type { TensorData } from '../graph/ir.js';
import type { DropoutSite } from '../models/module.js';

/** A well-mixed 32-bit state from several integers (the murmur3 finaliser over a running hash). */
function mix(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0 || 1;
}

export interface MaskShape {
  /** Texts in the batch (all columns stacked). */
  n: number;
  /** Padded tokens per text. */
  s: number;
  /** Real tokens in the batch (the rows of packed sites). */
  tokens: number;
  /** Real tokens of each text (right padding); attention masks then draw the real blocks only. */
  lengths?: readonly number[];
  /** Width and heads for sites that do not state their own. */
  hidden?: number;
  heads?: number;
}

export function maskDims(site: DropoutSite, sh: MaskShape): number[] {
  const width = site.width ?? sh.hidden;
  const heads = site.heads ?? sh.heads;
  if (width === undefined || heads === undefined) throw new Error(`dropout site ${site.name}: its width and heads are not known`);
  switch (site.layout) {
    case 'tokens3d': return [sh.n, sh.s, width];
    case 'rows': return [sh.n * sh.s, width];
    case 'packed': return [sh.tokens, width];
    case 'attention': return [sh.n, heads, sh.s, sh.s];
  }
}

/** Draws data[from, from + count) (1 = keep) from the xorshift32 state x; returns the new state. */
function draw(data: Uint8Array, from: number, count: number, threshold: number, state: number): number {
  let x = state;
  const end = from + count;
  for (let i = from; i < end; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x >>> 0 >= threshold ? 1 : 0;
  }
  return x;
}

/** The keep-masks of every site for one forward pass. */
export function dropoutMasks(sites: readonly DropoutSite[], sh: MaskShape, seed: number, step: number, micro = 0): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  sites.forEach((site, k) => {
    const dims = maskDims(site, sh);
    const len = dims.reduce((a, b) => a * b, 1);
    const data = new Uint8Array(len);
    const threshold = Math.floor(site.p * 4294967296);
    let x = mix(seed, step, micro, k);
    if (site.layout === 'attention' && sh.lengths) {
      const [n, heads, s] = dims;
      data.fill(1);
      for (let r = 0; r < n; r++) {
        const L = sh.lengths[r];
        for (let h = 0; h < heads; h++) for (let q = 0; q < L; q++) x = draw(data, ((r * heads + h) * s + q) * s, L, threshold, x);
      }
    } else {
      draw(data, 0, len, threshold, x);
    }
    out[site.name] = { dtype: 'bool', dims, data };
  });
  return out;
}
