// Interop with the real sentence-transformers: model folders saved by 6.0.1 (every pooling
// mode, Dense, Normalize, prompts with default_prompt_name and include_prompt false, the
// 3.x-5.x do_lower_case flag over a cased tokenizer, pytorch_model.bin weights, StaticEmbedding,
// the 2.x layout; made by scripts/reference/make_interop_fixtures.py) load here with embeddings
// within 1e-5 of Python's on 320 sentences (long, accented, CJK, emoji, empty), and loading
// rewrites nothing. Saving them in each format and loading again gives the same embeddings;
// the reverse direction (Python loading our folders) is scripts/reference/check_interop_reverse.py.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { SentenceTransformer, type EncodeOptions } from '../src/models/sentence_transformer.js';
import { readNpy } from '../src/io/npy.js';
import { isV6TypeName, type StFormat } from '../src/models/st_format.js';

const FIX = resolve('test', 'fixtures', 'interop');
const SENTENCES = JSON.parse(readFileSync(join(FIX, 'sentences.json'), 'utf8')) as string[];
const TOL = 1e-5;

interface Case { name: string; format: string; golden?: string; opts?: EncodeOptions }
const CASES: Case[] = [
  { name: 'st6_mean_normalize', format: 'sentence-transformers 6.x' },
  { name: 'st6_cls_max_dense', format: 'sentence-transformers 6.x' },
  { name: 'st6_mean_sqrt_len', format: 'sentence-transformers 6.x' },
  { name: 'st6_weightedmean', format: 'sentence-transformers 6.x' },
  { name: 'st6_lasttoken', format: 'sentence-transformers 6.x' },
  { name: 'st6_prompts', format: 'sentence-transformers 6.x' },
  { name: 'st6_prompts', format: 'sentence-transformers 6.x', golden: 'st6_prompts.golden_query', opts: { promptName: 'query' } },
  { name: 'st6_prompts', format: 'sentence-transformers 6.x', golden: 'st6_prompts.golden_passage', opts: { promptName: 'passage' } },
  { name: 'st6_prompts', format: 'sentence-transformers 6.x', golden: 'st6_prompts.golden_empty', opts: { promptName: 'empty' } },
  { name: 'st6_prompts', format: 'sentence-transformers 6.x', golden: 'st6_prompts.golden_noprompt', opts: { prompt: '' } },
  { name: 'st6_cased', format: 'sentence-transformers 6.x' },
  { name: 'v3_lowercase', format: 'sentence-transformers 3.x-5.x' },
  { name: 'st6_pytorch_bin', format: 'sentence-transformers 6.x' },
  { name: 'v2_layout', format: 'sentence-transformers 2.x' },
  { name: 'st6_static', format: 'sentence-transformers 6.x' },
  { name: 'st6_static_bin', format: 'sentence-transformers 6.x' },
];

async function digest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(await readFile(p)).digest('hex');
    }
  };
  await walk(dir);
  return out;
}

async function maxDiff(model: SentenceTransformer, golden: string, opts: EncodeOptions = {}): Promise<number> {
  const g = await readNpy(join(FIX, `${golden}.npy`));
  const m = await model.encodeMatrix(SENTENCES, { batchSize: 32, ...opts });
  assert.deepEqual([m.rows, m.dim], g.shape);
  let d = 0;
  for (let i = 0; i < g.data.length; i++) d = Math.max(d, Math.abs(m.data[i] - g.data[i]));
  return d;
}

test('folders saved by sentence-transformers 6.0.1 (and the 2.x layout) give Python\'s embeddings; loading changes no file', async () => {
  assert.ok(SENTENCES.length >= 300);
  const models = new Map<string, SentenceTransformer>();
  try {
    for (const c of CASES) {
      const dir = join(FIX, c.name);
      let model = models.get(c.name);
      const before = await digest(dir);
      if (!model) {
        model = await SentenceTransformer.load(dir, { threads: 1 });
        models.set(c.name, model);
      }
      assert.equal(model.info().format, c.format, c.name);
      const d = await maxDiff(model, c.golden ?? `${c.name}.golden`, c.opts);
      assert.ok(d <= TOL, `${c.golden ?? c.name}: max |diff| ${d} > ${TOL}`);
      assert.deepEqual(await digest(dir), before, `${c.name}: loading changed files`);
    }
    // the flag matters: the same weights without it give other embeddings
    assert.ok((await maxDiff(models.get('v3_lowercase')!, 'st6_cased.golden')) > 1e-2);
    assert.equal(models.get('st6_prompts')!.defaultPromptName, 'query');
    assert.equal(models.get('st6_mean_normalize')!.maxSeqLength, 48);
  } finally {
    for (const m of models.values()) await m.close();
  }
});

