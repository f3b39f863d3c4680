// `sentencekit quickstart` (npm start): the whole life of a model on the built-in one
// (sentencekit-static-en), offline: load it, encode and evaluate STS-B dev (Spearman of cosine),
// fine-tune briefly on a small example set (CoSENTLoss on STS-B train pairs), evaluate again,
// export to ONNX and check the exported graph against encode, then embed an example corpus and
// answer a few example queries with their hits. Data come from ../shared when it is there,
// built-in samples otherwise. Each stage is one entry of STAGES, so a stage can be added or
// replaced (e.g. a persistent index) without touching the others. Prints a line per stage on
// stderr and one JSON summary on stdout.

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { modelLabel } from '../../models/default_model.js';
import { SAMPLE_QUERIES, SAMPLE_SENTENCES } from '../samples.js';
import { intOpt, parse } from '../args.js';
import { Trainer } from '../../training/trainer.js';
import { CoSENTLoss } from '../../losses/cosent_loss.js';
import { EmbeddingSimilarityEvaluator } from '../../evaluation/index.js';
import { exportModel } from '../../export/export_model.js';
import { ExactIndex } from '../../index/exact_search.js';
import { Session } from '../../runtime/session.js';
import { assertWritableFolder } from '../../io/output_guard.js';

export const usage = `Usage: sentencekit quickstart [--model DIR|HUB_ID] [--data sts-dev.csv] [--train sts-train.csv] [--train-pairs N]
                              [--steps N] [--lr X] [--corpus corpus.jsonl --queries queries.jsonl] [--out DIR [--overwrite]]

Runs the whole lifecycle on the built-in model (sentencekit-static-en; --model picks another):
encode and evaluate STS-B dev, fine-tune --steps steps (default 60) with CoSENTLoss on the first
--train-pairs STS-B train pairs (default 1000; --lr, default 1e-3), evaluate again, export to ONNX, embed an example
corpus and answer example queries. Defaults: the data in ../shared when present, built-in sample
sentences otherwise. --out DIR keeps the fine-tuned model and its export; a non-empty DIR is refused
unless --overwrite.`;

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

async function findShared(rel: string): Promise<string | null> {
  for (const base of [process.cwd(), PACKAGE_ROOT]) {
    const p = resolve(base, '..', 'shared', rel);
    if (await exists(p)) return p;
  }
  return null;
}

interface Pair {
  a: string;
  b: string;
  score: number;
}

function stsPairs(text: string): Pair[] {
  const out: Pair[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length >= 7 && Number.isFinite(Number(f[4]))) out.push({ a: f[5], b: f[6], score: Number(f[4]) / 5 });
  }
  return out;
}

/** Sample pairs from the built-in sentences: neighbours (written as paraphrases) score high. */
function samplePairs(): Pair[] {
  const s = SAMPLE_SENTENCES;
  const out: Pair[] = [];
  for (let i = 0; i + 1 < s.length; i += 2) out.push({ a: s[i], b: s[i + 1], score: 0.8 });
  for (let i = 0; i + 3 < s.length; i += 2) out.push({ a: s[i], b: s[i + 3], score: 0.1 });
  return out;
}

function jsonlField(text: string, field: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => String((JSON.parse(l) as Record<string, unknown>)[field] ?? ''));
}

/** What the stages share. */
export interface QuickstartContext {
  model: SentenceTransformer;
  modelName: string;
  dev: Pair[];
  devSource: string;
  train: Pair[];
  trainSource: string;
  corpus: string[];
  queries: string[];
  corpusSource: string;
  steps: number;
  lr: number;
  /** Where the fine-tuned model and its export go. */
  outDir: string;
  summary: Record<string, unknown>;
  say: (line: string) => void;
  /** --overwrite: the folder was checked, replace what an earlier run wrote there. */
  overwrite: boolean;
}

async function devSpearman(c: QuickstartContext): Promise<number> {
  const ev = new EmbeddingSimilarityEvaluator(c.dev.map((p) => p.a), c.dev.map((p) => p.b), c.dev.map((p) => p.score), { similarityFns: ['cosine'], batchSize: 256 });
  return (await ev.evaluate(c.model)).spearman_cosine;
}

