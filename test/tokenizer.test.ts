/**
 * Tests for the tokenizer layer: takes the all-MiniLM-L6-v2 tokenizer folder and the STS-B dev
 * sentences from ../shared, and checks that the ids (with truncation at several lengths, from
 * tokenizer.json and from vocab.txt alone) equal those of the Rust Hugging Face tokenizers
 * binding, plus padding layout, empty input, saving and error messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Tokenizer } from '../src/tokenizers/index.js';

/** The parts of the Rust binding (`tokenizers` npm package) used as the reference. */
interface OracleEncoding {
  getIds(): number[];
}
interface OracleTokenizer {
  disablePadding(): void;
  disableTruncation(): void;
  setTruncation(maxLength: number): void;
  encode(text: string): Promise<OracleEncoding>;
  encodeBatch(texts: string[]): Promise<OracleEncoding[]>;
  getVocabSize(withAddedTokens?: boolean): number;
}
interface OracleModule {
  Tokenizer: { fromFile(path: string): OracleTokenizer };
}

const MODEL_DIR = resolve(process.cwd(), '../shared/models/all-MiniLM-L6-v2-tokenizer');
const STSB_FILE = resolve(process.cwd(), '../shared/data/stsb/sts-dev.csv');
const HAVE_MODEL = existsSync(join(MODEL_DIR, 'tokenizer.json'));
const HAVE_DATA = existsSync(STSB_FILE);
const MODEL_ABSENT = 'tokenizer folder ../shared/models/all-MiniLM-L6-v2-tokenizer absent';
const DATA_ABSENT = 'STS-B dev set ../shared/data/stsb/sts-dev.csv absent';

const require = createRequire(import.meta.url);

function oracle(maxLength: number | null): OracleTokenizer {
  const mod = require('tokenizers') as OracleModule;
  const tok = mod.Tokenizer.fromFile(join(MODEL_DIR, 'tokenizer.json'));
  tok.disablePadding();
  if (maxLength === null) tok.disableTruncation();
  else tok.setTruncation(maxLength);
  return tok;
}

async function oracleIds(tok: OracleTokenizer, texts: string[]): Promise<number[][]> {
  return (await tok.encodeBatch(texts)).map((e) => e.getIds());
}

/** Both sentence columns of the STS-B dev set (fields 5 and 6; some rows carry extra fields after them). */
function stsbSentences(): string[] {
  const out: string[] = [];
  for (const line of readFileSync(STSB_FILE, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split('\t');
    out.push(fields[5] ?? '', fields[6] ?? '');
  }
  return out;
}

function assertAllEqual(actual: number[][], expected: number[][], texts: string[], label: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < texts.length; i++) {
    assert.deepEqual(actual[i], expected[i], `${label}: ids differ for sentence ${i}: ${JSON.stringify(texts[i])}`);
  }
}

const LONG_TEXT = Array.from({ length: 700 }, (_, i) => `word${i % 37} tokenization`).join(' ');

test('missing folder: the error names the folder and what to pass', async () => {
  const missing = join(tmpdir(), 'sentencekit-no-such-tokenizer-dir');
  await assert.rejects(Tokenizer.fromDir(missing), (err: Error) => {
    assert.match(err.message, /not found/);
    assert.ok(err.message.includes(missing), err.message);
    assert.match(err.message, /tokenizer\.json/);
    return true;
  });
});

