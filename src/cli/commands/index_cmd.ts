// `sentencekit index build|add|remove|info`: builds a vector index from a corpus with a model
// (embedded backends: a folder built beside the target and moved into place when complete, so
// that a failed build leaves the previous folder as it was), adds or replaces documents
// (committed every batch), removes ids, and describes an index. Prints one summary JSON line.
// Takes the options in usage.

import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { assertNotInput, assertWritableFolder } from '../../io/output_guard.js';
import { Progress } from '../../io/progress.js';
import { resolveModelSpec } from '../../models/default_model.js';
import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { BACKEND_NAMES, createIndex, DEFAULT_BACKEND, openIndex, type VectorIndex } from '../../index/index.js';
import { checkCorpus } from '../../index/corpus.js';
import { ingestCorpus } from '../../index/ingest.js';
import { checkModel, modelInfo } from '../../index/model_info.js';
import { CONCURRENT_FROM } from '../../index/usearch.js';
import { NPROBE } from '../../index/ivf.js';
import { intOpt, parse, required, UsageError } from '../args.js';

export const usage = `Usage: sentencekit index build --model DIR|HUB_ID --corpus FILE --out DIR [--backend ${BACKEND_NAMES.join('|')}]
                            [--chunk-tokens N [--overlap N]] [--batch-size N] [--metric cosine|dot]
                            [--pg-url postgres://user@host:5432/db] [--pg-table NAME] [--halfvec]
                            [--connectivity M] [--expansion-add N] [--expansion-search N] [--quantization f32|f16|i8]
                            [--insert auto|serial|concurrent] [--nlist N] [--nprobe N] [--overwrite] [--threads N]
       sentencekit index add --index DIR --corpus FILE [--model DIR|HUB_ID] [--batch-size N] [--commit-rows 1024]
       sentencekit index remove --index DIR --ids FILE|ID,...
       sentencekit index info --index DIR

Corpus: JSON lines with "_id" or "id", "text", optional "title" (other fields are kept as
metadata; BEIR's corpus.jsonl loads as it is) or a text file (one document a line, ids are line
numbers). Default backend: ${DEFAULT_BACKEND}. The model defaults to the built-in one for build, and to
the index's recorded model for add. --insert (usearch): serial inserts one vector at a time (the
best graph), concurrent uses every thread (faster; usearch can then leave a vector unreachable),
auto (default) is serial until the graph holds ${CONCURRENT_FROM.toLocaleString('en-US')} vectors. --nlist (ivf): lists of the
quantizer (default rows/1000 at training time); --nprobe (ivf): lists scanned per query (default
${NPROBE}; search --nprobe overrides it). Each batch is committed:
an interrupted add keeps every batch before it. A summary JSON line is printed at the end.`;

/** What `index build` records beside the index, for add and search. */
export interface BuildInfo {
  model: string;
  chunkTokens?: number;
  overlap?: number;
  corpus: string;
}

export const BUILD_FILE = 'build.json';

export async function readBuildInfo(dir: string): Promise<BuildInfo | null> {
  try {
    return JSON.parse(await readFile(join(dir, BUILD_FILE), 'utf8')) as BuildInfo;
  } catch {
    return null;
  }
}

function progressFor(label: string): { bar: Progress; tick: (done: number, total: number) => void } {
  const bar = new Progress({ label, unit: 'docs' });
  let last = 0;
  return {
    bar,
    tick: (done, total) => {
      bar.tick(done - last, `of ${total}`);
      last = done;
    },
  };
}

/** Bytes of the files in a folder (the index as written, ANN structure included). */
async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir, { withFileTypes: true })) if (f.isFile()) n += (await stat(join(dir, f.name))).size;
  return n;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

