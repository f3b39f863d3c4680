// End to end on the real MS MARCO subset (../shared/data/msmarco, BEIR layout), for the built-in
// model and for a randomly initialised BERT (absolute nDCG is low; the check is that the indexes
// agree): `sentencekit index build` flat, usearch and ivf (50 lists, 16 probed: about a third of
// the vectors scanned; not held to the 0.01, as such embeddings do not cluster), with and without chunking, `sentencekit search --queries` over the judged queries, nDCG@10 of each from the
// qrels, for usearch and ivf also the share of flat's top 10 they returned (every query), and
// `sentencekit evaluate retrieval`'s cosine_ndcg@10 for the same model.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { retrievalMetrics } from '../src/evaluation/information_retrieval.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';

const run = promisify(execFile);
const MAIN = resolve(process.cwd(), 'dist', 'src', 'cli', 'main.js');

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [MAIN, ...args], { maxBuffer: 1 << 26 });
  return stdout;
}

export async function qrelsOf(path: string): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const f = line.trim().split('\t');
    if (f.length < 3 || !/^-?\d+$/.test(f[2])) continue;
    if (!out.has(f[0])) out.set(f[0], new Map());
    out.get(f[0])!.set(f[1], Number(f[2]));
  }
  return out;
}

/** `search --queries` output: each query's hit ids, best first. */
function rankingsOf(searchOut: string): Map<string, string[]> {
  return new Map(searchOut.trim().split('\n').map((line) => {
    const r = JSON.parse(line) as { query_id: string; hits: { id: string }[] };
    return [r.query_id, r.hits.map((h) => h.id)];
  }));
}

/** nDCG@10 (binary gain, as `evaluate retrieval`) of `search --queries` output over the judged queries. */
export function ndcgOf(searchOut: string, qrels: Map<string, Map<string, number>>): { ndcg10: number; queries: number } {
  const rankings: string[][] = [];
  const rel: Map<string, number>[] = [];
  for (const [q, ids] of rankingsOf(searchOut)) {
    const g = qrels.get(q);
    if (!g || ![...g.values()].some((x) => x > 0)) continue;
    rankings.push(ids);
    rel.push(g);
  }
  return { ndcg10: retrievalMetrics(rankings, rel)['ndcg@10'], queries: rankings.length };
}

/** Share of the reference's top-10 ids (per query, over every query) that `other` also returned. */
export function overlap10(reference: string, other: string): number {
  const b = rankingsOf(other);
  let found = 0;
  let all = 0;
  for (const [q, ranked] of rankingsOf(reference)) {
    const ids = ranked.slice(0, 10);
    const got = new Set((b.get(q) ?? []).slice(0, 10));
    all += ids.length;
    found += ids.filter((id) => got.has(id)).length;
  }
  return all ? found / all : 1;
}

/** One model through evaluate retrieval and the six indexes (flat, usearch, ivf, each with and without chunks). */
async function oneModel(tmp: string, modelArgs: string[], dataDir: string, qrels: Map<string, Map<string, number>>): Promise<Record<string, unknown>> {
  const corpus = join(dataDir, 'corpus.jsonl');
  const queries = join(dataDir, 'queries.jsonl');
  const qrelsPath = join(dataDir, 'qrels', 'test.tsv');
  const out: Record<string, unknown> = {};
  const t = performance.now();
  const ev = JSON.parse(await cli('evaluate', 'retrieval', ...modelArgs, '--corpus', corpus, '--queries', queries, '--qrels', qrelsPath)) as Record<string, number>;
  out.evaluate_retrieval = { cosine_ndcg10: ev['cosine_ndcg@10'], seconds: +((performance.now() - t) / 1000).toFixed(1) };
  const runs: Record<string, unknown> = {};
  const outputs: Record<string, string> = {};
  const chunks = ['--chunk-tokens', '64', '--overlap', '8'];
  const ivf = ['--backend', 'ivf', '--nlist', '50', '--nprobe', '16'];
  for (const [name, extra] of [['flat', ['--backend', 'flat']], ['usearch', []], ['ivf', ivf], ['flat_chunked', ['--backend', 'flat', ...chunks]], ['usearch_chunked', chunks], ['ivf_chunked', [...ivf, ...chunks]]] as [string, string[]][]) {
    const dir = join(tmp, name);
    await rm(dir, { recursive: true, force: true });
    const b = JSON.parse(await cli('index', 'build', ...modelArgs, '--corpus', corpus, '--out', dir, ...extra)) as Record<string, unknown>;
    const t1 = performance.now();
    const s = await cli('search', '--index', dir, '--queries', queries, '--top-k', '10');
    const secs = (performance.now() - t1) / 1000;
    outputs[name] = s;
    const ref = name === 'flat' || name === 'flat_chunked' ? null : name.endsWith('_chunked') ? outputs.flat_chunked : outputs.flat;
    runs[name] = { ...(ref ? { top10_overlap_with_flat: +overlap10(ref, s).toFixed(4) } : {}), ...ndcgOf(s, qrels), build_seconds: b.seconds, vectors: b.vectors, disk_bytes: b.disk_bytes, search_seconds_incl_start: +secs.toFixed(2) };
  }
  out.search = runs;
  const nd = (k: string): number => (runs[k] as { ndcg10: number }).ndcg10;
  out.checks = {
    flat_equals_evaluate_retrieval: Math.abs(nd('flat') - ev['cosine_ndcg@10']) < 1e-9,
    usearch_within_0_01_of_flat: Math.abs(nd('usearch') - nd('flat')) <= 0.01,
    usearch_chunked_within_0_01_of_flat_chunked: Math.abs(nd('usearch_chunked') - nd('flat_chunked')) <= 0.01,
  };
  return out;
}

/**
 * The built-in model (what a user gets with no --model) and a randomly initialised 128 × 2 BERT
 * with the MiniLM vocabulary (its embeddings crowd into a narrow cone: a hard case for the graph).
 */
export async function msmarcoBench(dataDir: string, tokenizer: string): Promise<Record<string, unknown>> {
  const tmp = await mkdtemp(join(tmpdir(), 'sk-msmarco-'));
  try {
    const model = join(tmp, 'model');
    const m = await SentenceTransformer.create({ tokenizerDir: tokenizer, hidden: 128, layers: 2, heads: 4, intermediate: 256, seed: 11, maxSeqLength: 128 });
    await m.save(model);
    await m.close();
    const qrels = await qrelsOf(join(dataDir, 'qrels', 'test.tsv'));
    return {
      corpus: 'msmarco subset, 5,000 passages',
      built_in: { model: 'sentencekit-static-en (the default, no --model)', ...(await oneModel(tmp, [], dataDir, qrels)) },
      random_bert: { model: 'random BERT 128×2 (seed 11), max 128 tokens', ...(await oneModel(tmp, ['--model', model], dataDir, qrels)) },
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
