// MSELoss (knowledge distillation): the student's embedding of a text should equal a teacher's
// embedding of it (or, for translation pairs, of its source sentence), given as the label:
//   loss = mean over all rows and dimensions of (s_i − t_i)²
// With several text columns (e.g. source and translation) every column is compared with the
// same teacher embedding and the mean runs over all of them.
// Inputs: one or more text columns; labels: the teacher embedding [batch, dim] of each row.
// Reference: Reimers & Gurevych, "Making Monolingual Sentence Embeddings Multilingual using
// Knowledge Distillation" (2020), arXiv:2004.09813.

import type { Value } from '../graph/ir.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { checkInputs, labelsAs, meanAll, square } from './ops.js';

export class MSELoss implements Loss {
  readonly name = 'MSELoss';
  readonly columns: ColumnSpec = { names: ['sentence'], min: 1, max: Infinity };
  readonly labelKind: LabelKind = 'embedding';

  build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    const labels = checkInputs(this, ctx)!;
    const x = embeddings[0];
    const t = labelsAs(g, labels, x.dtype);
    const k = t.shape?.[1];
    const d = x.shape?.[1];
    if (typeof k === 'number' && typeof d === 'number' && k !== d) {
      throw new Error(`MSELoss: embeddings have ${d} dimensions but the teacher embeddings have ${k}`);
    }
    const student = embeddings.length === 1 ? x : g.concat(embeddings, 0);
    const teacher = embeddings.length === 1 ? t : g.concat(embeddings.map(() => t), 0);
    return meanAll(g, square(g, g.sub(student, teacher)));
  }

  config(): Record<string, unknown> {
    return {};
  }
}
