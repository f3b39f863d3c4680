// A few optimizer steps of a tiny model (MultipleNegativesRankingLoss, dropout on, one thread,
// fixed batches; or the accumulated or GradCache step) for the start-up cache tests: the losses,
// every weight and moment afterwards (as a hash), and the optimised-model cache's counters of
// this process.

import { createHash } from 'node:crypto';
import { CachedMultipleNegativesRankingLoss } from '../../src/losses/cached_multiple_negatives_ranking_loss.js';
import { MultipleNegativesRankingLoss } from '../../src/losses/multiple_negatives_ranking_loss.js';
import { SentenceTransformer } from '../../src/models/sentence_transformer.js';
import { optimizedCacheStats } from '../../src/runtime/optimized_model_cache.js';
import { StepRunner } from '../../src/training/step_runner.js';
import { TRAIN_MODEL } from '../fixtures/train_cases.js';
import { pairExamples } from './train_fixtures.js';

const TOKENIZER = new URL('../../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;

export interface StepsResult {
  losses: number[];
  /** sha256 over every parameter's data and both AdamW moments, in parameter order. */
  stateHash: string;
  stats: typeof optimizedCacheStats;
}

export async function runSteps(steps = 3, strategy: 'plain' | 'accumulated' | 'gradcache' = 'plain'): Promise<StepsResult> {
  const model = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...TRAIN_MODEL });
  const loss = strategy === 'gradcache' ? new CachedMultipleNegativesRankingLoss({ miniBatchSize: 2 }) : new MultipleNegativesRankingLoss();
  const runner = new StepRunner(model, loss, {
    learningRate: 1e-3, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-6, maxGradNorm: 1, dropoutSeed: 7, freezeWordEmbeddings: false, threads: 1,
  }, { accumulationSteps: strategy === 'accumulated' ? 2 : 1 });
  const examples = pairExamples(4 * steps, 5);
  const losses: number[] = [];
  try {
    for (let t = 1; t <= steps; t++) {
      const batch = examples.slice((t - 1) * 4, t * 4);
      const columns = [0, 1].map((c) => batch.map((e) => model.tokenizer.encode(e.texts[c]).ids));
      const micro = strategy === 'accumulated' ? [0, 2].map((k) => ({ columns: columns.map((c) => c.slice(k, k + 2)), labels: null })) : { columns, labels: null };
      losses.push((await runner.run(micro, 1e-3, t)).loss);
    }
  } finally {
    await runner.close();
  }
  const h = createHash('sha256');
  for (const p of runner.params) {
    h.update(new Uint8Array(p.param.data.buffer, p.param.data.byteOffset, p.param.data.byteLength));
    const mv = runner.moments.get(p.name);
    if (mv) h.update(new Uint8Array(mv.m.buffer)).update(new Uint8Array(mv.v.buffer));
  }
  return { losses, stateHash: h.digest('hex'), stats: { ...optimizedCacheStats } };
}
