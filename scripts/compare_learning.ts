// Learning check: trains a model made by create-model (real MiniLM vocabulary, random weights)
// on STS-B train with CoSENTLoss — with our Trainer and with the PyTorch reference trainer on
// exactly the same batches (same order, same truncation, dropout off) — and prints the STS-B
// dev Spearman (cosine) of the untrained model and of both trained ones, with their run times.
// The reference runs on the repository's .venv (bash scripts/python_env.sh: torch 2.13) where it
// exists, else on /usr/bin/python3; --torch no runs ours alone.
//   npm run build && node dist/scripts/compare_learning.js [--hidden 128 --layers 2 --heads 4 --intermediate 512 --epochs 2] [--torch yes|no]

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createLoss } from '../src/losses/index.js';
import { loadDataset } from '../src/data/dataset.js';
import { EmbeddingSimilarityEvaluator } from '../src/evaluation/index.js';
import { Trainer } from '../src/training/trainer.js';
import { epochBatches } from '../src/training/sampler.js';
import { readSafetensors, writeSafetensors } from '../src/models/safetensors.js';

const { values } = parseArgs({ options: {
  hidden: { type: 'string', default: '128' }, layers: { type: 'string', default: '2' }, heads: { type: 'string', default: '4' },
  intermediate: { type: 'string', default: '512' }, epochs: { type: 'string', default: '2' }, lr: { type: 'string', default: '1e-4' },
  'batch-size': { type: 'string', default: '16' }, 'max-seq-length': { type: 'string', default: '64' }, torch: { type: 'string', default: 'yes' },
} });
const SHARED = resolve('..', 'shared');
const shape = { hidden: Number(values.hidden), layers: Number(values.layers), heads: Number(values.heads), intermediate: Number(values.intermediate) };
const args = { epochs: Number(values.epochs), batchSize: Number(values['batch-size']), learningRate: Number(values.lr), warmupRatio: 0.1, scheduler: 'linear', weightDecay: 0.01, maxGradNorm: 1, dropout: false, seed: 42, shuffle: true, maxSeqLength: Number(values['max-seq-length']), saveSteps: null, logSteps: 50 };
const scratch = await mkdtemp(join(tmpdir(), 'sk-learn-'));
try {
  const train = await loadDataset({ path: join(SHARED, 'data/stsb/sts-train.csv'), format: 'stsb' });
  const dev = await loadDataset({ path: join(SHARED, 'data/stsb/sts-dev.csv'), format: 'stsb' });
  const evaluator = new EmbeddingSimilarityEvaluator(dev.examples.map((e) => e.texts[0]), dev.examples.map((e) => e.texts[1]), dev.examples.map((e) => Number(e.label)), { similarityFns: ['cosine'] });
  const initDir = join(scratch, 'init');
  const model = await SentenceTransformer.create({ tokenizerDir: join(SHARED, 'models/all-MiniLM-L6-v2-tokenizer'), ...shape, seed: 42, maxSeqLength: args.maxSeqLength });
  await model.save(initDir);
  const untrained = (await evaluator.evaluate(model)).spearman_cosine;
  const t0 = performance.now();
  const r = await new Trainer({ model, trainDataset: { examples: train.examples }, loss: createLoss('CoSENTLoss', {}), args, progress: false }).train();
  const oursSeconds = (performance.now() - t0) / 1000;
  model.invalidate();
  const ours = (await evaluator.evaluate(model)).spearman_cosine;
  const result: Record<string, unknown> = { model: shape, args, steps: r.globalStep, untrained_spearman_cosine: untrained, sentencekit: { spearman_cosine: ours, seconds: +oursSeconds.toFixed(1), final_loss: r.trainingLoss } };
  if (values.torch !== 'yes' && values.torch !== 'no') throw new Error(`--torch must be yes or no, not "${String(values.torch)}"`);
  if (values.torch === 'yes') {
    // the same batches as the Trainer: sampler order per epoch, texts truncated to maxSeqLength
    const L = args.maxSeqLength;
    const ids = train.examples.map((e) => e.texts.map((t) => {
      const x = model.tokenizer.encode(t).ids;
      return x.length > L ? [...x.slice(0, L - 1), x[x.length - 1]] : x;
    }));
    const perEpoch = epochBatches((i) => train.examples[i].texts, train.examples.length, args.batchSize, args.seed, 0, true, 'batch_sampler').length;
    const total = Math.ceil(args.epochs * perEpoch);
    const steps: unknown[] = [];
    for (let ep = 0; steps.length < total; ep++) {
      for (const b of epochBatches((i) => train.examples[i].texts, train.examples.length, args.batchSize, args.seed, ep, true, 'batch_sampler')) {
        if (steps.length >= total) break;
        const S = Math.max(...b.flatMap((i) => ids[i].map((x) => x.length)));
        const col = (c: number): unknown => ({
          input_ids: b.map((i) => [...ids[i][c], ...new Array<number>(S - ids[i][c].length).fill(0)]),
          attention_mask: b.map((i) => [...ids[i][c].map(() => 1), ...new Array<number>(S - ids[i][c].length).fill(0)]),
        });
        steps.push({ columns: [col(0), col(1)], labels: b.map((i) => train.examples[i].label) });
      }
    }
    const plan = { loss: { name: 'CoSENTLoss' }, optimizer: { lr: args.learningRate, weight_decay: args.weightDecay, max_grad_norm: args.maxGradNorm }, schedule: { name: 'linear', warmup_steps: Math.ceil(total * args.warmupRatio), total_steps: total }, steps };
    await writeFile(join(scratch, 'plan.json'), JSON.stringify(plan));
    const t1 = performance.now();
    const python = existsSync('.venv/bin/python') ? '.venv/bin/python' : '/usr/bin/python3';
    execFileSync(python, ['scripts/reference/train_reference.py', '--model', initDir, '--plan', join(scratch, 'plan.json'), '--out', join(scratch, 'torch'), '--threads', '2'], { stdio: 'inherit' });
    const torchSeconds = (performance.now() - t1) / 1000;
    // the reference's weights into a copy of the initial model directory
    const torchDir = join(scratch, 'torch-model');
    const init = await SentenceTransformer.load(initDir);
    await init.save(torchDir);
    const w = await readSafetensors(join(scratch, 'torch', 'weights.safetensors'));
    const base = await readSafetensors(join(torchDir, 'model.safetensors'));
    for (const [k, t] of w.tensors) if (base.tensors.has(k)) base.tensors.set(k, t);
    await writeSafetensors(join(torchDir, 'model.safetensors'), base.tensors, base.metadata);
    const torchModel = await SentenceTransformer.load(torchDir);
    const trace = JSON.parse(await readFile(join(scratch, 'torch', 'trace.json'), 'utf8')) as { losses: number[] };
    result.pytorch = { spearman_cosine: (await evaluator.evaluate(torchModel)).spearman_cosine, seconds: +torchSeconds.toFixed(1), final_loss: trace.losses[trace.losses.length - 1] };

  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} finally {
  await rm(scratch, { recursive: true, force: true });
}
