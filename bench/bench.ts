// `npm run bench`: prints one JSON object — the machine's measured fp32 MatMul peak through
// onnxruntime, and the encode and training benchmarks against the PyTorch reference. Options:
//   --batch-size N (32)  --threads N (all cores)  --repeat N (3)  --no-torch  --only encode,train[,export][,serve]  --train-steps N (5)
//   --serve-seconds N (8)
//   (export: fp32/fp16/int8 throughput, transformers.js on the same file, Spearman of a model
//   fine-tuned in the run; several minutes)
//   --only index [--index-size 100000] [--index-queries 1000] [--index-libs usearch,sentencekit-f32,sentencekit,hnswlib-node,lancedb,pgvector-pglite,flat]
//   [--pg-size 10000] [--ef 16,32,64,128,256,512]: vector-index candidates on clustered synthetic data;
//   --only msmarco: index build + search --queries on the MS MARCO subset against evaluate retrieval
//   --only arch [--arch-sentences 128]: encode throughput of each architecture at its common size
//   against sentence-transformers 6 on torch 2.13 (.venv from scripts/python_env.sh)

import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { encodeBench } from './encode_bench.js';
import { trainBench } from './train_bench.js';
import { exportBench } from './export_bench.js';
import { serveBench } from './serve_bench.js';
import { indexBench } from './index_bench.js';
import { msmarcoBench } from './msmarco_search.js';
import { archBench, archPeerAvailable } from './arch_bench.js';
import { resolve } from 'node:path';
import { measurePeak, SHARED, TOKENIZER } from './common.js';

const { values } = parseArgs({
  options: {
    'batch-size': { type: 'string', default: '32' },
    threads: { type: 'string', default: String(availableParallelism()) },
    repeat: { type: 'string', default: '3' },
    'no-torch': { type: 'boolean', default: false },
    only: { type: 'string', default: 'encode,train' },
    'train-steps': { type: 'string', default: '5' },
    'arch-sentences': { type: 'string', default: '128' },
    'serve-seconds': { type: 'string', default: '8' },
    'index-size': { type: 'string', default: '100000' },
    'index-queries': { type: 'string', default: '1000' },
    'index-libs': { type: 'string', default: 'usearch,sentencekit-f32,sentencekit,hnswlib-node,lancedb,pgvector-pglite,flat' },
    'pg-size': { type: 'string', default: '10000' },
    ef: { type: 'string', default: '16,32,64,128,256,512' },
    m: { type: 'string', default: '16' },
    'ef-construction': { type: 'string', default: '128' },
  },
});

if (!existsSync(TOKENIZER)) {
  process.stderr.write(`bench: the MiniLM tokenizer is needed at ${TOKENIZER} (the shared folder beside the checkout)\n`);
  process.exit(1);
}
const threads = Number(values.threads);
const hasTorch = !values['no-torch'] && existsSync('/usr/bin/python3');
const peak = await measurePeak(threads);
const only = String(values.only).split(',');
const out: Record<string, unknown> = {
  date: new Date().toISOString().slice(0, 10),
  node: process.version,
  cpu_threads: threads,
  peak_matmul: { gflops: +peak.gflops.toFixed(1), shape: peak.shape, note: 'onnxruntime fp32 MatMul, no output copy' },
};
if (only.includes('encode')) out.encode = await encodeBench({ batchSize: Number(values['batch-size']), threads, repeat: Number(values.repeat), torch: hasTorch }, peak.gflops);
if (only.includes('train')) out.train = await trainBench({ threads, steps: Number(values['train-steps']), torch: hasTorch }, peak.gflops);
if (only.includes('arch')) out.arch = await archBench({ threads, batchSize: Number(values['batch-size']), repeat: Number(values.repeat), sentences: Number(values['arch-sentences']), torch: !values['no-torch'] && archPeerAvailable() });
if (only.includes('export')) out.export = await exportBench({ threads }, peak.gflops);
if (only.includes('serve')) out.serve = await serveBench({ threads, seconds: Number(values['serve-seconds']) });
if (only.includes('index')) {
  out.index = await indexBench({
    size: Number(values['index-size']), queries: Number(values['index-queries']), dim: 384, threads,
    libs: String(values['index-libs']).split(','), pgSize: Number(values['pg-size']),
    m: Number(values.m), efConstruction: Number(values['ef-construction']), efs: String(values.ef).split(',').map(Number),
  });
}
if (only.includes('msmarco')) out.msmarco = await msmarcoBench(resolve(SHARED, 'data', 'msmarco'), TOKENIZER);
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
