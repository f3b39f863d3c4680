// Fine-tuning speed and memory of the all-MiniLM-L6-v2 shape against the real peer,
// sentence-transformers 6 (its SentenceTransformerTrainer on torch 2.13), on exactly the same
// batches (a plan file both sides run, see train_plan.ts), dropout on both sides:
//   stsb_mnrl / stsb_cosent: shuffled STS-B train, 32 pairs a step, max 128 tokens
//   fixed_32x32: 32 pairs × 32 tokens, MultipleNegativesRankingLoss
//   fixed_32x128: 32 pairs × 128 tokens (the peak-memory shape)
// Each side is one fresh process per workload: load → every step → model saved. Per-step time
// is the median of the steps after the warm-up (in-process); end to end is the process's wall
// time from spawn to exit; memory is the process's peak resident set. Achieved GFLOP/s counts
// 3 × the forward FLOPs of the real tokens only (padding excluded), against the measured peak.
// The hand-written PyTorch 1.13 trainer (scripts/reference/bench_train_torch.py, Debian's
// python3-torch) stays as a second, labelled line where it is installed.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { runPython, TOKENIZER, MINILM_SHAPE } from './common.js';
import { peerMissing, runPeer, timedChild, type ChildRun } from './peer.js';
import { fixedPlan, stepTokens, stsbPlan, type TrainPlan } from './train_plan.js';

const SHAPE = MINILM_SHAPE;
const pexec = promisify(execFile);

/** Training FLOPs (3 × forward) of a step counting real tokens only. */
export function realTokenTrainFlops(plan: TrainPlan, from: number): number {
  const H = SHAPE.hidden;
  const perToken = 2 * (4 * H * H + 2 * H * SHAPE.intermediate);
  let f = 0;
  for (const st of plan.steps.slice(from)) for (const col of st.columns) for (const r of col) f += SHAPE.layers * (r.length * perToken + 4 * r.length * r.length * H);
  return (3 * f) / (plan.steps.length - from);
}

async function torch113Available(): Promise<boolean> {
  try {
    await pexec('/usr/bin/python3', ['-c', 'import torch']);
    return true;
  } catch {
    return false;
  }
}

export interface TrainBenchOptions {
  threads: number;
  steps: number;
  /** Workload names to run (default all). */
  workloads?: string[];
}

