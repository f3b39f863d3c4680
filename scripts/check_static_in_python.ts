// Checks that a model directory (default: the built-in model) loads unchanged in Python's
// sentence-transformers and gives SentenceKit's embeddings: encodes the STS-B dev sentences (or
// the built-in samples) here, then with SentenceTransformer(dir) in the venv of
// scripts/python_env.sh, and prints the max absolute difference as one JSON line.
// Usage: bash scripts/python_env.sh && npm run build && node dist/scripts/check_static_in_python.js [DIR]

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { resolveModelSpec } from '../src/models/default_model.js';
import { createNpyWriter } from '../src/io/npy.js';
import { SAMPLE_SENTENCES } from '../src/cli/samples.js';

const dir = resolveModelSpec(process.argv[2]);
const dev = resolve('..', 'shared', 'data', 'stsb', 'sts-dev.csv');
const texts = existsSync(dev)
  ? (await readFile(dev, 'utf8')).split('\n').map((l) => l.split('\t')).filter((f) => f.length >= 7).flatMap((f) => [f[5], f[6]])
  : [...SAMPLE_SENTENCES];
const model = await SentenceTransformer.load(dir);
const m = await model.encodeMatrix(texts, { batchSize: 64 });
await model.close();
const tmp = await mkdtemp(join(tmpdir(), 'sk-st-check-'));
try {
  await writeFile(join(tmp, 'texts.json'), JSON.stringify(texts));
  const w = await createNpyWriter(join(tmp, 'emb.npy'), m.dim);
  await w.writeRows(m.data);
  await w.close();
  const out = execFileSync(resolve('.venv/bin/python'), ['scripts/reference/st_load_check.py', '--model', dir, '--texts', join(tmp, 'texts.json'), '--embeddings', join(tmp, 'emb.npy')], { encoding: 'utf8' });
  process.stdout.write(out);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