async function build(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    model: { type: 'string' }, corpus: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' },
    'chunk-tokens': { type: 'string' }, overlap: { type: 'string' }, 'batch-size': { type: 'string' }, metric: { type: 'string' },
    'pg-url': { type: 'string' }, 'pg-table': { type: 'string' }, halfvec: { type: 'boolean' },
    connectivity: { type: 'string' }, 'expansion-add': { type: 'string' }, 'expansion-search': { type: 'string' }, quantization: { type: 'string' }, insert: { type: 'string' }, nlist: { type: 'string' }, nprobe: { type: 'string' },
    overwrite: { type: 'boolean' }, threads: { type: 'string' }, help: { type: 'boolean' },
  }, usage);
  if (positionals.length) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')}`, usage);
  const corpus = required(values, 'corpus', usage);
  const out = required(values, 'out', usage);
  const backend = typeof values.backend === 'string' ? values.backend : DEFAULT_BACKEND;
  if (!BACKEND_NAMES.includes(backend)) throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got "${backend}"`, usage);
  const metric = (values.metric ?? 'cosine') as string;
  if (metric !== 'cosine' && metric !== 'dot') throw new UsageError(`--metric must be cosine or dot, got "${metric}"`, usage);
  const chunkTokens = intOpt(values, 'chunk-tokens', undefined, usage, 4);
  const overlap = intOpt(values, 'overlap', undefined, usage, 0);
  if (overlap !== undefined && chunkTokens === undefined) throw new UsageError('--overlap needs --chunk-tokens', usage);
  if (backend === 'pgvector' && typeof values['pg-url'] !== 'string') throw new UsageError('--backend pgvector needs --pg-url postgres://user@host:5432/db', usage);
  const q = values.quantization;
  if (q !== undefined && q !== 'f32' && q !== 'f16' && q !== 'i8') throw new UsageError(`--quantization must be f32, f16 or i8, got "${String(q)}"`, usage);
  const ins = values.insert;
  if (ins !== undefined && ins !== 'auto' && ins !== 'serial' && ins !== 'concurrent') throw new UsageError(`--insert must be auto, serial or concurrent, got "${String(ins)}"`, usage);
  assertNotInput(out, { '--corpus': corpus }, '--out');
  assertWritableFolder(out, { overwrite: Boolean(values.overwrite), what: 'the index' });
  if (!(await exists(corpus))) throw new Error(`${corpus}: the corpus file does not exist`);
  const modelSpec = resolveModelSpec(typeof values.model === 'string' ? values.model : undefined);
  const threads = intOpt(values, 'threads', undefined, usage);
  const t0 = performance.now();
  const documents = await checkCorpus(corpus); // a bad line stops the build before anything is created
  const model = await SentenceTransformer.load(modelSpec, { threads });
  const info = modelInfo(model, modelSpec);
  // build in a sibling folder; it replaces `out` only when complete
  const target = resolve(out);
  const work = join(dirname(target), `.${basename(target)}.build-${randomBytes(4).toString('hex')}`);
  let index: VectorIndex | null = null;
  const prog = progressFor('index');
  try {
    index = await createIndex({
      backend, dir: work, dim: info.dim, metric, model: info, threads,
      usearch: {
        connectivity: intOpt(values, 'connectivity', undefined, usage), expansionAdd: intOpt(values, 'expansion-add', undefined, usage),
        expansionSearch: intOpt(values, 'expansion-search', undefined, usage), quantization: q as 'f32' | 'f16' | 'i8' | undefined,
        concurrentInsert: ins === undefined || ins === 'auto' ? undefined : ins === 'concurrent',
      },
      ivf: { nlist: intOpt(values, 'nlist', undefined, usage), nprobe: intOpt(values, 'nprobe', undefined, usage) },
      pgvector: { connectionString: values['pg-url'] as string | undefined, table: (values['pg-table'] as string | undefined) ?? basename(target).toLowerCase().replace(/[^a-z0-9_]/g, '_'), halfvec: Boolean(values.halfvec) },
    });
    const res = await ingestCorpus(index, model, corpus, { chunkTokens, overlap, batchSize: intOpt(values, 'batch-size', 32, usage), onProgress: prog.tick, checkedCount: documents });
    const bi: BuildInfo = { model: modelSpec, corpus: resolve(corpus), ...(chunkTokens !== undefined ? { chunkTokens, overlap: overlap ?? 0 } : {}) };
    await writeFileAtomic(join(work, BUILD_FILE), JSON.stringify(bi, null, 1) + '\n');
    await index.close();
    index = null;
    const diskBytes = await folderBytes(work);
    prog.bar.done();
    const old = (await exists(target)) ? `${work}.old` : null;
    if (old) await rename(target, old);
    await rename(work, target);
    if (old) await rm(old, { recursive: true, force: true });
    const secs = (performance.now() - t0) / 1000;
    process.stdout.write(JSON.stringify({
      index: out, backend, model: modelSpec, dim: info.dim, metric, documents: res.documents, vectors: res.vectors,
      chunk_tokens: chunkTokens ?? null, disk_bytes: diskBytes, seconds: Number(secs.toFixed(2)),
      docs_per_second: Number((res.documents / secs).toFixed(1)),
    }) + '\n');
  } catch (e) {
    await index?.close().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    throw e;
  } finally {
    await model.close();
  }
}

/** The model an index records (or --model, which must be the same model). */
export async function indexModel(index: VectorIndex, dir: string, given: string | undefined, threads?: number): Promise<{ model: SentenceTransformer; name: string }> {
  const recorded = index.model?.name;
  const name = given ?? recorded ?? (await readBuildInfo(dir))?.model;
  if (name === undefined) throw new Error(`${dir}: the index records no model; pass --model DIR|HUB_ID`);
  const model = await SentenceTransformer.load(resolveModelSpec(name), { threads });
  try {
    checkModel(index.model, modelInfo(model, name), dir);
  } catch (e) {
    await model.close();
    throw e;
  }
  return { model, name };
}

async function add(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    index: { type: 'string' }, corpus: { type: 'string' }, model: { type: 'string' }, 'batch-size': { type: 'string' },
    'commit-rows': { type: 'string' }, threads: { type: 'string' }, help: { type: 'boolean' },
  }, usage);
  if (positionals.length) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')}`, usage);
  const dir = required(values, 'index', usage);
  const corpus = required(values, 'corpus', usage);
  const threads = intOpt(values, 'threads', undefined, usage);
  const t0 = performance.now();
  const index = await openIndex(dir, { threads });
  const prog = progressFor('add');
  let model: SentenceTransformer | null = null;
  try {
    model = (await indexModel(index, dir, values.model as string | undefined, threads)).model;
    const bi = await readBuildInfo(dir);
    const before = (await index.stats()).count;
    const res = await ingestCorpus(index, model, corpus, {
      chunkTokens: bi?.chunkTokens, overlap: bi?.overlap, batchSize: intOpt(values, 'batch-size', 32, usage),
      commitRows: intOpt(values, 'commit-rows', 1024, usage), onProgress: prog.tick,
    });
    const st = await index.stats();
    prog.bar.done();
    process.stdout.write(JSON.stringify({ index: dir, added: res.documents, vectors: res.vectors, count_before: before, count: st.count, seconds: Number(((performance.now() - t0) / 1000).toFixed(2)) }) + '\n');
  } finally {
    await index.close();
    await model?.close();
  }
}

