// Training throughput for the all-MiniLM-L6-v2 shape with MultipleNegativesRankingLoss,
// 32 pairs × 32 tokens a step, AdamW with clipping and the linear schedule: ours (dense AdamW
// on every parameter, as PyTorch; and with sparse word-embedding rows) and, in the same run,
// the PyTorch reference trainer on the same batches, with the ratio, achieved GFLOP/s against
// the measured peak, and the peak memory of a 32 pairs × 128 tokens step (child processes).

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createLoss } from '../src/losses/index.js';
import { StepRunner } from '../src/training/step_runner.js';
import { bertForwardFlops, runPython, TOKENIZER } from './common.js';

const SHAPE = { hidden: 384, layers: 6, heads: 12, intermediate: 1536 };
const pexec = promisify(execFile);

/** `pairs` (anchor, positive) rows of exactly `len` tokens: [CLS] … [SEP]. */
export function syntheticBatch(pairs: number, len: number, seed: number): number[][][] {
  let s = seed;
  const r = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
  const row = (): number[] => [101, ...Array.from({ length: len - 2 }, () => 1000 + (r() % 28000)), 102];
  return [Array.from({ length: pairs }, row), Array.from({ length: pairs }, row)];
}

async function timeOurs(model: SentenceTransformer, columns: number[][][], sparse: boolean, threads: number, steps: number): Promise<{ median: number; best: number }> {
  const loss = createLoss('MultipleNegativesRankingLoss', {});
  const st = new StepRunner(model, loss, { learningRate: 2e-5, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1, dropoutSeed: 42, freezeWordEmbeddings: false, sparseEmbeddings: sparse, threads });
  const times: number[] = [];
  for (let t = 1; t <= steps + 2; t++) {
    const t0 = performance.now();
    await st.run({ columns, labels: null }, 2e-5, t);
    if (t > 2) times.push((performance.now() - t0) / 1000);
  }
  await st.close();
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], best: times[0] };
}

/** Peak RSS (MB) of a fresh process running a few steps of `pairs × len` (ours). */
async function peakMemoryOurs(dir: string, pairs: number, len: number, sparse: boolean, arena = true): Promise<number> {
  const script = new URL('./train_memory_child.js', import.meta.url).pathname;
  const env = { ...process.env, SENTENCEKIT_MEM_ARENA: arena ? '1' : '0' };
  const { stdout } = await pexec(process.execPath, [script, dir, String(pairs), String(len), sparse ? '1' : '0'], { maxBuffer: 1 << 20, env });
  return Number(JSON.parse(stdout).max_rss_mb);
}

export async function trainBench(o: { threads: number; steps: number; torch: boolean }, peakGflops: number): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'sk-train-bench-'));
  try {
    const created = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...SHAPE, seed: 42, maxSeqLength: 128 });
    await created.save(dir);
    const model = await SentenceTransformer.load(dir);
    const pairs = 32;
    const len = 32;
    const columns = syntheticBatch(pairs, len, 7);
    const tokens = 2 * pairs * len;
    // forward + backward ≈ 3 × forward FLOPs
    const flops = 3 * bertForwardFlops(SHAPE, 2 * pairs, len);
    const dense = await timeOurs(model, columns, false, o.threads, o.steps);
    const sparse = await timeOurs(model, columns, true, o.threads, o.steps);
    const fig = (t: { median: number; best: number }): Record<string, number> => ({
      seconds_per_step: +t.median.toFixed(4),
      best_seconds_per_step: +t.best.toFixed(4),
      tokens_per_s: +(tokens / t.median).toFixed(0),
      gflops: +(flops / t.median / 1e9).toFixed(1),
      percent_of_peak: +((100 * flops) / t.median / 1e9 / peakGflops).toFixed(1),
    });
    const result: Record<string, unknown> = {
      model: 'all-MiniLM-L6-v2 shape (random weights)', loss: 'MultipleNegativesRankingLoss (scale 20, cosine)',
      batch: `${pairs} pairs × ${len} tokens`, tokens_per_step: tokens, optimizer: 'AdamW (wd 0.01), clip 1.0, dropout on',
      sentencekit_dense: fig(dense), sentencekit_sparse_embeddings: fig(sparse),
    };
    const mem = {
      pairs: 32, tokens: 128,
      sentencekit_dense_mb: +(await peakMemoryOurs(dir, 32, 128, false)).toFixed(0),
      sentencekit_sparse_mb: +(await peakMemoryOurs(dir, 32, 128, true)).toFixed(0),
      sentencekit_dense_no_arena_mb: +(await peakMemoryOurs(dir, 32, 128, false, false)).toFixed(0),
    } as Record<string, unknown>;
    if (o.torch) {
      const plan = (cols: number[][][], n: number): string => JSON.stringify({
        loss: { name: 'MultipleNegativesRankingLoss', scale: 20 },
        optimizer: { lr: 2e-5, weight_decay: 0.01, max_grad_norm: 1.0 },
        schedule: { name: 'linear', warmup_steps: 0, total_steps: 1000 },
        steps: Array.from({ length: n }, () => ({ columns: cols.map((c) => ({ input_ids: c, attention_mask: c.map((r) => r.map(() => 1)) })), labels: null })),
      });
      const planPath = join(dir, 'plan.json');
      await writeFile(planPath, plan(columns, o.steps + 1));
      const args = ['scripts/reference/bench_train_torch.py', '--model', dir, '--plan', planPath, '--threads', String(o.threads), '--warmup', '1'];
      const torch = await runPython(args, true).catch(() => runPython(args, false));
      const tsec = Number(torch.seconds_per_step);
      result.pytorch = { ...torch, gflops: +(flops / tsec / 1e9).toFixed(1), note: 'dropout off in the reference (no effect on speed)' };
      result.speedup_vs_pytorch_dense = +(tsec / dense.median).toFixed(2);
      result.speedup_vs_pytorch_sparse = +(tsec / sparse.median).toFixed(2);
      const memPlan = join(dir, 'plan128.json');
      await writeFile(memPlan, plan(syntheticBatch(32, 128, 9), 2));
      const tm = await runPython(['scripts/reference/bench_train_torch.py', '--model', dir, '--plan', memPlan, '--threads', String(o.threads), '--warmup', '1'], true).catch(() => ({ max_rss_mb: NaN }));
      mem.pytorch_mb = +Number(tm.max_rss_mb).toFixed(0);
    }
    result.peak_memory_32x128 = mem;
    await model.close();
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
