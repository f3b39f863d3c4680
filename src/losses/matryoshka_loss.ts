// MatryoshkaLoss: trains embeddings whose leading dimensions are useful on their own. The inner
// loss is evaluated on the embeddings truncated to each size m_k of `dims` and re-normalised,
// and the results are summed with weights w_k (1 each by default):
//   x^(m) = x[:, :m] / max(‖x[:, :m]‖₂, 1e-12)
//   loss = Σ_k w_k · L_inner(x^(m_k) for every column, labels)
// The dims are taken largest first (each weight stays with its dim). The inner loss keeps its
// own columns, labels and parameters.
// Inputs: those of the inner loss.
// Reference: Kusupati et al., "Matryoshka Representation Learning" (2022), arXiv:2205.13147.

import type { Value } from '../graph/ir.js';
import type { Param } from '../models/params.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { c } from './ops.js';
import { normalize } from './similarity.js';

export interface MatryoshkaLossOptions {
  dims: number[];
  weights?: number[];
}

export class MatryoshkaLoss implements Loss {
  readonly name = 'MatryoshkaLoss';
  readonly dims: number[];
  readonly weights: number[];

  constructor(readonly inner: Loss, opts: MatryoshkaLossOptions) {
    const dims = opts.dims;
    const weights = opts.weights ?? dims.map(() => 1);
    if (!Array.isArray(dims) || dims.length === 0) throw new Error('MatryoshkaLoss: dims must hold at least one dimension');
    if (dims.some((d) => !Number.isInteger(d) || d <= 0)) throw new Error(`MatryoshkaLoss: dims must be positive integers (got [${dims.join(', ')}])`);
    if (weights.length !== dims.length) throw new Error(`MatryoshkaLoss: weights has ${weights.length} entries but dims has ${dims.length}`);
    if (weights.some((w) => !Number.isFinite(w))) throw new Error('MatryoshkaLoss: weights must be finite numbers');
    const order = dims.map((_, i) => i).sort((a, b) => dims[b] - dims[a]);
    this.dims = order.map((i) => dims[i]);
    this.weights = order.map((i) => weights[i]);
  }

  get columns(): ColumnSpec {
    return this.inner.columns;
  }

  get labelKind(): LabelKind {
    return this.inner.labelKind;
  }

  build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    for (const e of embeddings) {
      const d = e.shape?.[1];
      if (typeof d === 'number' && this.dims[0] > d) throw new Error(`MatryoshkaLoss: dimension ${this.dims[0]} exceeds the embedding dimension ${d}`);
    }
    let total: Value | null = null;
    this.dims.forEach((dim, k) => {
      const truncated = embeddings.map((e) => normalize(g, g.slice(e, [0], [dim], [1])));
      const inner = g.scope(`dim_${dim}`, () => this.inner.build({ ...ctx, embeddings: truncated }));
      const term = this.weights[k] === 1 ? inner : g.mul(inner, c(g, inner, this.weights[k]));
      total = total ? g.add(total, term) : term;
    });
    return total!;
  }

  config(): Record<string, unknown> {
    return { loss: this.inner.name, matryoshka_dims: [...this.dims], matryoshka_weights: [...this.weights], n_dims_per_step: -1 };
  }

  parameters(): Map<string, Param> {
    return this.inner.parameters?.() ?? new Map();
  }
}