/** The stages, in order; each reads and extends the context's summary. */
export const STAGES: { name: string; run: (c: QuickstartContext) => Promise<void> }[] = [
  {
    name: 'encode',
    run: async (c) => {
      const sentences = c.dev.flatMap((p) => [p.a, p.b]);
      await c.model.encode(sentences.slice(0, 8)); // warm-up: graph build and session start
      const t = performance.now();
      const m = await c.model.encodeMatrix(sentences, { batchSize: 256 });
      const secs = (performance.now() - t) / 1000;
      c.summary.encode = { sentences: m.rows, dimension: m.dim, tokens: m.tokens, seconds: +secs.toFixed(3), sentences_per_s: Math.round(m.rows / secs) };
      c.say(`encode: ${m.rows} sentences (${c.devSource}) into [${m.rows}, ${m.dim}] in ${secs.toFixed(2)} s (${Math.round(m.rows / secs)} sentences/s)`);
    },
  },
  {
    name: 'evaluate',
    run: async (c) => {
      const s = await devSpearman(c);
      c.summary.spearman_cosine_before = +s.toFixed(4);
      c.say(`evaluate: Spearman (cosine) on ${c.dev.length} pairs of ${c.devSource}: ${s.toFixed(4)}`);
    },
  },
  {
    name: 'fine-tune',
    run: async (c) => {
      if (c.steps === 0) {
        c.summary.training = { steps: 0 };
        return;
      }
      const r = await new Trainer({
        model: c.model, trainDataset: { examples: c.train.map((p) => ({ texts: [p.a, p.b], label: p.score })) }, loss: new CoSENTLoss(),
        args: { maxSteps: c.steps, batchSize: 32, learningRate: c.lr, warmupRatio: 0.1, weightDecay: 0, sparseEmbeddings: true, dropout: false, saveSteps: null, logSteps: 10 },
        outputDir: join(c.outDir, 'model'), overwrite: c.overwrite, progress: false, baseModel: c.modelName,
      }).train();
      c.summary.training = { steps: r.globalStep, seconds: +r.seconds.toFixed(1), final_loss: r.trainingLoss, loss: 'CoSENTLoss', pairs: c.train.length, data: c.trainSource, learning_rate: c.lr };
      c.say(`fine-tune: ${r.globalStep} steps of CoSENTLoss on ${c.train.length} pairs (${c.trainSource}) in ${r.seconds.toFixed(1)} s; saved to ${join(c.outDir, 'model')}`);
      const s = await devSpearman(c);
      c.summary.spearman_cosine_after = +s.toFixed(4);
      c.say(`evaluate again: ${s.toFixed(4)} (was ${c.summary.spearman_cosine_before})`);
    },
  },
  {
    name: 'export',
    run: async (c) => {
      const dir = join(c.outDir, 'export');
      const res = await exportModel(c.model, dir, { overwrite: c.overwrite });
      const file = res.metadata.files.find((f) => f.graph === 'sentence')!;
      // the exported graph alone, on a few dev sentences, against encode
      const texts = c.dev.slice(0, 16).flatMap((p) => [p.a, p.b]);
      const want = await c.model.encodeMatrix(texts);
      const batch = c.model.tokenizer.pad(c.model.tokenizer.encodeBatch(texts));
      const dims = [batch.batchSize, batch.seqLen];
      const s = await Session.create(await readFile(join(dir, file.path)), { cache: false });
      const got = await s.run({ input_ids: { dtype: 'int64', dims, data: batch.inputIds }, attention_mask: { dtype: 'int64', dims, data: batch.attentionMask }, token_type_ids: { dtype: 'int64', dims, data: batch.tokenTypeIds } }, ['sentence_embedding']);
      await s.release();
      const g = got.sentence_embedding.data as Float32Array;
      let maxDiff = 0;
      for (let i = 0; i < g.length; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i] - want.data[i]));
      c.summary.export = { dir, file: file.path, bytes: file.bytes, max_abs_diff_vs_encode: maxDiff };
      c.say(`export: ${join(dir, file.path)} (${(file.bytes / 1e6).toFixed(1)} MB); onnxruntime alone vs encode: max |diff| ${maxDiff.toExponential(1)}`);
    },
  },
  {
    name: 'search',
    run: async (c) => {
      // exact cosine search over the corpus (the search interface hard-negative mining uses)
      const t = performance.now();
      const emb = await c.model.encodeMatrix(c.corpus, { batchSize: 256 });
      const index = new ExactIndex(emb.dim, { metric: 'cosine' });
      await index.add(emb);
      const q = await c.model.encodeMatrix(c.queries);
      const k = 3;
      const r = await index.search(q, k);
      await index.close();
      const secs = (performance.now() - t) / 1000;
      c.say(`search: ${c.corpus.length} texts of ${c.corpusSource} embedded and searched in ${secs.toFixed(2)} s`);
      const answers = c.queries.map((query, i) => {
        const hits = Array.from({ length: k }, (_, j) => ({ score: +r.scores[i * k + j].toFixed(4), text: c.corpus[r.ids[i * k + j]] }));
        c.say(`  "${query}"`);
        for (const h of hits) c.say(`    ${h.score.toFixed(3)}  ${h.text.length > 100 ? h.text.slice(0, 97) + '...' : h.text}`);
        return { query, hits };
      });
      c.summary.search = { corpus: c.corpusSource, documents: c.corpus.length, seconds: +secs.toFixed(2), queries: answers };
    },
  },
];

