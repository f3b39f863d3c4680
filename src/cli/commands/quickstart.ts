// `sentencekit quickstart` (npm start): the main job on built-in defaults — create a model with
// the all-MiniLM-L6-v2 shape (random weights; pretrained weights need the Hugging Face Hub),
// save it in the sentence-transformers layout, load it back, and encode the STS-B dev sentences
// (or built-in samples), printing one JSON summary with throughput.

import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { SAMPLE_SENTENCES } from '../samples.js';
import { intOpt, parse } from '../args.js';

export const usage = `Usage: sentencekit quickstart [--tokenizer DIR] [--data sts-dev.csv] [--out DIR] [--batch-size N] [--layers N]

Creates an all-MiniLM-L6-v2-shaped model (hidden 384, 6 layers, 12 heads, FFN 1536; random weights),
saves and reloads it, and encodes the STS-B dev sentences. Defaults: the tokenizer and data in
../shared when present, otherwise a built-in vocabulary and sample sentences.`;

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

function stsSentences(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length >= 7) out.push(f[5], f[6]);
  }
  return out;
}

export async function quickstart(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    tokenizer: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    'batch-size': { type: 'string' },
    layers: { type: 'string' },
    help: { type: 'boolean' },
  }, usage);
  const scratch = await mkdtemp(join(tmpdir(), 'sentencekit-quickstart-'));
  try {
    const tokDir = typeof values.tokenizer === 'string' ? values.tokenizer : (await findShared('models/all-MiniLM-L6-v2-tokenizer')) ?? (await builtinTokenizer(join(scratch, 'tokenizer')));
    const dataPath = typeof values.data === 'string' ? values.data : await findShared('data/stsb/sts-dev.csv');
    const sentences = dataPath ? stsSentences(await readFile(dataPath, 'utf8')) : [...SAMPLE_SENTENCES];
    const out = typeof values.out === 'string' ? values.out : join(scratch, 'model');
    const t0 = performance.now();
    const created = await SentenceTransformer.create({ tokenizerDir: tokDir, hidden: 384, layers: intOpt(values, 'layers', 6, usage, 0) ?? 6, heads: 12, intermediate: 1536, seed: 42 });
    await created.save(out);
    const tCreate = performance.now() - t0;
    const model = await SentenceTransformer.load(out);
    await model.encode(sentences.slice(0, 8)); // warm-up: graph build and session start
    const t1 = performance.now();
    const m = await model.encodeMatrix(sentences, { batchSize: intOpt(values, 'batch-size', 32, usage) });
    const secs = (performance.now() - t1) / 1000;
    await model.close();
    const summary = {
      model: typeof values.out === 'string' ? out : '(temporary; pass --out DIR to keep it)',
      tokenizer: tokDir.startsWith(scratch) ? 'built-in sample vocabulary' : tokDir,
      data: dataPath ?? 'built-in sample sentences',
      parameters: model.parameterCount(),
      dimension: m.dim,
      sentences: m.rows,
      tokens: m.tokens,
      truncated: m.truncated,
      create_and_save_s: +(tCreate / 1000).toFixed(3),
      encode_s: +secs.toFixed(3),
      sentences_per_s: +(m.rows / secs).toFixed(1),
      tokens_per_s: +(m.tokens / secs).toFixed(0),
      first_embedding_head: Array.from(m.data.subarray(0, 4), (x) => +x.toFixed(5)),
    };
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
