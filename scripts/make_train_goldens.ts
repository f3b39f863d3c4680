// Writes test/fixtures/train_goldens.json: for every case of test/fixtures/train_cases.ts, the
// per-step losses, gradient norms and learning rates, and the final weights, of the PyTorch
// reference trainer (scripts/reference/train_reference.py, float64) on exactly the batches our
// Trainer forms (file order, batch size 6, every column padded to the batch's longest text).
// Run by hand after changing a case:  npm run build && node dist/scripts/make_train_goldens.js

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createLoss } from '../src/losses/index.js';
import { readSafetensors, toFloat32 } from '../src/models/safetensors.js';
import { TRAIN_ARGS, TRAIN_BATCH, TRAIN_CASES, TRAIN_MODEL, trainExamples } from '../test/fixtures/train_cases.js';

const TOKENIZER = 'test/fixtures/tiny-tokenizer';
const scratch = await mkdtemp(join(tmpdir(), 'sk-train-goldens-'));
const out: Record<string, unknown> = {};
try {
  for (const c of TRAIN_CASES) {
    const model = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...TRAIN_MODEL, dense: c.dense });
    const dir = join(scratch, c.name);
    await model.save(dir);
    const loss = createLoss(c.loss.name, c.loss.options);
    const refLoss: Record<string, unknown> = { ...c.refLoss };
    const lp = loss.parameters?.();
    if (lp && lp.size) {
      const w = lp.get('classifier.weight')!;
      const b = lp.get('classifier.bias')!;
      refLoss.classifier_weight = Array.from({ length: w.shape[0] }, (_, r) => Array.from(w.data.subarray(r * w.shape[1], (r + 1) * w.shape[1])));
      refLoss.classifier_bias = Array.from(b.data);
    }
    const examples = trainExamples(c);
    const steps = [];
    for (let s = 0; s < examples.length; s += TRAIN_BATCH) {
      const batch = examples.slice(s, s + TRAIN_BATCH);
      const ids = Array.from({ length: c.columns }, (_, col) => batch.map((e) => model.tokenizer.encode(e.texts[col]).ids));
      const S = Math.max(...ids.flat().map((r) => r.length));
      const columns = ids.map((col) => ({
        input_ids: col.map((r) => [...r, ...new Array<number>(S - r.length).fill(0)]),
        attention_mask: col.map((r) => [...r.map(() => 1), ...new Array<number>(S - r.length).fill(0)]),
      }));
      steps.push({ columns, labels: c.label === 'none' ? null : batch.map((e) => e.label) });
    }
    const plan = {
      loss: refLoss,
      optimizer: { lr: TRAIN_ARGS.learningRate, betas: [0.9, 0.999], eps: 1e-8, weight_decay: TRAIN_ARGS.weightDecay, max_grad_norm: TRAIN_ARGS.maxGradNorm },
      schedule: { name: TRAIN_ARGS.scheduler, warmup_steps: TRAIN_ARGS.warmupSteps, total_steps: steps.length },
      trainable: 'all',
      steps,
    };
    await writeFile(join(dir, 'plan.json'), JSON.stringify(plan));
    execFileSync('/usr/bin/python3', ['scripts/reference/train_reference.py', '--model', dir, '--plan', join(dir, 'plan.json'), '--out', join(dir, 'out'), '--dtype', 'float64'], { stdio: 'inherit' });
    const trace = JSON.parse(await readFile(join(dir, 'out', 'trace.json'), 'utf8')) as { losses: number[]; grad_norms: number[]; lrs: number[] };
    const w = await readSafetensors(join(dir, 'out', 'weights.safetensors'));
    const weights: Record<string, string> = {};
    for (const [name, t] of w.tensors) weights[name] = Buffer.from(toFloat32(t, name).buffer).toString('base64');
    out[c.name] = { losses: trace.losses, grad_norms: trace.grad_norms, lrs: trace.lrs, weights };
    process.stderr.write(`${c.name}: loss ${trace.losses[0].toFixed(4)} → ${trace.losses[trace.losses.length - 1].toFixed(4)}\n`);
  }
  await writeFile('test/fixtures/train_goldens.json', JSON.stringify({ note: 'PyTorch reference trainer (float64) on test/fixtures/train_cases.ts; weights are float32 little-endian, base64', cases: out }) + '\n');
} finally {
  await rm(scratch, { recursive: true, force: true });
}
