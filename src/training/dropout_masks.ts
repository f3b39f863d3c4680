// Dropout keep-masks drawn in JavaScript and fed to the step graph: each mask depends only on
// (run seed, optimizer step, micro-batch, site), so a run resumed from a checkpoint draws exactly
// the masks an uninterrupted run would. An element is kept when a 32-bit draw u satisfies
// u ≥ p·2³² (probability 1 − p, to within 2⁻³²); kept values are scaled by 1/(1 − p) in-graph.

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

/** The keep-masks of every site for one forward pass. */
export function dropoutMasks(sites: readonly DropoutSite[], sh: MaskShape, seed: number, step: number, micro = 0): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  sites.forEach((site, k) => {
    const dims = maskDims(site, sh);
    const len = dims.reduce((a, b) => a * b, 1);
    const data = new Uint8Array(len);
    const threshold = Math.floor(site.p * 4294967296);
    let x = mix(seed, step, micro, k);
    for (let i = 0; i < len; i++) {
      // xorshift32
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      data[i] = x >>> 0 >= threshold ? 1 : 0;
    }
    out[site.name] = { dtype: 'bool', dims, data };
  });
  return out;
}
