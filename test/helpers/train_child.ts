// Child process for the kill test: trains the tiny model with a checkpoint every step until
// killed (or done), resuming from the newest checkpoint in the output directory if any (and
// otherwise starting afresh over what a killed first run left).

import { latestCheckpoint } from '../../src/training/checkpoint.js';
import { Trainer } from '../../src/training/trainer.js';
import { cosineMse, pairExamples, tinyModel } from './train_fixtures.js';

const out = process.argv[2];
const steps = Number(process.argv[3] ?? 200);
const model = await tinyModel();
const resume = (await latestCheckpoint(out)) !== null;
await new Trainer({
  model, trainDataset: { examples: pairExamples(64) }, loss: cosineMse, outputDir: out, progress: false, resumeFromCheckpoint: resume, overwrite: !resume,
  args: { maxSteps: steps, batchSize: 8, learningRate: 1e-3, saveSteps: 1, logSteps: 1, dropout: false, saveTotalLimit: 3 },
}).train();
