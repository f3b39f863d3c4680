// LossEvaluator: the training loss on held-out examples (the "validation loss" to watch while
// fine-tuning): the examples are cut into batches as training cuts them (file order), every
// column is embedded without dropout, the loss graph runs on those embeddings, and the batch
// losses are averaged, weighted by batch size:  loss = Σ_b |b|·L(b) / Σ_b |b|.
// Takes a Loss (any loss without weights of its own), the examples and their labels.

import { GraphBuilder } from '../graph/builder.js';
import type { TensorData, Value } from '../graph/ir.js';
import type { Loss } from '../losses/loss.js';
import { Session } from '../runtime/session.js';
import type { Example } from '../data/dataset.js';
import { checkName, checkPositiveInt, metricKey, type Encoder, type EvaluatorOptions, type SentenceEvaluator } from './base.js';

/** An example as the data readers give it (texts in role order, the label the loss takes). */
export type LossExample = Example;

export class LossEvaluator implements SentenceEvaluator {
  readonly name: string;
  readonly primaryMetric: string;
  private readonly batchSize: number;
  private session: Promise<Session> | null = null;

  constructor(readonly loss: Loss, readonly examples: readonly LossExample[], opts: EvaluatorOptions = {}) {
    this.name = checkName(opts.name);
    this.batchSize = checkPositiveInt(opts.batchSize, 'batchSize', 16);
    this.primaryMetric = metricKey(this.name, 'loss');
    if (examples.length === 0) throw new Error('LossEvaluator: no examples');
    if (loss.parameters?.().size) throw new Error(`LossEvaluator: ${loss.name} has weights of its own; evaluate it with the trainer instead`);
    if (loss.labelKind !== 'none' && examples.some((e) => e.label === undefined)) throw new Error(`LossEvaluator: ${loss.name} needs a label on every example`);
  }

  private graph(columns: number, dim: number, labelDim: number | undefined): Promise<Session> {
    if (!this.session) {
      const g = new GraphBuilder('eval_loss');
      const embs: Value[] = Array.from({ length: columns }, (_, c) => g.input(`emb_${c}`, 'float32', ['batch', dim]));
      const kind = this.loss.labelKind;
      const labels = kind === 'score' ? g.input('labels', 'float32', ['batch']) : kind === 'class' ? g.input('labels', 'int64', ['batch']) : kind === 'embedding' ? g.input('labels', 'float32', ['batch', labelDim ?? dim]) : null;
      const none = (): never => {
        throw new Error('LossEvaluator: the loss asked for weights of its own');
      };
      g.output(this.loss.build({ g, embeddings: embs, labels, params: { tensor: none, linear: none } }), 'loss');
      this.session = Session.create(g.graph, { cache: false });
    }
    return this.session;
  }

  async evaluate(model: Encoder): Promise<Record<string, number>> {
    const columns = this.examples[0].texts.length;
    let total = 0;
    let count = 0;
    for (let s = 0; s < this.examples.length; s += this.batchSize) {
      const batch = this.examples.slice(s, s + this.batchSize);
      const feeds: Record<string, TensorData> = {};
      let dim = 0;
      for (let c = 0; c < columns; c++) {
        const m = await model.encodeMatrix(batch.map((e) => e.texts[c]), { batchSize: this.batchSize });
        dim = m.dim;
        feeds[`emb_${c}`] = { dtype: 'float32', dims: [m.rows, m.dim], data: m.data };
      }
      const kind = this.loss.labelKind;
      let labelDim: number | undefined;
      if (kind === 'score') feeds.labels = { dtype: 'float32', dims: [batch.length], data: Float32Array.from(batch, (e) => Number(e.label)) };
      else if (kind === 'class') feeds.labels = { dtype: 'int64', dims: [batch.length], data: BigInt64Array.from(batch, (e) => BigInt(Math.round(Number(e.label)))) };
      else if (kind === 'embedding') {
        labelDim = (batch[0].label as number[]).length;
        const data = new Float32Array(batch.length * labelDim);
        batch.forEach((e, i) => data.set(e.label as number[], i * labelDim!));
        feeds.labels = { dtype: 'float32', dims: [batch.length, labelDim], data };
      }
      const res = await (await this.graph(columns, dim, labelDim)).run(feeds);
      total += Number(res.loss.data[0]) * batch.length;
      count += batch.length;
    }
    return { [this.primaryMetric]: total / count };
  }
}
