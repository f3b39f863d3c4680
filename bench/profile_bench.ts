// Where a training step's time goes: onnxruntime's profiler over a few MultipleNegativesRankingLoss
// steps of the all-MiniLM-L6-v2 shape (32 pairs × 32 tokens, or with `plan: 'stsb'` shuffled
// STS-B train pairs, max 128 tokens; dropout on, dense AdamW), the steps after the first two. Per op type: the summed kernel time per step (milliseconds) and its
// share of onnxruntime's run time; beside it, the JavaScript side of each step (stacking ids,
// drawing dropout masks, building feeds) and the binding's share of session.run (its wall time
// less onnxruntime's own model_run time: wrapping feeds, binding outputs, fetching scalars).
// `plan: 'encode'`: the same for inference — the STS-B dev sentences in batches of 32, sorted by
// length as encodeMatrix forms them, through the model's own inference graph (the first two
// batches are warm-up); the JavaScript side is tokenizing and padding.

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createLoss } from '../src/losses/index.js';
import { StepRunner, type StepTimings } from '../src/training/step_runner.js';
import { breakdown, type TraceEvent } from '../src/runtime/profile.js';
import { Session, type Feeds } from '../src/runtime/session.js';
import { stsDevSentences, TOKENIZER, MINILM_SHAPE } from './common.js';
import { fixedPlan, stsbPlan } from './train_plan.js';

export async function profileBench(o: { threads: number; steps: number; len?: number; plan?: 'fixed' | 'stsb' | 'encode' }): Promise<Record<string, unknown>> {
  if (o.plan === 'encode') return encodeProfile(o.threads);
  const dir = await mkdtemp(join(tmpdir(), 'sk-profile-'));
  try {
    const shape = MINILM_SHAPE;
    const created = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...shape, seed: 42, maxSeqLength: 128 });
    await created.save(join(dir, 'model'));
    const model = await SentenceTransformer.load(join(dir, 'model'));
    const len = o.len ?? 32;
    const warm = 2;
    const plan = o.plan === 'stsb' ? stsbPlan(model.tokenizer, 'MultipleNegativesRankingLoss', o.steps, warm) : fixedPlan(32, len, o.steps, warm);
    const st = new StepRunner(model, createLoss('MultipleNegativesRankingLoss', {}), {
      learningRate: 2e-5, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1, dropoutSeed: 42, freezeWordEmbeddings: false,
      threads: o.threads, session: { profile: true, profilePrefix: join(dir, 'trace') },
    });
    const js: StepTimings[] = [];
    const walls: number[] = [];
    for (let t = 1; t <= plan.steps.length; t++) {
      const t0 = performance.now();
      await st.run({ columns: plan.steps[t - 1].columns, labels: null }, 2e-5, t);
      if (t > warm) {
        walls.push(performance.now() - t0);
        js.push({ ...st.lastTimings });
      }
    }
    await st.endProfiling();
    await st.close();
    await model.close();
    const file = (await readdir(dir)).find((f) => f.startsWith('trace') && f.endsWith('.json'));
    if (!file) throw new Error(`onnxruntime wrote no profile trace into ${dir}`);
    const b = breakdown(JSON.parse(await readFile(join(dir, file), 'utf8')) as TraceEvent[], warm);
    const mean = (k: keyof StepTimings): number => +(js.reduce((a, x) => a + x[k], 0) / js.length).toFixed(1);
    const wall = walls.reduce((a, x) => a + x, 0) / walls.length;
    const run = mean('run');
    return {
      workload: `MultipleNegativesRankingLoss, 32 pairs × ${o.plan === 'stsb' ? 'shuffled STS-B train (max 128)' : `${len} tokens`}, dense AdamW, dropout on, ${o.threads} threads; mean of ${walls.length} steps after ${warm} warm-up steps`,
      step_wall_ms: +wall.toFixed(1),
      javascript_ms: { stack_ids: mean('stack'), dropout_masks: mean('masks'), feeds: mean('feeds'), adamw_update: mean('update'), binding_in_run: +(run - b.modelRunMs).toFixed(1) },
      onnxruntime_model_run_ms: b.modelRunMs,
      onnxruntime_peak_in_use_mb: Math.round(b.peakBytesInUse / 1e6),
      onnxruntime_kernel_ms: b.kernelMs,
      by_op_type: b.byOp,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function encodeProfile(threads: number): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'sk-profile-'));
  try {
    const shape = MINILM_SHAPE;
    const model = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...shape, seed: 42, maxSeqLength: 256 });
    const { sentences } = stsDevSentences();
    const session = await Session.create(model.graphBytes(), { threads, cache: false, profile: true, profilePrefix: join(dir, 'trace') });
    const warm = 2;
    let tokenize = 0;
    let runs = 0;
    const t0 = performance.now();
    let t = performance.now();
    const enc = model.tokenizer.encodeBatch(sentences);
    const order = enc.map((_, i) => i).sort((a, b) => enc[b].ids.length - enc[a].ids.length || a - b);
    tokenize += performance.now() - t;
    let batches = 0;
    for (let s = 0; s < order.length; s += 32) {
      t = performance.now();
      const b = model.tokenizer.pad(order.slice(s, s + 32).map((i) => enc[i]));
      const dims = [b.batchSize, b.seqLen];
      const feeds: Feeds = { input_ids: { dtype: 'int64', dims, data: b.inputIds }, attention_mask: { dtype: 'int64', dims, data: b.attentionMask }, token_type_ids: { dtype: 'int64', dims, data: b.tokenTypeIds } };
      tokenize += performance.now() - t;
      t = performance.now();
      await session.run(feeds, ['sentence_embedding']);
      if (batches >= warm) runs += performance.now() - t;
      batches++;
    }
    const wall = performance.now() - t0;
    session.endProfiling();
    await session.release();
    const file = (await readdir(dir)).find((f) => f.startsWith('trace') && f.endsWith('.json'));
    if (!file) throw new Error(`onnxruntime wrote no profile trace into ${dir}`);
    const b = breakdown(JSON.parse(await readFile(join(dir, file), 'utf8')) as TraceEvent[], warm);
    const kept = batches - warm;
    return {
      workload: `encode ${sentences.length} STS-B dev sentences, batches of 32 sorted by length, ${threads} threads; per batch: mean of ${kept} batches after ${warm} warm-up`,
      wall_ms_all_batches: +wall.toFixed(0),
      javascript_ms_all_batches: { tokenize_and_pad: +tokenize.toFixed(0) },
      binding_in_run_ms_per_batch: +(runs / kept - b.modelRunMs).toFixed(2),
      onnxruntime_model_run_ms: b.modelRunMs,
      onnxruntime_kernel_ms: b.kernelMs,
      by_op_type: b.byOp,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
