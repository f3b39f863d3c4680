// Start-up time of training and encoding, each measured in a fresh process (the MiniLM-L6 shape
// by default, random weights, the real tokenizer beside the checkout): where the first step's
// extra time goes (building our graph, creating the onnxruntime session, the first run against
// the second), with the optimised-model cache off, cold (empty folder: optimise and store) and
// warm (load the stored model). Medians of --runs fresh processes; the machine is shared, so
// read the spread too (`all` lists every run).
//   node dist/scripts/startup_time.js [--runs 5] [--only train|encode] [--hidden 384 --layers 6 --heads 12 --intermediate 1536]

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/data/dataset.js';
import { DEFAULT_OPSET } from '../src/graph/builder.js';
import { toModelProto } from '../src/graph/serialise.js';
import { MultipleNegativesRankingLoss } from '../src/losses/multiple_negatives_ranking_loss.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { optimizedCacheStats } from '../src/runtime/optimized_model_cache.js';
import { Session } from '../src/runtime/session.js';
import { StepRunner } from '../src/training/step_runner.js';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '5' },
  only: { type: 'string' },
  hidden: { type: 'string', default: '384' },
  layers: { type: 'string', default: '6' },
  heads: { type: 'string', default: '12' },
  intermediate: { type: 'string', default: '1536' },
  child: { type: 'string' },
} });
const SHARED = resolve('..', 'shared');
const shape = { hidden: Number(values.hidden), layers: Number(values.layers), heads: Number(values.heads), intermediate: Number(values.intermediate) };
const ms = (x: number): number => Math.round(x);

async function setup(): Promise<{ model: SentenceTransformer; pairs: string[][] }> {
  const model = await SentenceTransformer.create({ tokenizerDir: join(SHARED, 'models/all-MiniLM-L6-v2-tokenizer'), ...shape, seed: 42, maxSeqLength: 128 });
  const dev = await loadDataset({ path: join(SHARED, 'data/stsb/sts-dev.csv'), format: 'stsb' });
  return { model, pairs: dev.examples.slice(0, 64).map((e) => e.texts) };
}

/** Times Session.create calls (ours: includes reading, checking and storing cache entries). */
function timeSessionCreate(): { ms: number } {
  const acc = { ms: 0 };
  const orig = Session.create.bind(Session);
  Session.create = async (...a: Parameters<typeof Session.create>) => {
    const t = performance.now();
    try {
      return await orig(...a);
    } finally {
      acc.ms += performance.now() - t;
    }
  };
  return acc;
}

async function childTrain(): Promise<Record<string, number>> {
  const t0 = performance.now();
  const { model, pairs } = await setup();
  const tReady = performance.now();
  const create = timeSessionCreate();
  const runner = new StepRunner(model, new MultipleNegativesRankingLoss(), {
    learningRate: 2e-5, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-6, maxGradNorm: 1, dropoutSeed: 42, freezeWordEmbeddings: false,
  });
  const batch = (k: number): { columns: number[][][]; labels: null } => {
    const rows = pairs.slice(k * 32, (k + 1) * 32);
    return { columns: [0, 1].map((c) => rows.map((p) => model.tokenizer.encode(p[c]).ids)), labels: null };
  };
  const b1 = batch(0);
  const b2 = batch(1);
  const s1 = performance.now();
  await runner.run(b1, 2e-5, 1);
  const step1 = performance.now() - s1;
  const run1 = runner.lastTimings.run;
  const s2 = performance.now();
  await runner.run(b2, 2e-5, 2);
  const step2 = performance.now() - s2;
  await runner.close();
  return {
    // performance.now() counts from the process's start
    start_to_model_ms: ms(tReady), start_to_step1_end_ms: ms(s1 + step1), model_setup_ms: ms(tReady - t0),
    step1_ms: ms(step1), step2_ms: ms(step2), extra_ms: ms(step1 - step2),
    graph_build_ms: ms(step1 - create.ms - run1 - (runner.lastTimings.stack + runner.lastTimings.masks + runner.lastTimings.feeds)),
    session_create_ms: ms(create.ms), run1_ms: ms(run1), run2_ms: ms(runner.lastTimings.run),
    cache_hits: optimizedCacheStats.hits, cache_stored: optimizedCacheStats.stored,
  };
}

async function childEncode(): Promise<Record<string, number>> {
  const { model, pairs } = await setup();
  const texts = pairs.slice(0, 32).map((p) => p[0]);
  const a = performance.now();
  const g = model.buildGraph();
  const b = performance.now();
  const bytes = toModelProto(g.graph, { opset: DEFAULT_OPSET });
  const c = performance.now();
  const s = await Session.create(bytes, { cache: false });
  const d = performance.now();
  await s.release();
  const e1 = performance.now();
  await model.encode(texts, { batchSize: 32 });
  const e2 = performance.now();
  await model.encode(pairs.slice(32, 64).map((p) => p[0]), { batchSize: 32 });
  const e3 = performance.now();
  await model.close();
  return { graph_build_ms: ms(b - a), serialise_ms: ms(c - b), session_create_ms: ms(d - c), encode1_ms: ms(e2 - e1), encode2_ms: ms(e3 - e2), extra_ms: ms(e2 - e1 - (e3 - e2)), model_mb: Math.round(bytes.length / 1e6) };
}

function runChild(kind: string, env: Record<string, string>): Promise<Record<string, number>> {
  return new Promise((res, rej) => {
    execFile(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, '--hidden', String(shape.hidden), '--layers', String(shape.layers), '--heads', String(shape.heads), '--intermediate', String(shape.intermediate)],
      { env: { ...process.env, ...env }, maxBuffer: 1 << 20 }, (err, stdout, stderr) => (err ? rej(new Error(`${kind} child failed: ${stderr}`)) : res(JSON.parse(stdout) as Record<string, number>)));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function summary(rows: Record<string, number>[]): Record<string, unknown> {
  const keys = Object.keys(rows[0]);
  return { median: Object.fromEntries(keys.map((k) => [k, median(rows.map((r) => r[k]))])), all: Object.fromEntries(keys.map((k) => [k, rows.map((r) => r[k]).join(' ')])) };
}

if (values.child === 'train') process.stdout.write(JSON.stringify(await childTrain()));
else if (values.child === 'encode') process.stdout.write(JSON.stringify(await childEncode()));
else {
  const runs = Number(values.runs);
  const out: Record<string, unknown> = { shape, runs };
  if (values.only !== 'encode') {
    const off: Record<string, number>[] = [];
    const cold: Record<string, number>[] = [];
    const warm: Record<string, number>[] = [];
    for (let i = 0; i < runs; i++) {
      // interleaved, so that the machine's load drifts over all three alike
      const dir = await mkdtemp(join(tmpdir(), 'sk-startup-'));
      try {
        off.push(await runChild('train', { SENTENCEKIT_CACHE: dir, SENTENCEKIT_STARTUP_CACHE: '0' }));
        cold.push(await runChild('train', { SENTENCEKIT_CACHE: dir, SENTENCEKIT_STARTUP_CACHE: '1' }));
        warm.push(await runChild('train', { SENTENCEKIT_CACHE: dir, SENTENCEKIT_STARTUP_CACHE: '1' }));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    out.train = { cache_off: summary(off), cache_cold: summary(cold), cache_warm: summary(warm) };
  }
  if (values.only !== 'train') {
    const rows: Record<string, number>[] = [];
    for (let i = 0; i < runs; i++) rows.push(await runChild('encode', {}));
    out.encode = summary(rows);
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}
