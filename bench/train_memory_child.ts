// Child process of the training benchmark: runs three MultipleNegativesRankingLoss steps of
// `pairs × len` tokens on the model in DIR and prints its peak resident memory.

import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createLoss } from '../src/losses/index.js';
import { StepRunner } from '../src/training/step_runner.js';
import { syntheticBatch } from './train_bench.js';

const [dir, pairs, len, sparse] = process.argv.slice(2);
const model = await SentenceTransformer.load(dir);
const st = new StepRunner(model, createLoss('MultipleNegativesRankingLoss', {}), { learningRate: 2e-5, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1, dropoutSeed: 1, freezeWordEmbeddings: false, sparseEmbeddings: sparse === '1' });
const columns = syntheticBatch(Number(pairs), Number(len), 3);
for (let t = 1; t <= 3; t++) await st.run({ columns, labels: null }, 2e-5, t);
process.stdout.write(JSON.stringify({ max_rss_mb: process.resourceUsage().maxRSS / 1024 }) + '\n');