test('folder without tokenizer files and broken JSON give clear errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-tok-'));
  try {
    await assert.rejects(Tokenizer.fromDir(dir), /No tokenizer files in .*expected tokenizer\.json, or vocab\.txt/);
    await writeFile(join(dir, 'tokenizer.json'), '{ "model": ');
    await assert.rejects(Tokenizer.fromDir(dir), (err: Error) => {
      assert.ok(err.message.includes(join(dir, 'tokenizer.json')), err.message);
      assert.match(err.message, /not valid JSON/);
      assert.match(err.message, /download it again/);
      return true;
    });
    await writeFile(join(dir, 'tokenizer.json'), '{}');
    await writeFile(join(dir, 'tokenizer_config.json'), 'nope');
    await assert.rejects(Tokenizer.fromDir(dir), /tokenizer_config\.json is not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('loads tokenizer.json with tokenizer_config.json settings', async (t) => {
  if (!HAVE_MODEL) return t.skip(MODEL_ABSENT);
  const tok = await Tokenizer.fromDir(MODEL_DIR);
  assert.equal(tok.maxLength, 512);
  assert.equal(tok.padTokenId, 0);
  assert.equal(tok.vocabSize, oracle(null).getVocabSize(true));
  assert.equal(tok.doLowerCase, true);
  assert.equal(tok.numSpecialTokens, 2);
  assert.equal((await Tokenizer.fromDir(MODEL_DIR, { maxLength: 128 })).maxLength, 128);
  await assert.rejects(Tokenizer.fromDir(MODEL_DIR, { maxLength: 0 }), RangeError);
  await assert.rejects(Tokenizer.fromDir(MODEL_DIR, { maxLength: 1 }), /too small/);
});

test('empty text gives [CLS] [SEP]', async (t) => {
  if (!HAVE_MODEL) return t.skip(MODEL_ABSENT);
  const tok = await Tokenizer.fromDir(MODEL_DIR);
  const cls = tok.tokenToId('[CLS]');
  const sep = tok.tokenToId('[SEP]');
  assert.deepEqual(tok.encode(''), { ids: [cls, sep], truncated: false });
  assert.deepEqual(tok.encode('').ids, (await oracle(512).encode('')).getIds());
  assert.equal(tok.countTokens(''), 2);
  assert.equal(tok.decode(tok.encode('Hello, World!').ids), 'hello, world!');
  assert.equal(tok.decode([]), '');
});

test('STS-B dev: ids equal the Rust tokenizer at max length 128 and 512', async (t) => {
  if (!HAVE_MODEL) return t.skip(MODEL_ABSENT);
  if (!HAVE_DATA) return t.skip(DATA_ABSENT);
  const texts = stsbSentences();
  assert.equal(texts.length, 3000);
  for (const maxLength of [128, 512]) {
    const tok = await Tokenizer.fromDir(MODEL_DIR, maxLength === 512 ? {} : { maxLength });
    assert.equal(tok.maxLength, maxLength);
    const started = performance.now();
    const encoded = tok.encodeBatch(texts);
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 3000, `encoding 3,000 sentences took ${elapsedMs.toFixed(0)} ms`);
    const expected = await oracleIds(oracle(maxLength), texts);
    assertAllEqual(
      encoded.map((e) => e.ids),
      expected,
      texts,
      `max ${maxLength}`,
    );
    for (let i = 0; i < texts.length; i++) {
      assert.equal(encoded[i]!.truncated, tok.countTokens(texts[i]!) > maxLength);
    }
  }
});

test('truncation to 8 matches the Rust tokenizer and sets truncated', async (t) => {
  if (!HAVE_MODEL) return t.skip(MODEL_ABSENT);
  if (!HAVE_DATA) return t.skip(DATA_ABSENT);
  const texts = [...stsbSentences(), LONG_TEXT, '', 'a'];
  const tok = await Tokenizer.fromDir(MODEL_DIR, { maxLength: 8 });
  const full = oracle(null);
  const encoded = tok.encodeBatch(texts);
  assertAllEqual(
    encoded.map((e) => e.ids),
    await oracleIds(oracle(8), texts),
    texts,
    'max 8',
  );
  const fullIds = await oracleIds(full, texts);
  let truncatedCount = 0;
  for (let i = 0; i < texts.length; i++) {
    const e = encoded[i]!;
    assert.ok(e.ids.length <= 8);
    assert.equal(e.ids[e.ids.length - 1], tok.tokenToId('[SEP]'));
    assert.equal(tok.countTokens(texts[i]!), fullIds[i]!.length);
    assert.equal(e.truncated, fullIds[i]!.length > 8, `truncated flag for ${JSON.stringify(texts[i])}`);
    if (e.truncated) truncatedCount++;
  }
  assert.ok(truncatedCount > 1000, `expected many truncated sentences, got ${truncatedCount}`);

  const long = await Tokenizer.fromDir(MODEL_DIR);
  const enc = long.encode(LONG_TEXT);
  assert.equal(enc.truncated, true);
  assert.equal(enc.ids.length, 512);
  assert.deepEqual(enc.ids, (await oracle(512).encode(LONG_TEXT)).getIds());
  assert.ok(long.countTokens(LONG_TEXT) > 512);
});

test('vocab.txt-only folder tokenizes exactly like tokenizer.json', async (t) => {
  if (!HAVE_MODEL) return t.skip(MODEL_ABSENT);
  if (!HAVE_DATA) return t.skip(DATA_ABSENT);
  const dir = await mkdtemp(join(tmpdir(), 'sk-tok-vocab-'));
  try {
    for (const f of ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
      await copyFile(join(MODEL_DIR, f), join(dir, f));
    }
    const texts = [...stsbSentences(), LONG_TEXT, '', 'Ünïcödé ÀÉÎ naïve café 東京 [MASK] [CLS] x'];
    const fromVocab = await Tokenizer.fromDir(dir, { maxLength: 128 });
    const fromJson = await Tokenizer.fromDir(MODEL_DIR, { maxLength: 128 });
    assert.equal(fromVocab.vocabSize, fromJson.vocabSize);
    assert.equal(fromVocab.padTokenId, fromJson.padTokenId);
    assert.equal(fromVocab.doLowerCase, true);
    assert.equal(fromVocab.maxLength, 128);
    assertAllEqual(
      fromVocab.encodeBatch(texts).map((e) => e.ids),
      await oracleIds(oracle(128), texts),
      texts,
      'vocab.txt',
    );
    assert.deepEqual(fromVocab.encodeBatch(texts), fromJson.encodeBatch(texts));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Deterministic strings mixing ASCII, controls, accents, Greek, Cyrillic, Indic, CJK (BMP and beyond), full-width forms, emoji. */
function mixedScriptSamples(count: number): string[] {
  const ranges: Array<[number, number]> = [
    [0x20, 0x7e], [0x00, 0x1f], [0x80, 0x2ff], [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff], [0x900, 0x97f],
    [0x2000, 0x206f], [0x3000, 0x30ff], [0x4e00, 0x4fff], [0xac00, 0xac50], [0xff00, 0xffef], [0x1f300, 0x1f6ff],
    [0x1d400, 0x1d4ff], [0xe000, 0xe010], [0xfe00, 0xfe0f], [0x20000, 0x20010], [0x2b810, 0x2b930],
  ];
  let seed = 0x9e3779b9;
  const next = (): number => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 4294967296;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    const n = 1 + Math.floor(next() * 12);
    for (let j = 0; j < n; j++) {
      const [lo, hi] = ranges[Math.floor(next() * ranges.length)]!;
      s += String.fromCodePoint(lo + Math.floor(next() * (hi - lo + 1)));
      if (next() < 0.3) s += ' ';
    }
    out.push(s);
  }
  return out;
}

test('non-ASCII text (final sigma, CJK beyond the BMP, accents, controls) matches the Rust tokenizer', async (t) => {
  if (!HAVE_MODEL) return t.skip(MODEL_ABSENT);
  const texts = [
    'ΣΑΣ Ωmega ΟΔΟΣ.',
    '갶ﾮ𠀆 ε𠀀;ओ',
    'a\u{2B81F}b a\u{2B820}b a\u{2B920}b',
    'Ünïcödé ÀÉÎ naïve café İstanbul ß ǅ ﬁ',
    'héllo\u0000wörld tab\tnew\nline\r\n a\u200bb \ufeffbom control\u0007bell \u00a0nbsp\u3000ideo',
    '😀 emoji 👍🏽 ＦＵＬＬ width 東京 こんにちは世界 مرحبا १२३ 𝔘𝔫𝔦',
    'x'.repeat(150),
    '[CLS] [sep] [MASK] don\'t "quote" — dash … ellipsis',
    ...mixedScriptSamples(3000),
  ];
  const tok = await Tokenizer.fromDir(MODEL_DIR);
  assertAllEqual(
    tok.encodeBatch(texts).map((e) => e.ids),
    await oracleIds(oracle(512), texts),
    texts,
    'mixed scripts',
  );
});

test('pad: row-major layout, right padding, mask and token types', async (t) => {
  if (!HAVE_MODEL) return t.skip(MODEL_ABSENT);
  const tok = await Tokenizer.fromDir(MODEL_DIR);
  const texts = ['A man is playing a guitar.', '', 'Hi', 'The quick brown fox jumps over the lazy dog near the river bank.'];
  const encoded = tok.encodeBatch(texts);
  const batch = tok.pad(encoded);
  const seqLen = Math.max(...encoded.map((e) => e.ids.length));
  assert.equal(batch.batchSize, 4);
  assert.equal(batch.seqLen, seqLen);
  for (const arr of [batch.inputIds, batch.attentionMask, batch.tokenTypeIds]) {
    assert.ok(arr instanceof BigInt64Array);
    assert.equal(arr.length, 4 * seqLen);
  }
  assert.ok(batch.lengths instanceof Int32Array);
  for (let r = 0; r < 4; r++) {
    const ids = encoded[r]!.ids;
    assert.equal(batch.lengths[r], ids.length);
    for (let j = 0; j < seqLen; j++) {
      const k = r * seqLen + j;
      if (j < ids.length) {
        assert.equal(batch.inputIds[k], BigInt(ids[j]!));
        assert.equal(batch.attentionMask[k], 1n);
      } else {
        assert.equal(batch.inputIds[k], BigInt(tok.padTokenId));
        assert.equal(batch.attentionMask[k], 0n);
      }
      assert.equal(batch.tokenTypeIds[k], 0n);
    }
  }
  assert.deepEqual(tok.tokenizeBatch(texts), batch);
  const empty = tok.pad([]);
  assert.equal(empty.batchSize, 0);
  assert.equal(empty.seqLen, 0);
  assert.equal(empty.inputIds.length, 0);
});

test('saveTo writes the four files atomically and reloads to the same ids', async (t) => {
  if (!HAVE_MODEL) return t.skip(MODEL_ABSENT);
  const out = await mkdtemp(join(tmpdir(), 'sk-tok-save-'));
  const vocabOnly = await mkdtemp(join(tmpdir(), 'sk-tok-vonly-'));
  try {
    const names = ['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];
    const texts = ['A man is playing a guitar.', '', 'naïve café', LONG_TEXT];
    const tok = await Tokenizer.fromDir(MODEL_DIR);
    await tok.saveTo(join(out, 'nested', 'copy'));
    const saved = join(out, 'nested', 'copy');
    assert.deepEqual(readdirSync(saved).sort(), names);
    for (const f of names) {
      assert.ok(readFileSync(join(saved, f)).equals(readFileSync(join(MODEL_DIR, f))), `${f} differs from the source`);
    }
    const reloaded = await Tokenizer.fromDir(saved);
    assert.deepEqual(reloaded.encodeBatch(texts), tok.encodeBatch(texts));
    assert.equal(reloaded.maxLength, tok.maxLength);
    await tok.saveTo(saved); // overwriting an existing save works and leaves no temporary files
    assert.deepEqual(readdirSync(saved).sort(), names);

    // A vocab.txt-only tokenizer saves a tokenizer.json that the Rust tokenizer reads with the same results.
    await copyFile(join(MODEL_DIR, 'vocab.txt'), join(vocabOnly, 'vocab.txt'));
    await copyFile(join(MODEL_DIR, 'tokenizer_config.json'), join(vocabOnly, 'tokenizer_config.json'));
    const fromVocab = await Tokenizer.fromDir(vocabOnly);
    const saved2 = join(out, 'from-vocab');
    await fromVocab.saveTo(saved2);
    assert.deepEqual(readdirSync(saved2).sort(), names);
    const specialMap = JSON.parse(readFileSync(join(saved2, 'special_tokens_map.json'), 'utf8')) as Record<string, string>;
    assert.equal(specialMap['cls_token'], '[CLS]');
    assert.equal(specialMap['pad_token'], '[PAD]');
    const mod = require('tokenizers') as OracleModule;
    const rust = mod.Tokenizer.fromFile(join(saved2, 'tokenizer.json'));
    rust.setTruncation(512);
    assertAllEqual(
      (await Tokenizer.fromDir(saved2)).encodeBatch(texts).map((e) => e.ids),
      await oracleIds(rust, texts),
      texts,
      'saved vocab.txt tokenizer',
    );
    assert.deepEqual((await Tokenizer.fromDir(saved2)).encodeBatch(texts), tok.encodeBatch(texts));
  } finally {
    await rm(out, { recursive: true, force: true });
    await rm(vocabOnly, { recursive: true, force: true });
  }
});
