// `sentencekit quickstart` (npm start): the main job on built-in defaults — create a model with
// the all-MiniLM-L6-v2 shape (random weights; pretrained weights need the Hugging Face Hub),
// save it in the sentence-transformers layout, load it back, encode the STS-B dev sentences
// (or built-in samples), evaluate, fine-tune it briefly with CoSENTLoss on STS-B train and
// evaluate again, printing one JSON summary with throughput and the Spearman correlations.

import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { SAMPLE_SENTENCES } from '../samples.js';
import { intOpt, parse } from '../args.js';
import { Trainer } from '../../training/trainer.js';
import { createLoss } from '../../losses/index.js';
import { EmbeddingSimilarityEvaluator } from '../../evaluation/index.js';
import { Progress } from '../../io/progress.js';
import { progressEncoder } from '../progress_encoder.js';
import { assertWritableFolder } from '../../io/output_guard.js';

export const usage = `Usage: sentencekit quickstart [--tokenizer DIR] [--data sts-dev.csv] [--train sts-train.csv] [--steps N]
                              [--out DIR [--overwrite]] [--batch-size N] [--layers N]

Creates an all-MiniLM-L6-v2-shaped model (hidden 384, 6 layers, 12 heads, FFN 1536; random weights),
saves and reloads it, encodes the STS-B dev sentences, evaluates Spearman on STS-B dev, fine-tunes
for --steps steps (default 100) with CoSENTLoss on STS-B train and evaluates again. Defaults: the
tokenizer and data in ../shared when present, otherwise a built-in vocabulary and sample sentences.
--out keeps the model (and the training outputs) in DIR; a non-empty DIR is refused unless --overwrite.`;

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

/** A small WordPiece vocabulary (special tokens, characters, the sample words) for when no tokenizer is given. */
async function builtinTokenizer(dir: string): Promise<string> {
  const words = new Set<string>();
  for (const s of SAMPLE_SENTENCES) for (const w of s.toLowerCase().match(/[a-z]+|[0-9]+|[^\sa-z0-9]/g) ?? []) words.add(w);
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789.,;:!?\'"()-'.split('');
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...chars, ...chars.map((c) => `##${c}`), ...[...words].filter((w) => !chars.includes(w)).sort()];
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, model_max_length: 512, tokenizer_class: 'BertTokenizer' }));
  return dir;
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

export async function quickstart(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    tokenizer: { type: 'string' },
    data: { type: 'string' },
    train: { type: 'string' },
    steps: { type: 'string' },
    out: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
    layers: { type: 'string' },
    help: { type: 'boolean' },
  }, usage);
  if (typeof values.out === 'string') assertWritableFolder(values.out, { overwrite: Boolean(values.overwrite), what: 'the quick-start model' });
  const scratch = await mkdtemp(join(tmpdir(), 'sentencekit-quickstart-'));
  try {
    const tokDir = typeof values.tokenizer === 'string' ? values.tokenizer : (await findShared('models/all-MiniLM-L6-v2-tokenizer')) ?? (await builtinTokenizer(join(scratch, 'tokenizer')));
    const dataPath = typeof values.data === 'string' ? values.data : await findShared('data/stsb/sts-dev.csv');
    const trainPath = typeof values.train === 'string' ? values.train : await findShared('data/stsb/sts-train.csv');
    const dev = dataPath ? stsPairs(await readFile(dataPath, 'utf8')) : samplePairs();
    const trainPairs = trainPath ? stsPairs(await readFile(trainPath, 'utf8')) : samplePairs();
    const sentences = dev.flatMap((p) => [p.a, p.b]);
    const out = typeof values.out === 'string' ? values.out : join(scratch, 'model');
    const t0 = performance.now();
    const created = await SentenceTransformer.create({ tokenizerDir: tokDir, hidden: 384, layers: intOpt(values, 'layers', 6, usage, 0) ?? 6, heads: 12, intermediate: 1536, seed: 42, maxSeqLength: 128 });
    await created.save(out);
    const tCreate = performance.now() - t0;
    // stderr tells where a minutes-long run is: a bar on a terminal, a line every 10 s otherwise
    const status = new Progress({ label: 'quickstart' });
    const say = (text: string): void => status.note(`quickstart: ${text}`);
    say(`created ${created.parameterCount().toLocaleString('en-US')} parameters in ${(tCreate / 1000).toFixed(1)} s; encoding ${sentences.length} sentences`);
    const model = await SentenceTransformer.load(out);
    await model.encode(sentences.slice(0, 8)); // warm-up: graph build and session start
    const t1 = performance.now();
    const encoding = new Progress({ total: sentences.length, label: 'encode', unit: 'texts' });
    let encoded = 0;
    const m = await model.encodeMatrix(sentences, {
      batchSize: intOpt(values, 'batch-size', 32, usage),
      onProgress: (done) => { encoding.tick(done - encoded); encoded = done; },
    });
    encoding.done();
    const secs = (performance.now() - t1) / 1000;
    const evaluator = new EmbeddingSimilarityEvaluator(dev.map((p) => p.a), dev.map((p) => p.b), dev.map((p) => p.score), { similarityFns: ['cosine'] });
    const evaluate = async (label: string): Promise<number> => {
      const encoder = progressEncoder(model, label);
      const r = await evaluator.evaluate(encoder);
      encoder.done();
      return r.spearman_cosine;
    };
    const before = await evaluate('evaluate: encoded');
    say(`STS-B dev spearman_cosine before training ${before.toFixed(4)}`);
    const steps = intOpt(values, 'steps', 100, usage, 0) ?? 100;
    let training: Record<string, unknown> = { steps: 0 };
    if (steps > 0) {
      const r = await new Trainer({
        model, trainDataset: { examples: trainPairs.map((p) => ({ texts: [p.a, p.b], label: p.score })) }, loss: createLoss('CoSENTLoss', {}),
        args: { maxSteps: steps, batchSize: 16, learningRate: 1e-4, warmupRatio: 0.1, maxSeqLength: 64, saveSteps: null, logSteps: 10 },
        // the folder was checked above and holds only the model this command just saved
        outputDir: typeof values.out === 'string' ? out : null, overwrite: true,
      }).train();
      const tokensPerS = r.logHistory.filter((h) => typeof h.tokens_per_s === 'number').map((h) => Number(h.tokens_per_s)).pop();
      training = { steps: r.globalStep, seconds: +r.seconds.toFixed(1), final_loss: r.trainingLoss, tokens_per_s: tokensPerS, loss: 'CoSENTLoss', data: trainPath ?? 'built-in sample pairs' };
    }
    const after = await evaluate('evaluate: encoded');
    say(`spearman_cosine after ${steps} step(s) ${after.toFixed(4)}`);
    await model.close();
    const summary = {
      model: typeof values.out === 'string' ? out : '(temporary; pass --out DIR to keep it)',
      tokenizer: tokDir.startsWith(scratch) ? 'built-in sample vocabulary' : tokDir,
      data: dataPath ?? 'built-in sample sentences',
      parameters: model.parameterCount(),
      dimension: m.dim,
      encode: {
        sentences: m.rows,
        tokens: m.tokens,
        truncated: m.truncated,
        seconds: +secs.toFixed(3),
        sentences_per_s: +(m.rows / secs).toFixed(1),
        tokens_per_s: +(m.tokens / secs).toFixed(0),
      },
      create_and_save_s: +(tCreate / 1000).toFixed(3),
      spearman_cosine_before: +before.toFixed(4),
      training,
      spearman_cosine_after: +after.toFixed(4),
    };
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
