// Encode speed of the all-MiniLM-L6-v2-shaped model (random weights, real tokenizer) over the
// STS-B dev sentences, batch 32, against the real peer: sentence-transformers 6's
// SentenceTransformer.encode on torch 2.13 loading the same folder (both sides tokenize and sort
// by length themselves). In-process: the best of `repeat` encodes after a warm-up. End to end:
// a fresh process from spawn to the .npy written (ours: `sentencekit encode`; the peer:
// scripts/reference/bench_st.py encode --repeat 0). The hand-written PyTorch 1.13 model
// (scripts/reference/bench_torch.py, Debian's python3-torch) stays as a labelled second line
// where it is installed. GFLOP/s: padded (what is computed) and real tokens only.
// The built-in static model (sentencekit-static-en; a random table of its shape when it is not
// installed) on the same sentences and batch size, with its speed-up over the transformer.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { DEFAULT_MODEL_NAME, defaultModelDir } from '../src/models/default_model.js';
import { existsSync } from 'node:fs';
import { bertForwardFlops, bestOf, runPython, stsDevSentences, TOKENIZER, MINILM_SHAPE } from './common.js';
import { peerMissing, runPeer, timedChild } from './peer.js';

const pexec = promisify(execFile);

export interface EncodeBenchOptions {
  batchSize: number;
  threads: number;
  repeat: number;
}

export async function encodeBench(o: EncodeBenchOptions, peakGflops: number): Promise<Record<string, unknown>> {
  const shape = MINILM_SHAPE;
  const { sentences, source } = stsDevSentences();
  const dir = await mkdtemp(join(tmpdir(), 'sk-bench-'));
  try {
    const modelDir = join(dir, 'model');
    const created = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, ...shape, seed: 42, maxSeqLength: 256 });
    await created.save(modelDir);
    const model = await SentenceTransformer.load(modelDir, { threads: o.threads });
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
    const realFlops = enc.reduce((f, e) => f + bertForwardFlops(shape, 1, e.ids.length), 0);
    await model.close();
    const gf = (sec: number): Record<string, number> => ({
      gflops_padded: +(flops / sec / 1e9).toFixed(1),
      gflops_real_tokens: +(realFlops / sec / 1e9).toFixed(1),
      percent_of_peak_real_tokens: +((100 * realFlops) / sec / 1e9 / peakGflops).toFixed(1),
    });
    const textPath = join(dir, 'sentences.txt');
    await writeFile(textPath, sentences.join('\n') + '\n');
    const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
    const e2e = await timedChild(process.execPath, [cli, 'encode', '--model', modelDir, '--input', textPath, '--output', join(dir, 'ours.npy'), '--batch-size', String(o.batchSize), '--threads', String(o.threads)], process.env, false);
    const ours = {
      sentences: stats.rows,
      tokens: stats.tokens,
      padded_tokens: padded,
      seconds: +secs.toFixed(3),
      sentences_per_s: +(stats.rows / secs).toFixed(1),
      tokens_per_s: +(stats.tokens / secs).toFixed(0),
      ...gf(secs),
      end_to_end_s: e2e.wall_s,
    };
    const result: Record<string, unknown> = { model: 'all-MiniLM-L6-v2 shape (random weights, max_seq_length 256)', data: source, batch_size: o.batchSize, threads: o.threads, sentencekit: ours };
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
    const missing = await peerMissing();
    if (missing) result.sentence_transformers = { skipped: missing };
    else {
      const texts = join(dir, 'texts.json');
      await writeFile(texts, JSON.stringify({ texts: sentences }));
      const common = ['--model', modelDir, '--texts', texts, '--batch-size', String(o.batchSize)];
      const inproc = await runPeer('encode', [...common, '--repeat', String(o.repeat), '--out', join(dir, 'peer.npy')], o.threads);
      const once = await runPeer('encode', [...common, '--repeat', '0', '--out', join(dir, 'peer-e2e.npy')], o.threads);
      const psec = Number(inproc.result.seconds);
      result.sentence_transformers = {
        versions: `${String(inproc.result.sentence_transformers_version)} / torch ${String(inproc.result.torch_version)}`,
        seconds: psec, sentences_per_s: inproc.result.sentences_per_s, ...gf(psec),
        end_to_end_s: once.wall_s, max_rss_mb: inproc.result.max_rss_mb,
      };
      result.ratio_in_process = +(psec / secs).toFixed(2);
      result.ratio_end_to_end = +(once.wall_s / e2e.wall_s).toFixed(2);
    }
    let hasTorch113 = true;
    await pexec('/usr/bin/python3', ['-c', 'import torch']).catch(() => { hasTorch113 = false; });
    if (!hasTorch113) result.pytorch_1_13_hand_written_reference = 'skipped: /usr/bin/python3 has no torch (Debian python3-torch)';
    else {
      const ids = join(dir, 'ids.json');
      await writeFile(ids, JSON.stringify({ batches, prompt_length: null }));
      const args = ['scripts/reference/bench_torch.py', '--model', modelDir, '--ids', ids, '--threads', String(o.threads), '--repeat', String(o.repeat), '--warmup', '1'];
      const torch = await runPython(args, true).catch(() => runPython(args, false));
      result.pytorch_1_13_hand_written_reference = { ...torch, ratio: +(Number(torch.seconds) / secs).toFixed(2) };
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
