// Writes test/fixtures/static_goldens.json from the real sentence-transformers (the venv of
// scripts/python_env.sh running scripts/reference/static_reference.py, float64):
//   encode: embeddings of STATIC_TEXTS by SentenceTransformer(dir) for a seeded table over the
//           tiny vocabulary (and over the real MiniLM vocabulary when ../shared is present);
//   train:  per-step loss, gradient norm and learning rate, and the final table, of a few steps
//           of every case of test/fixtures/static_cases.ts on exactly the batches our Trainer forms.
// Run by hand:  bash scripts/python_env.sh && npm run build && node dist/scripts/make_static_goldens.js

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { StaticEmbedding } from '../src/models/static_embedding.js';
import { TRAIN_ARGS, TRAIN_BATCH, trainExamples } from '../test/fixtures/train_cases.js';
import { STATIC_DIM, STATIC_SEED, STATIC_TEXTS, STATIC_TRAIN_CASES, STATIC_TRAIN_STEPS } from '../test/fixtures/static_cases.js';

const PY = resolve('.venv/bin/python');
const REF = 'scripts/reference/static_reference.py';
const TINY = 'test/fixtures/tiny-tokenizer';
const MINILM = resolve('..', 'shared', 'models', 'all-MiniLM-L6-v2-tokenizer');
const scratch = await mkdtemp(join(tmpdir(), 'sk-static-goldens-'));

async function py(job: 'encode' | 'train', dir: string, plan: unknown): Promise<Record<string, unknown>> {
  await writeFile(join(dir, 'plan.json'), JSON.stringify(plan));
  execFileSync(PY, [REF, job, '--model', dir, '--plan', join(dir, 'plan.json'), '--out', join(dir, 'out.json')], { stdio: 'inherit' });
  return JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as Record<string, unknown>;
}

try {
  const encode: Record<string, unknown> = {};
  for (const [name, tok] of [['tiny', TINY], ['minilm', MINILM]] as const) {
    if (name === 'minilm' && !existsSync(MINILM)) continue;
    const model = await SentenceTransformer.createStatic({ tokenizerDir: tok, dim: STATIC_DIM, seed: STATIC_SEED });
    const dir = join(scratch, `encode-${name}`);
    await model.save(dir);
    const r = await py('encode', dir, { texts: STATIC_TEXTS });
    encode[name] = { embeddings: r.embeddings, ids: r.ids };
    process.stderr.write(`encode ${name}: ${(r.ids as number[][]).map((x) => x.length).join(', ')} tokens\n`);
  }
  const train: Record<string, unknown> = {};
  for (const c of STATIC_TRAIN_CASES) {
    const model = await SentenceTransformer.createStatic({ tokenizerDir: TINY, dim: STATIC_DIM, seed: STATIC_SEED });
    const dir = join(scratch, c.name);
    await model.save(dir);
    const examples = trainExamples(c).slice(0, STATIC_TRAIN_STEPS * TRAIN_BATCH);
    const steps = [];
    for (let s = 0; s < examples.length; s += TRAIN_BATCH) {
      const batch = examples.slice(s, s + TRAIN_BATCH);
      steps.push({
        columns: Array.from({ length: c.columns }, (_, col) => batch.map((e) => model.tokenizer.encode(e.texts[col]).ids)),
        labels: c.label === 'none' ? null : batch.map((e) => e.label),
      });
    }
    const plan = {
      loss: c.refLoss,
      label_kind: c.label,
      optimizer: { lr: TRAIN_ARGS.learningRate, betas: [0.9, 0.999], eps: 1e-8, weight_decay: TRAIN_ARGS.weightDecay, max_grad_norm: TRAIN_ARGS.maxGradNorm },
      schedule: { warmup_steps: TRAIN_ARGS.warmupSteps, total_steps: steps.length },
      steps,
    };
    const r = await py('train', dir, plan);
    const table = Float32Array.from(r.table as number[]);
    const se = model.inputModule as StaticEmbedding;
    if (table.length !== se.weight.data.length) throw new Error(`${c.name}: the reference table has ${table.length} values, ours ${se.weight.data.length}`);
    train[c.name] = { losses: r.losses, grad_norms: r.grad_norms, lrs: r.lrs, table: Buffer.from(table.buffer).toString('base64') };
    const ls = r.losses as number[];
    process.stderr.write(`${c.name}: loss ${ls[0].toFixed(4)} → ${ls[ls.length - 1].toFixed(4)}\n`);
  }
  await writeFile('test/fixtures/static_goldens.json', JSON.stringify({ note: 'sentence-transformers 6.0.1 on torch 2.13 (float64), StaticEmbedding; tables are float32 little-endian, base64', encode, train }) + '\n');
} finally {
  await rm(scratch, { recursive: true, force: true });
}
