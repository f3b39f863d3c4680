// Encode throughput of the all-MiniLM-L6-v2-shaped model (random weights, real tokenizer)
// over the STS-B dev sentences: ours (batches sorted by token length) and, in the same run,
// the PyTorch reference on exactly the same padded batches, with the ratio and achieved GFLOP/s;
// and the built-in static model (sentencekit-static-en; a random table of its shape when it is
// not installed) on the same sentences and batch size, with its speed-up over the transformer.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { DEFAULT_MODEL_NAME, defaultModelDir } from '../src/models/default_model.js';
import { existsSync } from 'node:fs';
import { bertForwardFlops, bestOf, runPython, stsDevSentences, TOKENIZER } from './common.js';

export interface EncodeBenchOptions {
  batchSize: number;
  threads: number;
  repeat: number;
  torch: boolean;
}

export async function encodeBench(o: EncodeBenchOptions, peakGflops: number): Promise<Record<string, unknown>> {
  const shape = { hidden: 384, layers: 6, heads: 12, intermediate: 1536 };
  const { sentences, source } = stsDevSentences();
  const dir = await mkdtemp(join(tmpdir(), 'sk-bench-'));
  try {
    const created = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...shape, seed: 42, maxSeqLength: 256 });
    await created.save(dir);
    const model = await SentenceTransformer.load(dir, { threads: o.threads });
    await model.encodeMatrix(sentences.slice(0, 256), { batchSize: o.batchSize });
    let stats = { tokens: 0, rows: 0 };
    const secs = await bestOf(o.repeat, async () => {
      const m = await model.encodeMatrix(sentences, { batchSize: o.batchSize });
      stats = { tokens: m.tokens, rows: m.rows };
    });
    // the same batches as encodeMatrix forms them: sorted by token length, padded per batch
    const enc = model.tokenizer.encodeBatch(sentences);
    const order = enc.map((_, i) => i).sort((a, b) => enc[b].ids.length - enc[a].ids.length || a - b);
    let flops = 0;
    let padded = 0;
    const batches: { input_ids: number[][]; attention_mask: number[][]; token_type_ids: number[][] }[] = [];
    for (let s = 0; s < order.length; s += o.batchSize) {
      const b = model.tokenizer.pad(order.slice(s, s + o.batchSize).map((i) => enc[i]));
      flops += bertForwardFlops(shape, b.batchSize, b.seqLen);
      padded += b.batchSize * b.seqLen;
      const rows = (a: BigInt64Array): number[][] => Array.from({ length: b.batchSize }, (_, r) => Array.from(a.subarray(r * b.seqLen, (r + 1) * b.seqLen), Number));
      batches.push({ input_ids: rows(b.inputIds), attention_mask: rows(b.attentionMask), token_type_ids: rows(b.tokenTypeIds) });
    }
    await model.close();
    const ours = {
      sentences: stats.rows,
      tokens: stats.tokens,
      padded_tokens: padded,
      seconds: +secs.toFixed(3),
      sentences_per_s: +(stats.rows / secs).toFixed(1),
      tokens_per_s: +(stats.tokens / secs).toFixed(0),
      gflops: +(flops / secs / 1e9).toFixed(1),
      percent_of_peak: +((100 * flops) / secs / 1e9 / peakGflops).toFixed(1),
    };
    const result: Record<string, unknown> = { model: 'all-MiniLM-L6-v2 shape (random weights)', data: source, batch_size: o.batchSize, threads: o.threads, sentencekit: ours };
    const builtin = existsSync(join(defaultModelDir(), 'modules.json'));
    const st = builtin
      ? await SentenceTransformer.load(defaultModelDir(), { threads: o.threads })
      : await SentenceTransformer.createStatic({ tokenizerDir: TOKENIZER, dim: 256, seed: 42 });
    await st.encodeMatrix(sentences.slice(0, 256), { batchSize: o.batchSize });
    let sstats = { tokens: 0, rows: 0 };
    const ssecs = await bestOf(Math.max(o.repeat, 5), async () => {
      const m = await st.encodeMatrix(sentences, { batchSize: o.batchSize });
      sstats = { tokens: m.tokens, rows: m.rows };
    });
    await st.close();
    result.static_model = {
      model: builtin ? DEFAULT_MODEL_NAME : `random StaticEmbedding of ${DEFAULT_MODEL_NAME}'s shape (the built-in model is not installed)`,
      dimension: st.dimension,
      sentences: sstats.rows,
      tokens: sstats.tokens,
      seconds: +ssecs.toFixed(4),
      sentences_per_s: +(sstats.rows / ssecs).toFixed(0),
    };
    result.static_speedup_vs_transformer = +(secs / ssecs).toFixed(1);
    if (o.torch) {
      const ids = join(dir, 'ids.json');
      await writeFile(ids, JSON.stringify({ batches, prompt_length: null }));
      const args = ['scripts/reference/bench_torch.py', '--model', dir, '--ids', ids, '--threads', String(o.threads), '--repeat', String(o.repeat), '--warmup', '1'];
      let torch: Record<string, unknown>;
      let blasEnv = 'OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset';
      try {
        torch = await runPython(args, true);
      } catch {
        torch = await runPython(args, false);
        blasEnv = 'machine OPENBLAS_* settings';
      }
      const tsec = Number(torch.seconds);
      result.pytorch = { ...torch, gflops: +(flops / tsec / 1e9).toFixed(1), blas_env: blasEnv };
      result.speedup_vs_pytorch = +(tsec / secs).toFixed(2);
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