export async function trainBench(o: TrainBenchOptions, peakGflops: number): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'sk-train-bench-'));
  try {
    const created = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...SHAPE, seed: 42, maxSeqLength: 128 });
    await created.save(join(dir, 'model'));
    const model = await SentenceTransformer.load(join(dir, 'model'));
    const warmup = 2;
    const all: Record<string, () => TrainPlan> = {
      stsb_mnrl: () => stsbPlan(model.tokenizer, 'MultipleNegativesRankingLoss', o.steps, warmup),
      stsb_cosent: () => stsbPlan(model.tokenizer, 'CoSENTLoss', o.steps, warmup),
      fixed_32x32: () => fixedPlan(32, 32, o.steps, warmup),
      fixed_32x128: () => fixedPlan(32, 128, 2, 1),
    };
    await model.close();
    const names = o.workloads?.length ? o.workloads : Object.keys(all);
    const missing = await peerMissing();
    const hasTorch113 = await torch113Available();
    const result: Record<string, unknown> = {
      model: 'all-MiniLM-L6-v2 shape (random weights, made by create-model, the real tokenizer); both sides load the same folder',
      optimizer: 'AdamW (wd 0.01), clip 1.0, linear schedule, dropout 0.1 on both sides',
      threads: o.threads,
      peer: missing ? { skipped: missing } : 'sentence-transformers 6.0.1, torch 2.13 (SentenceTransformerTrainer, its default AdamW)',
    };
    for (const name of names) {
      const make = all[name];
      if (!make) throw new Error(`--workloads: unknown training workload "${name}" (known: ${Object.keys(all).join(', ')})`);
      const plan = make();
      const planPath = join(dir, `${name}.json`);
      await writeFile(planPath, JSON.stringify(plan));
      const timed = plan.steps.slice(plan.warmup).map(stepTokens);
      const real = timed.reduce((a, t) => a + t.real, 0) / timed.length;
      const padded = timed.reduce((a, t) => a + t.padded, 0) / timed.length;
      const flops = realTokenTrainFlops(plan, plan.warmup);
      const fig = (r: ChildRun): Record<string, unknown> => {
        const sec = Number(r.result.seconds_per_step);
        return {
          seconds_per_step: sec, best_seconds_per_step: r.result.best_seconds_per_step,
          end_to_end_s: r.wall_s, seconds_to_loaded: r.result.seconds_to_loaded,
          real_tokens_per_s: Math.round(real / sec),
          gflops_real_tokens: +(flops / sec / 1e9).toFixed(1),
          percent_of_peak: +((100 * flops) / sec / 1e9 / peakGflops).toFixed(1),
          max_rss_mb: r.result.max_rss_mb,
        };
      };
      const w: Record<string, unknown> = {
        loss: plan.loss.name, steps: plan.steps.length, timed_steps: timed.length,
        real_tokens_per_step: Math.round(real), padded_tokens_per_step_ours: Math.round(padded),
      };
      const child = new URL('./train_child.js', import.meta.url).pathname;
      const ours = await timedChild(process.execPath, [child, join(dir, 'model'), planPath, join(dir, `out-${name}`)], { ...process.env, SENTENCEKIT_THREADS: String(o.threads) });
      w.sentencekit = fig(ours);
      if (name === 'fixed_32x32') {
        const sparse = await timedChild(process.execPath, [child, join(dir, 'model'), planPath, join(dir, `out-${name}-sparse`), 'sparse'], { ...process.env, SENTENCEKIT_THREADS: String(o.threads) });
        w.sentencekit_sparse_embeddings = fig(sparse);
      }
      if (name === 'fixed_32x128') {
        // the other memory setting than the one this run trains with (the arena is on by default)
        const flip = process.env.SENTENCEKIT_MEM_ARENA === '0' ? '1' : '0';
        const other = await timedChild(process.execPath, [child, join(dir, 'model'), planPath, join(dir, `out-${name}-arena`)], { ...process.env, SENTENCEKIT_THREADS: String(o.threads), SENTENCEKIT_MEM_ARENA: flip });
        w[`sentencekit_SENTENCEKIT_MEM_ARENA_${flip}`] = fig(other);
      }
      if (!missing) {
        const peer = await runPeer('train', ['--model', join(dir, 'model'), '--plan', planPath, '--out', join(dir, `peer-${name}`)], o.threads);
        w.sentence_transformers = { ...fig(peer), padded_tokens_per_step_peer: peer.result.padded_tokens_per_step, optimizer: peer.result.optimizer, versions: `${String(peer.result.sentence_transformers_version)} / torch ${String(peer.result.torch_version)}` };
        w.ratio_per_step = +(Number(peer.result.seconds_per_step) / Number(ours.result.seconds_per_step)).toFixed(2);
        w.ratio_end_to_end = +(peer.wall_s / ours.wall_s).toFixed(2);
        w.memory_ours_over_peer = +(Number(ours.result.max_rss_mb) / Number(peer.result.max_rss_mb)).toFixed(2);
      }
      if (hasTorch113 && name.startsWith('fixed')) {
        const old = join(dir, `${name}-torch113.json`);
        await writeFile(old, JSON.stringify({
          loss: { name: plan.loss.name, scale: plan.loss.scale },
          optimizer: { lr: plan.optimizer.lr, weight_decay: plan.optimizer.weight_decay, max_grad_norm: plan.optimizer.max_grad_norm },
          schedule: { name: 'linear', warmup_steps: 0, total_steps: plan.steps.length },
          steps: plan.steps.map((s) => ({ columns: s.columns.map((c) => ({ input_ids: c, attention_mask: c.map((r) => r.map(() => 1)) })), labels: null })),
        }));
        const t = await runPython(['scripts/reference/bench_train_torch.py', '--model', join(dir, 'model'), '--plan', old, '--threads', String(o.threads), '--warmup', String(plan.warmup)], true).catch((e: Error) => ({ error: e.message }));
        w.pytorch_1_13_hand_written_reference = t;
      }
      result[name] = w;
    }
    if (!hasTorch113) result.pytorch_1_13_hand_written_reference = 'skipped: /usr/bin/python3 has no torch (Debian python3-torch)';
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
