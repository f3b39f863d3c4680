// Weights as graph inputs, for training: each parameter is an input in its Hugging Face layout
// (Linear weights [out, in]) so that its gradient has that layout too; Linear layers transpose
// it in-graph. Frozen parameters are inputs without gradients.

import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import type { Param, ParamSource } from '../models/params.js';

export interface TrainableParam {
  /** Unique name across the model and the loss, e.g. 'encoder.layer.0.output.dense.weight', '2_Dense/linear.weight'. */
  name: string;
  param: Param;
  trainable: boolean;
  /** AdamW weight decay applies (not to biases and LayerNorm weights, as the Hugging Face Trainer does). */
  decay: boolean;
}

export class InputParamSource implements ParamSource {
  readonly used = new Map<string, Value>();

  /** `rowsOnly`: parameters fed as the rows a batch uses ([rows, …] instead of their full shape). */
  constructor(private readonly g: GraphBuilder, private readonly lookup: (name: string) => TrainableParam, private readonly prefix = '', private readonly rowsOnly: ReadonlySet<string> = new Set()) {}

  tensor(name: string): Value {
    const full = this.prefix + name;
    let v = this.used.get(full);
    if (!v) {
      const p = this.lookup(full);
      v = this.g.input(full, 'float32', this.rowsOnly.has(full) ? ['rows', ...p.param.shape.slice(1)] : [...p.param.shape]);
      this.used.set(full, v);
    }
    return v;
  }

  linear(weights: string[], biases: (string | null)[], scales?: number[]): { weight: Value; bias: Value | null } {
    const ws = weights.map((w, k) => {
      const t = this.g.transpose(this.tensor(w), [1, 0]);
      const s = scales?.[k] ?? 1;
      return s === 1 ? t : this.g.mul(t, this.g.scalar(s));
    });
    const weight = ws.length === 1 ? ws[0] : this.g.concat(ws, 1);
    const bs = biases.map((b, k) => {
      if (!b) return null;
      const v = this.tensor(b);
      const s = scales?.[k] ?? 1;
      return s === 1 ? v : this.g.mul(v, this.g.scalar(s));
    });
    let bias: Value | null = null;
    if (bs.some((b) => b !== null)) {
      if (bs.some((b) => b === null)) throw new Error('InputParamSource: mixed biased and unbiased projections cannot be fused');
      bias = bs.length === 1 ? bs[0] : this.g.concat(bs as Value[], 0);
    }
    return { weight, bias };
  }
}

/** Hugging Face Trainer's rule: no weight decay on biases and LayerNorm parameters. */
export function decays(name: string): boolean {
  return !(name.endsWith('bias') || /layernorm|layer_norm/i.test(name));
}
