// Small training fixtures: a tiny model with the real tokenizer, pair examples with scores,
// and a cosine-MSE loss written inline so training tests do not depend on the loss library.

import type { Loss } from '../../src/losses/loss.js';
import { SentenceTransformer } from '../../src/models/sentence_transformer.js';
import type { Example } from '../../src/training/trainer.js';
import { MINILM_TOKENIZER } from './shared.js';

export function tinyModel(seed = 1): Promise<SentenceTransformer> {
  return SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, seed, maxSeqLength: 32 });
}

const WORDS = ['a', 'man', 'woman', 'plays', 'guitar', 'cat', 'sleeps', 'on', 'the', 'mat', 'dog', 'runs', 'fast', 'red', 'car', 'drives', 'slowly', 'birds', 'sing', 'loudly'];

export function pairExamples(n: number, seed = 3): Example[] {
  let s = seed;
  const r = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const sentence = (): string => Array.from({ length: 3 + Math.floor(r() * 6) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
  return Array.from({ length: n }, () => ({ texts: [sentence(), sentence()], label: r() }));
}

/** (cos(u, v) − label)², averaged over the batch. */
export const cosineMse: Loss = {
  name: 'CosineMSE',
  columns: { names: ['sentence1', 'sentence2'], min: 2, max: 2 },
  labelKind: 'score',
  config: () => ({}),
  build({ g, embeddings: [a, b], labels }) {
    const cos = g.div(g.reduceSum(g.mul(a, b), [1], false), g.mul(g.reduceL2(a, [1], false), g.reduceL2(b, [1], false)));
    const d = g.sub(cos, labels!);
    return g.reduceMean(g.mul(d, d), [0], false);
  },
};
