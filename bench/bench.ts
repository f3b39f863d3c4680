// `npm run bench`: prints one JSON object — the machine's measured fp32 MatMul peak through
// onnxruntime, and the benchmarks against the real peer, sentence-transformers 6 on torch 2.13
// (the repository's .venv: bash scripts/python_env.sh;
// skipped with a note where it is absent). Options:
//   --only encode,train[,profile,spin,export] (encode,train)  --batch-size N (32)
//   --threads N (all cores)  --repeat N (3)  --train-steps N (5)
//   --workloads stsb_mnrl,stsb_cosent,fixed_32x32,fixed_32x128 (all)
//   profile: onnxruntime's per-op profile of a training step and the JavaScript side
//   (--profile-plan fixed: 32 pairs × --profile-len tokens, default 32; stsb: shuffled STS-B train pairs; encode: inference)
//   spin: spinning vs sleeping intra-op threads, alone and beside a competing process
//   export: fp32/fp16/int8 throughput, transformers.js on the same file, Spearman of a model
//   fine-tuned in the run (several minutes)
//   serve: a load test of the HTTP server on loopback  --serve-seconds N (8)
//   --only index [--index-size 100000] [--index-queries 1000] [--index-libs usearch,sentencekit-f32,sentencekit,hnswlib-node,lancedb,pgvector-pglite,flat,faiss]
//   [--pg-size 10000] [--ef 16,32,64,128,256,512] [--nlist N]: vector-index candidates on clustered synthetic data
//   (also sentencekit-ivf and faiss-ivf, whose --ef values are nprobe; --nlist: their lists, faiss-ivf 1024 by default);
//   --only msmarco: index build + search --queries on the MS MARCO subset against evaluate retrieval
//   --only arch [--arch-sentences 128]: encode throughput of each architecture at its common size
//   (DistilBERT, RoBERTa, XLM-RoBERTa, MPNet base) against the peer, in the same run

import { parseArgs } from 'node:util';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { encodeBench } from './encode_bench.js';
import { trainBench } from './train_bench.js';
import { exportBench } from './export_bench.js';
import { serveBench } from './serve_bench.js';
import { indexBench } from './index_bench.js';
import { msmarcoBench } from './msmarco_search.js';
import { archBench, archPeerAvailable } from './arch_bench.js';
import { resolve } from 'node:path';
import { profileBench } from './profile_bench.js';
import { spinBench } from './spin_bench.js';
import { measurePeak, SHARED, TOKENIZER } from './common.js';
import { spinningEnabled } from '../src/runtime/session.js';

const { values } = parseArgs({
  options: {
    'batch-size': { type: 'string', default: '32' },
    threads: { type: 'string', default: String(availableParallelism()) },
    repeat: { type: 'string', default: '3' },
    only: { type: 'string', default: 'encode,train' },
    'train-steps': { type: 'string', default: '5' },
    'arch-sentences': { type: 'string', default: '128' },
    'serve-seconds': { type: 'string', default: '8' },
    'profile-plan': { type: 'string', default: 'fixed' },
    'profile-len': { type: 'string', default: '32' },
    'index-size': { type: 'string', default: '100000' },
    'index-queries': { type: 'string', default: '1000' },
    'index-libs': { type: 'string', default: 'usearch,sentencekit-f32,sentencekit,hnswlib-node,lancedb,pgvector-pglite,flat,faiss' },
    'pg-size': { type: 'string', default: '10000' },
    ef: { type: 'string', default: '16,32,64,128,256,512' },
    m: { type: 'string', default: '16' },
    'ef-construction': { type: 'string', default: '128' },
    nlist: { type: 'string' },
    workloads: { type: 'string' },
  },
});

if (!existsSync(TOKENIZER)) {
  process.stderr.write(`bench: the MiniLM tokenizer is needed at ${TOKENIZER} (the shared folder beside the checkout)\n`);
  process.exit(1);
}
const known = ['encode', 'train', 'profile', 'spin', 'export', 'arch', 'serve', 'index', 'msmarco'];
const only = String(values.only).split(',');
for (const k of only) {
  if (!known.includes(k)) {
    process.stderr.write(`bench: --only takes ${known.join(', ')}; "${k}" is none of them\n`);
    process.exit(2);
  }
}
const threads = Number(values.threads);
const steps = Number(values['train-steps']);
const peak = await measurePeak(threads);
const out: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cpu_threads: threads,
  load_average_at_start: loadavg().map((x) => +x.toFixed(2)),
  intra_op_spinning: spinningEnabled({}),
  peak_matmul: { gflops: +peak.gflops.toFixed(1), shape: peak.shape, note: 'onnxruntime fp32 MatMul, no output copy' },
};
if (only.includes('encode')) out.encode = await encodeBench({ batchSize: Number(values['batch-size']), threads, repeat: Number(values.repeat) }, peak.gflops);
if (only.includes('train')) out.train = await trainBench({ threads, steps, workloads: values.workloads?.split(',') }, peak.gflops);
if (only.includes('profile')) out.profile = await profileBench({ threads, steps, len: Number(values['profile-len']), plan: values['profile-plan'] === 'stsb' ? 'stsb' : values['profile-plan'] === 'encode' ? 'encode' : 'fixed' });
if (only.includes('spin')) out.spin = await spinBench({ threads, steps });
if (only.includes('arch')) out.arch = await archBench({ threads, batchSize: Number(values['batch-size']), repeat: Number(values.repeat), sentences: Number(values['arch-sentences']), torch: archPeerAvailable() });
if (only.includes('export')) out.export = await exportBench({ threads }, peak.gflops);
if (only.includes('serve')) out.serve = await serveBench({ threads, seconds: Number(values['serve-seconds']) });
if (only.includes('index')) {
  out.index = await indexBench({
    size: Number(values['index-size']), queries: Number(values['index-queries']), dim: 384, threads,
    libs: String(values['index-libs']).split(','), pgSize: Number(values['pg-size']),
    m: Number(values.m), efConstruction: Number(values['ef-construction']), efs: String(values.ef).split(',').map(Number),
    nlist: values.nlist === undefined ? undefined : Number(values.nlist),
  });
}
if (only.includes('msmarco')) out.msmarco = await msmarcoBench(resolve(SHARED, 'data', 'msmarco'), TOKENIZER);
out.load_average_at_end = loadavg().map((x) => +x.toFixed(2));
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
