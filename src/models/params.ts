// Where a module's weights come from when its graph is built. For inference they become
// initializers (with layout changes such as transposing Linear weights to [in, out], fusing
// the Q/K/V projections and folding constant scales done once on the data); for training a
// different source feeds them as graph inputs and does the same changes with graph ops.

import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';

export interface Param {
  shape: number[];
  data: Float32Array;
}

export interface ParamSource {
  /** A weight as stored (Hugging Face layout). */
  tensor(name: string): Value;
  /**
   * Linear layers `names` (weights [out, in], biases `${name}.bias` style given in `biases`)
   * as one projection: weight [in, Σout] and bias [Σout], each block multiplied by `scales[k]`.
   */
  linear(weights: string[], biases: (string | null)[], scales?: number[]): { weight: Value; bias: Value | null };
}

/** Builds initializers from in-memory parameters, once per name. */
export class InitializerSource implements ParamSource {
  private readonly made = new Map<string, Value>();

  constructor(private readonly g: GraphBuilder, private readonly get: (name: string) => Param, private readonly prefix = '') {}

  tensor(name: string): Value {
    const key = `${this.prefix}${name}`;
    let v = this.made.get(key);
    if (!v) {
      const p = this.get(name);
      v = this.g.initializer(key, { dtype: 'float32', dims: [...p.shape], data: p.data });
      this.made.set(key, v);
    }
    return v;
  }

  linear(weights: string[], biases: (string | null)[], scales?: number[]): { weight: Value; bias: Value | null } {
    const ps = weights.map((w) => this.get(w));
    const inDim = ps[0].shape[1];
    const outs = ps.map((p) => p.shape[0]);
    const total = outs.reduce((a, b) => a + b, 0);
    const w = new Float32Array(inDim * total);
    let col = 0;
    ps.forEach((p, k) => {
      const s = scales?.[k] ?? 1;
      const o = p.shape[0];
      for (let r = 0; r < o; r++) {
        const src = r * inDim;
        for (let c = 0; c < inDim; c++) w[c * total + col + r] = p.data[src + c] * s;
      }
      col += o;
    });
    const name = weights.length === 1 ? `${this.prefix}${weights[0]}` : `${this.prefix}${weights.join('+')}`;
    const weight = this.g.initializer(`${name}:in_out`, { dtype: 'float32', dims: [inDim, total], data: w });
    let bias: Value | null = null;
    if (biases.some((b) => b !== null)) {
      const b = new Float32Array(total);
      let off = 0;
      biases.forEach((bn, k) => {
        if (bn) {
          const p = this.get(bn);
          const s = scales?.[k] ?? 1;
          for (let i = 0; i < p.data.length; i++) b[off + i] = p.data[i] * s;
        }
        off += outs[k];
      });
      bias = this.g.initializer(`${name}:bias`, { dtype: 'float32', dims: [total], data: b });
    }
    return { weight, bias };
  }
}
