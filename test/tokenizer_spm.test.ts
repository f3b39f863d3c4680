/**
 * XLM-RoBERTa's SentencePiece tokenizer.json (Precompiled / Nmt normalizers, Metaspace, Unigram)
 * against the Rust tokenizers: test/fixtures/xlmr-spm-tokenizer is a small nmt_nfkc Unigram model
 * saved by the real transformers, and test/fixtures/xlmr_spm_goldens.json holds the Rust ids of
 * ~300 texts (STS-B dev lines and hard cases) for four tokenizer.json shapes, plus truncated ids
 * and padded batches (both made by scripts/reference/train_spm_tokenizer.py). Also: random
 * strings against the live Rust binding (npm `tokenizers`), damaged charsmaps, and a tiny
 * XLM-RoBERTa model with this tokenizer, created, encoded, saved and reloaded end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { Tokenizer } from '../src/tokenizers/index.js';

interface Variant {
  patch: Record<string, unknown>;
  ids: number[][];
  truncated?: number[][];
  batches?: { input_ids: number[][]; attention_mask: number[][] }[];
}
interface Goldens {
  texts: string[];
  truncate_at: number;
  batch: number;
  variants: Record<string, Variant>;
}
interface OracleTokenizer {
  encodeBatch(texts: string[]): Promise<{ getIds(): number[] }[]>;
}

const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;
const SPM_DIR = join(FIXTURES, 'xlmr-spm-tokenizer');
const SAME_CHARSMAP = '<the precompiled_charsmap of the saved tokenizer.json>';
const goldens = JSON.parse(await readFile(join(FIXTURES, 'xlmr_spm_goldens.json'), 'utf8')) as Goldens;
const savedText = await readFile(join(SPM_DIR, 'tokenizer.json'), 'utf8');
const saved = JSON.parse(savedText) as { normalizer: { precompiled_charsmap: string } } & Record<string, unknown>;
const require = createRequire(import.meta.url);

/** A tokenizer folder whose tokenizer.json is the fixture's with the given top-level keys replaced. */
async function folderWith(patch: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sk-spm-'));
  const charsmap = JSON.stringify(saved.normalizer.precompiled_charsmap);
  const resolved = JSON.parse(JSON.stringify(patch).replaceAll(JSON.stringify(SAME_CHARSMAP), charsmap)) as Record<string, unknown>;
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ ...saved, ...resolved }));
  await copyFile(join(SPM_DIR, 'tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
  return dir;
}

function assertIds(tok: Tokenizer, texts: string[], expected: number[][], label: string): void {
  assert.equal(expected.length, texts.length);
  texts.forEach((text, i) => assert.deepEqual(tok.encode(text).ids, expected[i], `${label}: ids differ for text ${i} ${JSON.stringify(text)}`));
}

/** Seeded strings over characters the normalizers, the grapheme rule and added tokens treat specially. */
function randomTexts(n: number, seed: number): string[] {
  const alphabet = [
    ...'abcdefghij ABC  xyz0123.,!?éèñüßÅ', '\u0301', '\u0308', '\u200b', '\u200d', '\ufeff', '\u00a0', '\u3000', '\t', '\n', '\r',
    '\x01', '\x7f', '\x85', '\x00', '\u2581', 'ｆ', 'Ａ', '１', '①', 'ﬁ', '™', '㎏', 'ｶ', 'ﾞ', 'ﾟ', '中', '文', '日', '한', '\u1100', '\u1161',
    'क', '्', 'ष', 'ि', 'ก', 'ำ', '่', '😀', '👍', '🏽', '🇫', '🇷', '\ufe0f', '❤', '<mask>', '<s>', 'Σ', 'İ', '\ufffd', '\u2028', '\u00ad',
    '\u0600', '\u2066', '\ud800', '\udfff',
  ];
  let state = seed >>> 0;
  const next = (): number => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    for (let j = 1 + Math.floor(next() * 14); j > 0; j--) s += alphabet[Math.floor(next() * alphabet.length)];
    out.push(s);
  }
  return out;
}