const SAVE_CASES: Array<{ name: string; formats: StFormat[] }> = [
  { name: 'st6_mean_normalize', formats: ['v3', 'v6', 'v2'] },
  { name: 'st6_cls_max_dense', formats: ['v6'] },
  { name: 'st6_mean_sqrt_len', formats: ['v3'] },
  { name: 'st6_weightedmean', formats: ['v3'] },
  { name: 'st6_lasttoken', formats: ['v3', 'v6'] },
  { name: 'st6_prompts', formats: ['v3', 'v6'] },
  { name: 'v3_lowercase', formats: ['v3', 'v6'] },
  { name: 'st6_pytorch_bin', formats: ['v3', 'v2'] },
  { name: 'v2_layout', formats: ['v3', 'v2', 'v6'] },
  { name: 'st6_static', formats: ['v3', 'v6'] },
  { name: 'st6_static_bin', formats: ['v3', 'v2'] },
];

test('saved in each format and loaded again: the same embeddings; the default format is v3 unless the model needs v6', async () => {
  const root = await mkdtemp(join(tmpdir(), 'sk-interop-'));
  try {
    for (const c of SAVE_CASES) {
      const model = await SentenceTransformer.load(join(FIX, c.name), { threads: 1 });
      const want = await model.encodeMatrix(SENTENCES, { batchSize: 32 });
      await model.close();
      for (const format of [...c.formats, undefined]) {
        const out = join(root, `${c.name}-${format ?? 'default'}`);
        await model.save(out, format ? { format } : {});
        const back = await SentenceTransformer.load(out, { threads: 1 });
        try {
          const got = await back.encodeMatrix(SENTENCES, { batchSize: 32 });
          let d = 0;
          for (let i = 0; i < want.data.length; i++) d = Math.max(d, Math.abs(got.data[i] - want.data[i]));
          assert.ok(d <= 1e-6, `${c.name} saved as ${format ?? 'default'}: max |diff| ${d}`);
          const expected = format ?? (c.name === 'st6_cls_max_dense' ? 'v6' : 'v3');
          assert.equal(back.info().format, expected === 'v6' ? 'sentence-transformers 6.x' : 'sentence-transformers 3.x-5.x', `${c.name} ${format ?? 'default'}`);
          assert.equal(model.defaultFormat(), c.name === 'st6_cls_max_dense' ? 'v6' : 'v3');
          const modules = JSON.parse(await readFile(join(out, 'modules.json'), 'utf8')) as Array<{ type: string }>;
          for (const m of modules) assert.equal(isV6TypeName(m.type), expected === 'v6', m.type);
          // v2: pytorch_model.bin only; v3 and v6: model.safetensors
          assert.equal(existsSync(join(out, 'pytorch_model.bin')), expected === 'v2', `${c.name} ${expected}`);
          assert.equal(existsSync(join(out, 'model.safetensors')), expected !== 'v2', `${c.name} ${expected}`);
        } finally {
          await back.close();
        }
      }
    }
    // the v3 layout writes only what 2.x reads, plus what the model needs
    const pool = JSON.parse(await readFile(join(root, 'st6_mean_normalize-v3', '1_Pooling', 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(pool).sort(), ['pooling_mode_cls_token', 'pooling_mode_max_tokens', 'pooling_mode_mean_sqrt_len_tokens', 'pooling_mode_mean_tokens', 'word_embedding_dimension']);
    const last = JSON.parse(await readFile(join(root, 'st6_lasttoken-v3', '1_Pooling', 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(last.pooling_mode_lasttoken, true);
    // v6 writes what 6.0.1 writes
    for (const f of ['1_Pooling/config.json', 'sentence_bert_config.json', '2_Dense/config.json', '3_Normalize/config.json']) {
      const ours = JSON.parse(await readFile(join(root, 'st6_cls_max_dense-v6', f), 'utf8')) as unknown;
      const theirs = JSON.parse(await readFile(join(FIX, 'st6_cls_max_dense', f), 'utf8')) as unknown;
      assert.deepEqual(ours, theirs, f);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
