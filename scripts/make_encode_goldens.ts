// Writes test/fixtures/encode_goldens.json: for every case of test/fixtures/encode_cases.ts,
// builds the model as create-model does, tokenizes the texts, runs the float64 PyTorch
// reference (scripts/reference/st_reference.py) on the same ids and stores its embeddings.
// Run by hand after changing a case:  npm run build && node dist/scripts/make_encode_goldens.js

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { Pooling } from '../src/models/pooling.js';
import { ENCODE_CASES, ENCODE_TEXTS } from '../test/fixtures/encode_cases.js';
import { MINILM_TOKENIZER } from '../test/helpers/shared.js';

const scratch = await mkdtemp(join(tmpdir(), 'sk-goldens-'));
const out: Record<string, { dim: number; embeddings: number[][] }> = {};
try {
  for (const c of ENCODE_CASES) {
    const model = await SentenceTransformer.create({ ...c.create, tokenizerDir: MINILM_TOKENIZER });
    const dir = join(scratch, c.name);
    if (c.includePrompt === false) {
      const p = model.pooling as Pooling;
      const idx = model.modules.findIndex((m) => m.module === p);
      model.modules[idx] = { ...model.modules[idx], module: new Pooling(p.wordEmbeddingDimension, p.modes, false) };
    }
    await model.save(dir);
    const texts = c.prompt ? ENCODE_TEXTS.map((t) => c.prompt + t) : ENCODE_TEXTS;
    const enc = model.tokenizer.encodeBatch(texts);
    // one padded batch of all texts, then the same texts one by one: padding must not matter
    const batch = model.tokenizer.pad(enc);
    const rows = (a: BigInt64Array, s: number): number[][] => Array.from({ length: a.length / s }, (_, r) => Array.from(a.subarray(r * s, (r + 1) * s), Number));
    const ids = {
      batches: [{ input_ids: rows(batch.inputIds, batch.seqLen), attention_mask: rows(batch.attentionMask, batch.seqLen), token_type_ids: rows(batch.tokenTypeIds, batch.seqLen) }],
      prompt_length: c.prompt && c.includePrompt === false ? model.tokenizer.encode(c.prompt).ids.length - 1 : null,
    };
    await writeFile(join(dir, 'ids.json'), JSON.stringify(ids));
    execFileSync('/usr/bin/python3', ['scripts/reference/st_reference.py', '--model', dir, '--ids', join(dir, 'ids.json'), '--out', join(dir, 'out.json')], { stdio: 'inherit' });
    const ref = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')) as { sentence_embedding: number[][] };
    out[c.name] = { dim: ref.sentence_embedding[0].length, embeddings: ref.sentence_embedding.map((r) => r.map((x) => +x.toPrecision(9))) };
    process.stderr.write(`${c.name}: ${ref.sentence_embedding.length} × ${ref.sentence_embedding[0].length}\n`);
  }
  await writeFile('test/fixtures/encode_goldens.json', JSON.stringify({ note: 'float64 PyTorch reference embeddings (scripts/reference/st_reference.py) for test/fixtures/encode_cases.ts', cases: out }) + '\n');
} finally {
  await rm(scratch, { recursive: true, force: true });
}