for (const [index, [name, variant]] of Object.entries(goldens.variants).entries()) {
  test(`SentencePiece tokenizer.json (${name}): ids equal the Rust tokenizers' for every golden text and random strings`, async () => {
    const dir = await folderWith(variant.patch);
    try {
      const tok = await Tokenizer.fromDir(dir, { maxLength: 100_000 });
      assertIds(tok, goldens.texts, variant.ids, name);
      // the live Rust binding on strings no one chose
      const mod = require('tokenizers') as { Tokenizer: { fromFile(path: string): OracleTokenizer } };
      const texts = randomTexts(500, 7919 * (index + 1));
      assert.ok(new Set(texts).size > 450, 'the random strings repeat');
      const rust = (await mod.Tokenizer.fromFile(join(dir, 'tokenizer.json')).encodeBatch(texts)).map((e) => e.getIds());
      assertIds(tok, texts, rust, `${name} (random)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('SentencePiece tokenizer: truncation and padded batches (ids and attention masks) equal transformers\'', async () => {
  const base = goldens.variants['transformers5']!;
  const truncating = await Tokenizer.fromDir(SPM_DIR, { maxLength: goldens.truncate_at });
  assertIds(truncating, goldens.texts, base.truncated!, 'truncated');
  const tok = await Tokenizer.fromDir(SPM_DIR);
  assert.equal(tok.padTokenId, 1);
  assert.equal(tok.maxLength, 128);
  base.batches!.forEach((gold, b) => {
    const texts = goldens.texts.slice(b * goldens.batch, (b + 1) * goldens.batch);
    const batch = tok.tokenizeBatch(texts);
    assert.equal(batch.batchSize, gold.input_ids.length);
    assert.equal(batch.seqLen, gold.input_ids[0]!.length, `batch ${b}: padded length`);
    assert.deepEqual(Array.from(batch.inputIds, Number), gold.input_ids.flat(), `batch ${b}: input ids`);
    assert.deepEqual(Array.from(batch.attentionMask, Number), gold.attention_mask.flat(), `batch ${b}: attention mask`);
  });
});

test('added tokens: a normalized one matches the normalized text, lstrip/rstrip ones take White_Space (as in Rust)', async () => {
  const added = [
    ...(goldens.variants['hub']!.patch['added_tokens'] as unknown[]),
    { id: 2002, content: 'ｈｅｌｌｏ', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
    { id: 2003, content: '<sep>', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
  ];
  // the Hub shape: no WhitespaceSplit, which would hide what lstrip/rstrip take
  const dir = await folderWith({ ...goldens.variants['hub']!.patch, added_tokens: added });
  try {
    const tok = await Tokenizer.fromDir(dir);
    const texts = ['say hello there', 'sayhellothere', 'ｈｅｌｌｏ', 'HELLO hello', 'helloworld', 'a <sep> b', 'a\x85<sep>\ufeffb', 'x \t <sep>\u3000 y', '<sep>', 'the\x85<mask>\ufeff'];
    const mod = require('tokenizers') as { Tokenizer: { fromFile(path: string): OracleTokenizer } };
    const rust = (await mod.Tokenizer.fromFile(join(dir, 'tokenizer.json')).encodeBatch(texts)).map((e) => e.getIds());
    assert.ok(rust[0]!.includes(2002) && rust[5]!.includes(2003), 'the added tokens are used');
    assertIds(tok, texts, rust, 'added tokens');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A charsmap: u32 LE trie size, the trie units, the strings blob. */
function charsmap(units: number[], blob: Uint8Array, trieSize = units.length * 4): string {
  const buf = Buffer.alloc(4 + units.length * 4 + blob.length);
  buf.writeUInt32LE(trieSize, 0);
  units.forEach((u, i) => buf.writeUInt32LE(u >>> 0, 4 + 4 * i));
  buf.set(blob, 4 + units.length * 4);
  return buf.toString('base64');
}

test('a damaged precompiled_charsmap gives an error naming tokenizer.json and what is wrong', async () => {
  const real = Buffer.from(saved.normalizer.precompiled_charsmap, 'base64');
  const cases: [string, unknown, RegExp][] = [
    ['not base64', 'not base64!', /not valid base64/],
    ['truncated', real.subarray(0, 1000).toString('base64'), /runs past the end/],
    ['too short', Buffer.from([1, 0]).toString('base64'), /fewer than the 4-byte trie size/],
    ['odd trie size', charsmap([0, 0], new Uint8Array([97, 0]), 6), /not a positive multiple of 4/],
    ['bad UTF-8', charsmap([0], new Uint8Array([0xff, 0xfe, 0])), /not valid UTF-8/],
    ['not a string', 42, /no precompiled_charsmap string/],
  ];
  for (const [label, value, why] of cases) {
    const dir = await folderWith({ normalizer: { type: 'Precompiled', precompiled_charsmap: value } });
    try {
      await assert.rejects(Tokenizer.fromDir(dir), (err: Error) => {
        assert.ok(err.message.includes(join(dir, 'tokenizer.json')), `${label}: ${err.message}`);
        assert.match(err.message, why, label);
        assert.match(err.message, /Download tokenizer\.json again/, label);
        return true;
      }, label);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  // a trie whose root points outside itself: found on the first lookups, made while loading
  const dir = await folderWith({ normalizer: { type: 'Precompiled', precompiled_charsmap: charsmap([1 << 10], new Uint8Array([0])) } });
  try {
    await assert.rejects(Tokenizer.fromDir(dir), (err: Error) => err.message.includes(join(dir, 'tokenizer.json')) && /trie lookup reached unit/.test(err.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an XLM-RoBERTa model with the real SentencePiece tokenizer: created, encoded, saved and reloaded end to end', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-spm-model-'));
  try {
    const maxSeqLength = 32;
    const model = await SentenceTransformer.create({ tokenizerDir: SPM_DIR, arch: 'xlm-roberta', hidden: 16, layers: 2, heads: 2, intermediate: 32, maxSeqLength, maxPositionEmbeddings: 64, seed: 7 });
    // what the network is fed: the Rust ids, cut to the model's length with </s> kept last
    const cut = (ids: number[]): number[] => (ids.length <= maxSeqLength ? ids : [...ids.slice(0, maxSeqLength - 1), ids[ids.length - 1]!]);
    assertIds(model.tokenizer, goldens.texts, goldens.variants['transformers5']!.ids.map(cut), 'model tokenizer');
    const texts = goldens.texts.slice(0, 48);
    const batched = await model.encodeMatrix(texts, { batchSize: 16 });
    const single = await model.encodeMatrix(texts, { batchSize: 1 });
    assert.equal(batched.data.length, texts.length * 16);
    let worst = 0;
    for (let i = 0; i < batched.data.length; i++) {
      assert.ok(Number.isFinite(batched.data[i]!), `embedding value ${i} is not finite`);
      worst = Math.max(worst, Math.abs(batched.data[i]! - single.data[i]!));
    }
    assert.ok(worst <= 1e-5, `padding changes embeddings: max |diff| ${worst}`);
    await model.save(dir);
    await model.close();
    assert.equal(await readFile(join(dir, 'tokenizer.json'), 'utf8'), savedText, 'tokenizer.json is saved unchanged');
    const back = await SentenceTransformer.load(dir, { threads: 1 });
    try {
      const again = await back.encodeMatrix(texts, { batchSize: 16 });
      let diff = 0;
      for (let i = 0; i < again.data.length; i++) diff = Math.max(diff, Math.abs(again.data[i]! - batched.data[i]!));
      assert.ok(diff <= 1e-6, `reloaded model: max |diff| ${diff}`);
    } finally {
      await back.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