async function removeIds(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { index: { type: 'string' }, ids: { type: 'string' }, help: { type: 'boolean' } }, usage);
  if (positionals.length) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')}`, usage);
  const dir = required(values, 'index', usage);
  const spec = required(values, 'ids', usage);
  let ids: string[];
  if (await exists(spec)) {
    ids = (await readFile(spec, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
  } else {
    ids = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
  if (ids.length === 0) throw new UsageError('--ids names no id (give a file with one id a line, or ID,ID,...)', usage);
  const index = await openIndex(dir);
  try {
    const bi = await readBuildInfo(dir);
    let all = ids;
    if (bi?.chunkTokens !== undefined) {
      // a chunked index: a document id removes all its chunks
      all = [];
      for (const id of ids) {
        for (let i = 0; ; i++) {
          const [d] = await index.get([`${id}#${i}`]);
          if (!d) break;
          all.push(`${id}#${i}`);
        }
        all.push(id);
      }
    }
    const removed = await index.remove(all);
    await index.flush();
    const st = await index.stats();
    process.stdout.write(JSON.stringify({ index: dir, asked: ids.length, removed, count: st.count }) + '\n');
  } finally {
    await index.close();
  }
}

async function infoCmd(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { index: { type: 'string' }, help: { type: 'boolean' } }, usage);
  if (positionals.length) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')}`, usage);
  const dir = required(values, 'index', usage);
  const index = await openIndex(dir, { readOnly: true });
  try {
    const st = await index.stats();
    process.stdout.write(JSON.stringify({ index: dir, ...st, build: await readBuildInfo(dir) }) + '\n');
  } finally {
    await index.close();
  }
}

const SUB: Record<string, (argv: string[]) => Promise<void>> = { build, add, remove: removeIds, info: infoCmd };

export async function indexCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(usage + '\n');
    return;
  }
  const f = sub === undefined ? undefined : SUB[sub];
  if (!f) throw new UsageError(sub === undefined ? 'name a sub-command: build, add, remove or info' : `unknown sub-command "${sub}" (build, add, remove, info)`, usage);
  await f(rest);
}