export async function quickstart(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    model: { type: 'string' },
    data: { type: 'string' },
    train: { type: 'string' },
    'train-pairs': { type: 'string' },
    steps: { type: 'string' },
    lr: { type: 'string' },
    corpus: { type: 'string' },
    queries: { type: 'string' },
    out: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    help: { type: 'boolean' },
  }, usage);
  const overwrite = Boolean(values.overwrite);
  if (typeof values.out === 'string') assertWritableFolder(values.out, { overwrite, what: 'the quick-start model and export' });
  const spec = typeof values.model === 'string' ? values.model : undefined;
  const lr = values.lr === undefined ? 1e-3 : Number(values.lr);
  if (!Number.isFinite(lr) || lr <= 0) throw new Error(`--lr must be a positive number, got ${String(values.lr)}`);
  const scratch = await mkdtemp(join(tmpdir(), 'sentencekit-quickstart-'));
  const say = (line: string): void => { process.stderr.write(line + '\n'); };
  try {
    const dataPath = typeof values.data === 'string' ? values.data : await findShared('data/stsb/sts-dev.csv');
    const trainPath = typeof values.train === 'string' ? values.train : await findShared('data/stsb/sts-train.csv');
    const corpusPath = typeof values.corpus === 'string' ? values.corpus : await findShared('data/msmarco/corpus.jsonl');
    const queriesPath = typeof values.queries === 'string' ? values.queries : await findShared('data/msmarco/queries.jsonl');
    const nTrain = intOpt(values, 'train-pairs', 1000, usage) ?? 1000;
    const t0 = performance.now();
    const model = await SentenceTransformer.load(spec);
    const c: QuickstartContext = {
      model,
      modelName: modelLabel(spec),
      dev: dataPath ? stsPairs(await readFile(dataPath, 'utf8')) : samplePairs(),
      devSource: dataPath ?? 'built-in sample pairs',
      train: (trainPath ? stsPairs(await readFile(trainPath, 'utf8')) : samplePairs()).slice(0, nTrain),
      trainSource: trainPath ?? 'built-in sample pairs',
      corpus: corpusPath && queriesPath ? jsonlField(await readFile(corpusPath, 'utf8'), 'text') : [...SAMPLE_SENTENCES],
      queries: corpusPath && queriesPath ? jsonlField(await readFile(queriesPath, 'utf8'), 'text').slice(0, 3) : [...SAMPLE_QUERIES],
      corpusSource: corpusPath && queriesPath ? corpusPath : 'built-in sample sentences',
      steps: intOpt(values, 'steps', 60, usage, 0) ?? 60,
      lr,
      outDir: typeof values.out === 'string' ? values.out : scratch,
      summary: {},
      say,
      overwrite,
    };
    c.summary.model = c.modelName;
    c.summary.parameters = model.parameterCount();
    c.summary.dimension = model.dimension;
    say(`model: ${c.modelName}: ${model.info().architecture}, ${model.parameterCount().toLocaleString('en')} parameters, dimension ${model.dimension}`);
    for (const stage of STAGES) await stage.run(c);
    await model.close();
    c.summary.seconds = +((performance.now() - t0) / 1000).toFixed(1);
    if (typeof values.out !== 'string') c.summary.out = '(temporary; pass --out DIR to keep the fine-tuned model and its export)';
    process.stdout.write(JSON.stringify(c.summary, null, 2) + '\n');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
