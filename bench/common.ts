// Shared pieces of the benchmarks: the STS-B dev sentences (or built-in samples), the
// machine's measured matrix-multiply peak through onnxruntime, FLOP counts of a BERT forward
// pass, and running the PyTorch peer script.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { GraphBuilder } from '../src/graph/builder.js';
import { Session } from '../src/runtime/session.js';
import { SAMPLE_SENTENCES } from '../src/cli/samples.js';

export const SHARED = resolve(process.cwd(), '..', 'shared');
export const TOKENIZER = resolve(SHARED, 'models', 'all-MiniLM-L6-v2-tokenizer');
/** The all-MiniLM-L6-v2 shape every speed benchmark builds (random weights, the real tokenizer). */
export const MINILM_SHAPE = { hidden: 384, layers: 6, heads: 12, intermediate: 1536 };

export function stsDevSentences(): { sentences: string[]; source: string } {
  const p = resolve(SHARED, 'data', 'stsb', 'sts-dev.csv');
  if (!existsSync(p)) return { sentences: [...SAMPLE_SENTENCES], source: 'built-in samples (sts-dev.csv absent)' };
  const out: string[] = [];
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    const f = line.split('\t');
    if (f.length >= 7) out.push(f[5], f[6]);
  }
  return { sentences: out, source: 'STS-B dev (1,500 pairs, both sentences)' };
}

/** Best-of-n seconds for an async function. */
export async function bestOf(n: number, fn: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

/**
 * The machine's fp32 matrix-multiply peak as onnxruntime reaches it: two chained MatMuls
 * [1024×384]·[384×1536]·[1536×384] reduced to a scalar in-graph (so no output copy is timed).
 */
export async function measurePeak(threads: number): Promise<{ gflops: number; shape: string }> {
  const M = 1024, K = 384, N = 1536;
  const g = new GraphBuilder('peak');
  const x = g.input('x', 'float32', [M, K]);
  const rnd = (n: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    return a;
  };
  const w1 = g.initializer('w1', { dtype: 'float32', dims: [K, N], data: rnd(K * N) });
  const w2 = g.initializer('w2', { dtype: 'float32', dims: [N, K], data: rnd(N * K) });
  g.output(g.reduceSum(g.matMul(g.matMul(x, w1), w2), [0, 1], false), 'y');
  const s = await Session.create(g.graph, { threads, cache: false });
  const feeds = { x: { dtype: 'float32' as const, dims: [M, K], data: rnd(M * K) } };
  for (let i = 0; i < 3; i++) await s.run(feeds);
  const reps = 20;
  const secs = await bestOf(5, async () => {
    for (let i = 0; i < reps; i++) await s.run(feeds);
  });
  await s.release();
  return { gflops: (4 * M * K * N * reps) / secs / 1e9, shape: `${M}x${K} @ ${K}x${N} @ ${N}x${K}` };
}

export interface BertShape {
  hidden: number;
  layers: number;
  intermediate: number;
}

/** Forward FLOPs (2 per multiply-add) of a BERT encoder on a padded batch [b, s]. */
export function bertForwardFlops(c: BertShape, b: number, s: number): number {
  const H = c.hidden;
  const perLayer = 2 * b * s * (4 * H * H + 2 * H * c.intermediate) + 2 * 2 * b * s * s * H;
  return perLayer * c.layers;
}

const pexec = promisify(execFile);

/** Runs a Python peer script; `cleanBlasEnv` unsets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for it alone. */
export async function runPython(args: string[], cleanBlasEnv: boolean): Promise<Record<string, unknown>> {
  const env = { ...process.env };
  if (cleanBlasEnv) {
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  const { stdout } = await pexec('/usr/bin/python3', args, { env, maxBuffer: 1 << 24 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}
