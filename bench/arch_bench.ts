// Encode throughput per architecture at its common real size (random weights; the tiny test
// tokenizers, so the vocabulary is small but the network is full size): DistilBERT base
// (768 hidden, 6 layers), RoBERTa / XLM-RoBERTa / MPNet base (768 hidden, 12 layers), on the
// first N STS-B dev sentences at batch 32: ours (in-process, batches sorted by length) against
// the real sentence-transformers 6 on torch 2.13 (.venv) loading the same folder, in one run;
// with the peer, the largest |difference| of the two sides' embeddings (the parity check at
// full size).

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { bestOf, stsDevSentences } from './common.js';

export interface ArchBenchOptions {
  threads: number;
  batchSize: number;
  repeat: number;
  sentences: number;
  torch: boolean;
}

const CASES = [
  { arch: 'distilbert', tokenizer: 'tiny-tokenizer', hidden: 768, layers: 6, heads: 12, intermediate: 3072 },
  { arch: 'roberta', tokenizer: 'roberta-tokenizer', hidden: 768, layers: 12, heads: 12, intermediate: 3072 },
  { arch: 'xlm-roberta', tokenizer: 'xlmr-spm-tokenizer', hidden: 768, layers: 12, heads: 12, intermediate: 3072 },
  { arch: 'mpnet', tokenizer: 'mpnet-tokenizer', hidden: 768, layers: 12, heads: 12, intermediate: 3072 },
];

export async function archBench(o: ArchBenchOptions): Promise<Record<string, unknown>> {
  const sentences = stsDevSentences().sentences.slice(0, o.sentences);
  const scratch = await mkdtemp(join(tmpdir(), 'sk-arch-bench-'));
  const out: Record<string, unknown> = { sentences: sentences.length, batch_size: o.batchSize, threads: o.threads, note: 'random weights at the common size, tiny tokenizers' };
  try {
    await writeFile(join(scratch, 'texts.json'), JSON.stringify(sentences));
    for (const c of CASES) {
      const dir = join(scratch, c.arch);
      const created = await SentenceTransformer.create({ tokenizerDir: join('test/fixtures', c.tokenizer), arch: c.arch, hidden: c.hidden, layers: c.layers, heads: c.heads, intermediate: c.intermediate, seed: 1, maxSeqLength: 128 });
      await created.save(dir);
      const model = await SentenceTransformer.load(dir, { threads: o.threads });
      await model.encodeMatrix(sentences.slice(0, o.batchSize), { batchSize: o.batchSize });
      let tokens = 0;
      let emb: Float32Array = new Float32Array(0);
      const ours = await bestOf(o.repeat, async () => {
        const r = await model.encodeMatrix(sentences, { batchSize: o.batchSize });
        tokens = r.tokens;
        emb = r.data;
      });
      await model.close();
      const row: Record<string, unknown> = { parameters: created.parameterCount(), tokens, sentencekit_seconds: +ours.toFixed(3), sentencekit_sentences_per_s: +(sentences.length / ours).toFixed(1) };
      if (o.torch) {
        execFileSync('.venv/bin/python', ['scripts/reference/bench_st_arch.py', '--model', dir, '--texts', join(scratch, 'texts.json'), '--threads', String(o.threads), '--batch-size', String(o.batchSize), '--repeat', String(o.repeat), '--out', join(scratch, 'st.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
        const st = JSON.parse(await readFile(join(scratch, 'st.json'), 'utf8')) as { seconds: number; embeddings: number[][]; versions: Record<string, string> };
        let worst = 0;
        const dim = st.embeddings[0].length;
        st.embeddings.forEach((v, i) => v.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - emb[i * dim + j])))));
        row.max_abs_diff_vs_peer = Number(worst.toPrecision(3));
        row.sentence_transformers_seconds = +st.seconds.toFixed(3);
        row.speedup = +(st.seconds / ours).toFixed(2);
        out.peer = `sentence-transformers ${st.versions.sentence_transformers} on torch ${st.versions.torch}`;
      }
      out[c.arch] = row;
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return out;
}

export function archPeerAvailable(): boolean {
  return existsSync('.venv/bin/python');
}
