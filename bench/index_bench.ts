// The index benchmark (`npm run bench -- --only index [--index-size N] [--index-libs a,b]
// [--pg-size N] [--index-queries Q]`): seeded clustered synthetic vectors (the project's Rng:
// C = N/1000 centres ~ N(0, 1)^384, each vector a centre plus N(0, σ²) noise, σ = 0.9,
// L2-normalised; queries drawn the same way), the exact top 10 of every query by the flat
// scorer (ExactIndex), then each candidate in its own process (index_candidate.ts): build time,
// memory, disk, and recall@10 / queries per second on one thread over a sweep of ef. For each
// candidate: the fastest setting reaching recall@10 ≥ 0.95 and ≥ 0.99. pgvector (PGlite, WASM)
// is measured on the first --pg-size vectors (its own ground truth). `faiss` is faiss-cpu's HNSW
// from Python (scripts/reference/bench_faiss.py in the .venv of scripts/python_env.sh), as a
// reference beside the npm libraries; skipped with a note where the .venv cannot import it.
// `faiss-ivf` is its IVF{nlist},SQ8 (--nlist, default 1024) and `sentencekit-ivf` this layer's
// ivf backend (automatic nlist unless --nlist is given); for both the --ef values are nprobe. The real MS MARCO subset,
// end to end through the commands, is msmarco_search.ts (--only msmarco).

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ExactIndex } from '../src/index/exact_search.js';
import { Rng } from '../src/models/init.js';
import { VENV_PYTHON } from './peer.js';

const run = promisify(execFile);

export interface IndexBenchOptions {
  size: number;
  queries: number;
  dim: number;
  threads: number;
  libs: string[];
  pgSize: number;
  m: number;
  efConstruction: number;
  efs: number[];
  /** IVF lists: faiss-ivf's (default 1024) and, when given, sentencekit-ivf's. */
  nlist?: number;
}

function clustered(n: number, dim: number, centres: Float32Array, c: number, rng: Rng, sigma: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rng.uniform() * c);
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = centres[k * dim + d] + sigma * rng.normal();
      out[i * dim + d] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < dim; d++) out[i * dim + d] *= inv;
  }
  return out;
}

async function groundTruth(base: Float32Array, n: number, queries: Float32Array, q: number, dim: number, threads: number): Promise<Int32Array> {
  const ix = new ExactIndex(dim, { threads, queryBatch: 256 });
  ix.add({ data: base.subarray(0, n * dim), rows: n, dim });
  const res = await ix.search({ data: queries, rows: q, dim }, 10);
  await ix.close();
  return res.ids;
}

function bytes(a: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

interface Point { setting: string; recall10: number; qps: number }

function atRecall(sweep: Point[] | undefined, target: number): Point | null {
  if (!sweep) return null;
  const ok = sweep.filter((p) => p.recall10 >= target);
  if (ok.length === 0) return null;
  return ok.reduce((a, b) => (b.qps > a.qps ? b : a));
}

async function faissAvailable(): Promise<boolean> {
  return run(VENV_PYTHON, ['-c', 'import faiss']).then(() => true, () => false);
}

export async function indexBench(o: IndexBenchOptions): Promise<Record<string, unknown>> {
  const data = await mkdtemp(join(tmpdir(), 'sk-index-bench-'));
  try {
    const t0 = performance.now();
    const rng = new Rng(42);
    const c = Math.max(10, Math.round(o.size / 1000));
    const centres = new Float32Array(c * o.dim);
    rng.fillNormal(centres, 1);
    const base = clustered(o.size, o.dim, centres, c, rng, 0.9);
    const queries = clustered(o.queries, o.dim, centres, c, new Rng(4242), 0.9);
    const genS = (performance.now() - t0) / 1000;
    let t = performance.now();
    const gt = await groundTruth(base, o.size, queries, o.queries, o.dim, o.threads);
    const flatS = (performance.now() - t) / 1000;
    await writeFile(join(data, 'base.f32'), bytes(base));
    await writeFile(join(data, 'queries.f32'), bytes(queries));
    await writeFile(join(data, 'gt.i32'), bytes(gt));
    await writeFile(join(data, 'meta.json'), JSON.stringify({ n: o.size, dim: o.dim, q: o.queries }));
    const pgN = Math.min(o.pgSize, o.size);
    if (pgN < o.size) await writeFile(join(data, `gt-${pgN}.i32`), bytes(await groundTruth(base, pgN, queries, o.queries, o.dim, o.threads)));
    const results: Record<string, unknown>[] = [];
    const script = resolve(process.cwd(), 'dist', 'bench', 'index_candidate.js');
    for (const lib of o.libs) {
      const work = join(data, `work-${lib}`);
      await mkdir(work, { recursive: true });
      const opts = {
        threads: o.threads, m: o.m, efConstruction: o.efConstruction, efs: lib === 'pgvector-pglite' ? o.efs.filter((e) => e <= 256) : o.efs, size: lib === 'pgvector-pglite' ? pgN : undefined,
        ...(lib === 'faiss-ivf' ? { kind: 'ivf', nlist: o.nlist ?? 1024 } : lib === 'sentencekit-ivf' ? { nlist: o.nlist } : {}),
      };
      const faiss = lib === 'faiss' || lib === 'faiss-ivf';
      process.stderr.write(`index bench: ${lib} on ${opts.size ?? o.size} vectors …\n`);
      try {
        const [cmd, args] = faiss
          ? [VENV_PYTHON, [resolve(process.cwd(), 'scripts', 'reference', 'bench_faiss.py'), data, work, JSON.stringify(opts)]]
          : [process.execPath, [script, lib, data, work, JSON.stringify(opts)]];
        if (faiss && !(await faissAvailable())) {
          results.push({ lib, skipped: 'the .venv cannot import faiss: run `bash scripts/python_env.sh`' });
          continue;
        }
        const { stdout } = await run(cmd, args, { maxBuffer: 1 << 24, timeout: 3 * 3600_000 });
        const r = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown> & { sweep?: Point[] };
        r.at_recall_0_95 = atRecall(r.sweep, 0.95);
        r.at_recall_0_99 = atRecall(r.sweep, 0.99);
        results.push(r);
      } catch (e) {
        results.push({ lib, error: (e as Error).message.split('\n').slice(0, 3).join(' ') });
      }
      await rm(work, { recursive: true, force: true });
    }
    const raw = results.find((r) => r.lib === 'usearch');
    // the same graph settings as the raw library (float32 graph) when measured, else the default
    const ours = results.find((r) => r.lib === 'sentencekit-f32') ?? results.find((r) => r.lib === 'sentencekit');
    let layerVsRaw: Record<string, number> | null = null;
    if (raw?.sweep && ours?.sweep) {
      layerVsRaw = {};
      for (const p of ours.sweep as Point[]) {
        const r = (raw.sweep as Point[]).find((x) => x.setting === p.setting);
        if (r) layerVsRaw[`ef=${p.setting}`] = +(p.qps / r.qps).toFixed(3);
      }
    }
    return {
      data: { vectors: o.size, dim: o.dim, queries: o.queries, clusters: c, sigma: 0.9, seed: 42, generate_s: +genS.toFixed(1) },
      hnsw: { m: o.m, ef_construction: o.efConstruction, ef_sweep: o.efs, build_threads: o.threads },
      ground_truth: { by: 'flat (ExactIndex, ONNX MatMul + TopK)', seconds: +flatS.toFixed(2), threads: o.threads },
      pgvector_size: pgN,
      candidates: results,
      [`${String(ours?.lib ?? 'sentencekit')}_over_raw_usearch_qps`]: layerVsRaw,
    };
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}
