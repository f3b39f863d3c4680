// Spinning against sleeping intra-op threads (onnxruntime's session.intra_op.allow_spinning),
// each with and without a competing process (one busy-looping thread, as another job on one
// of the cores): median seconds of MultipleNegativesRankingLoss training steps (32 pairs × 32
// tokens, dropout on) and of encoding 512 STS-B dev sentences (batch 32), and the CPU time the
// process burned per step (spinning threads burn it while waiting).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createLoss } from '../src/losses/index.js';
import { StepRunner } from '../src/training/step_runner.js';
import { clearSessionCache } from '../src/runtime/session.js';
import { stsDevSentences, TOKENIZER, MINILM_SHAPE } from './common.js';
import { syntheticBatch } from './train_plan.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(dir: string, spinning: boolean, threads: number, steps: number, sentences: string[]): Promise<Record<string, number>> {
  process.env.SENTENCEKIT_SPIN = spinning ? '1' : '0';
  try {
    const model = await SentenceTransformer.load(dir, { threads });
    const st = new StepRunner(model, createLoss('MultipleNegativesRankingLoss', {}), {
      learningRate: 2e-5, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1, dropoutSeed: 42, freezeWordEmbeddings: false, threads, session: { spinning },
    });
    const columns = syntheticBatch(32, 32, 7);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let t = 1; t <= steps + 1; t++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await st.run({ columns, labels: null }, 2e-5, t);
      const c = process.cpuUsage(c0);
      if (t > 1) {
        times.push((performance.now() - t0) / 1000);
        cpu.push((c.user + c.system) / 1e6);
      }
    }
    await st.close();
    await model.encodeMatrix(sentences.slice(0, 64), { batchSize: 32 });
    const enc: number[] = [];
    for (let r = 0; r < 2; r++) {
      const t0 = performance.now();
      await model.encodeMatrix(sentences, { batchSize: 32 });
      enc.push((performance.now() - t0) / 1000);
    }
    await model.close();
    await clearSessionCache();
    return { train_seconds_per_step: +median(times).toFixed(3), train_cpu_seconds_per_step: +median(cpu).toFixed(3), encode_512_seconds: +Math.min(...enc).toFixed(3) };
  } finally {
    delete process.env.SENTENCEKIT_SPIN;
  }
}

export async function spinBench(o: { threads: number; steps: number }): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'sk-spin-'));
  try {
    const created = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...MINILM_SHAPE, seed: 42, maxSeqLength: 128 });
    await created.save(dir);
    const sentences = stsDevSentences().sentences.slice(0, 512);
    const out: Record<string, unknown> = { workload: `${o.threads} intra-op threads; training 32 pairs × 32 tokens MNRL (median of ${o.steps} steps), encode 512 STS-B dev sentences (best of 2)` };
    for (const competitor of [false, true]) {
      const busy = competitor ? spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }) : null;
      try {
        for (const spinning of [true, false]) out[`${spinning ? 'spinning' : 'sleeping'}_${competitor ? 'with_competitor' : 'alone'}`] = await measure(dir, spinning, o.threads, o.steps, sentences);
      } finally {
        busy?.kill('SIGKILL');
      }
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
