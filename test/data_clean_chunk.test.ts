// Tests for src/data/clean.ts (HTML to text, control characters, NFC/NFKC, whitespace, the
// per-step report) and src/data/chunk.ts (sentence splitting, token-bounded chunks with the
// real all-MiniLM-L6-v2 tokenizer from ../shared: every chunk within maxTokens, offsets that
// slice back to the text, overlap, sentence and word boundaries, MS MARCO passages).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import {
  chunkDocuments,
  chunkText,
  cleanExamples,
  cleanText,
  htmlToText,
  newChunkStats,
  splitSentences,
  streamDataset,
  type Chunk,
  type Example,
} from '../src/data/index.js';
import { Tokenizer } from '../src/tokenizers/index.js';
import { MINILM_TOKENIZER, SHARED, sharedMissing } from './helpers/shared.js';

const CORPUS = resolve(SHARED, 'data', 'msmarco', 'corpus.jsonl');

// ---------------------------------------------------------------- cleaning

const PAGE = `<!DOCTYPE html>
<html><head><title>Caf&eacute; &amp; Bar</title>
<style>p { color: red }</style>
<script>document.write("<p>not text</p>")</script></head>
<body>
  <h1>Menu &lt;today&gt;</h1>
  <p>Fresh   coffee,
     <b>hot</b> tea&nbsp;&amp; <i>cake</i> &#8212; all day.</p>
  <div>Open<br>Monday&ndash;Friday</div>
  <!-- hidden comment -->
  <ul><li>Espresso</li><li>Latte</li></ul>
  <table><tr><th>Item</th><td>Price</td></tr><tr><td>Tea</td><td>&euro;2</td></tr></table>
  <noscript>Please enable JavaScript</noscript>
  Closing words
</body></html>`;

test('htmlToText: scripts, styles and comments dropped, entities decoded, blocks on their own lines', () => {
  assert.equal(
    htmlToText(PAGE),
    [
      'Café & Bar',
      'Menu <today>',
      'Fresh coffee, hot tea\u00a0& cake — all day.',
      'Open',
      'Monday–Friday',
      'Espresso',
      'Latte',
      'Item\tPrice',
      'Tea\t€2',
      'Closing words',
    ].join('\n'),
  );
  assert.equal(htmlToText('plain <b>bold</b>text'), 'plain boldtext');
  assert.equal(htmlToText(''), '');
  assert.equal(htmlToText('<p>unclosed <i>tags'), 'unclosed tags');
});

test('cleanText: each step optional; HTML only when asked; NFC vs NFKC; control characters; whitespace', () => {
  assert.equal(cleanText('  a <b>b</b>\n\n c  '), 'a <b>b</b> c', 'default: no HTML parsing, whitespace folded');
  assert.equal(cleanText(PAGE, { html: true }).startsWith('Café & Bar Menu <today> Fresh coffee, hot tea & cake'), true);
  assert.equal(cleanText(PAGE, { html: true, whitespace: 'keep-newlines' }).split('\n')[1], 'Menu <today>');

  const decomposed = 'Cafe\u0301 \uFB01le \uFF21\u00B2';
  assert.equal(cleanText(decomposed), 'Café \uFB01le \uFF21\u00B2', 'NFC composes only');
  assert.equal(cleanText(decomposed, { normalize: 'NFKC' }), 'Café file A2', 'NFKC also folds compatibility forms');
  assert.equal(cleanText(decomposed, { normalize: false }), decomposed);

  assert.equal(cleanText('a\u0000b\u0007c\u009Fd\uFEFFe\tf'), 'abcde f');
  assert.equal(cleanText('a\u0000b', { controlChars: false, whitespace: false }), 'a\u0000b');
  assert.equal(cleanText(' one \r\n\r\n\r\n two  three \n', { whitespace: 'keep-newlines' }), 'one\n\ntwo three');
  assert.equal(cleanText(' x ', { whitespace: false }), ' x ');
  assert.throws(() => cleanText('x', { normalize: 'NFD' as never }), /normalize must be 'NFC', 'NFKC' or false/);
});

test('cleanExamples reports how many texts each step changed; labels and ids are kept', () => {
  const examples: Example[] = [
    { texts: ['<p>Hello &amp; welcome</p>', 'plain'], label: 1 },
    { texts: ['e\u0301t\u00e9', 'tab\there'], label: 0, id: 'x' },
    { texts: ['<script>only()</script>', 'ctrl\u0001char'] },
    { texts: ['unchanged', 'also unchanged'] },
  ];
  const { examples: out, report } = cleanExamples(examples, { html: true });
  assert.deepEqual(out, [
    { texts: ['Hello & welcome', 'plain'], label: 1 },
    { texts: ['été', 'tab here'], label: 0, id: 'x' },
    { texts: ['', 'ctrlchar'] },
    { texts: ['unchanged', 'also unchanged'] },
  ]);
  // the HTML step already collapses the tab (as a browser would), so the whitespace step finds nothing left
  assert.deepEqual(report, {
    texts: 8,
    changed: { html: 3, controlChars: 1, normalize: 1, whitespace: 0 },
    emptied: 1,
    examplesChanged: 3,
  });
  const plain = cleanExamples(examples);
  assert.deepEqual(plain.report.changed, { html: 0, controlChars: 1, normalize: 1, whitespace: 1 });
  assert.equal(plain.report.emptied, 0);
  assert.equal(plain.examples[2]!.texts[0], '<script>only()</script>');
  assert.equal(examples[0]!.texts[0], '<p>Hello &amp; welcome</p>', 'input untouched');
});

// ---------------------------------------------------------------- sentences

test('splitSentences: Intl.Segmenter sentences, abbreviations and initials kept together, offsets trimmed', () => {
  const text = 'Mr. Smith met Dr. J. Doe on Jan. 5 at 3 p.m. in the U.S. office.  "Really?" she asked.\nHeading\nVersion 1.2.3 is out, e.g. today. Done!';
  const sentences = splitSentences(text).map((s) => text.slice(s.start, s.end));
  assert.deepEqual(sentences, [
    'Mr. Smith met Dr. J. Doe on Jan. 5 at 3 p.m. in the U.S. office.',
    '"Really?" she asked.',
    'Heading',
    'Version 1.2.3 is out, e.g. today.',
    'Done!',
  ]);
  assert.deepEqual(splitSentences('   \n  '), []);
});

// ---------------------------------------------------------------- chunking with the real tokenizer

let tokenizer: Tokenizer | undefined;
async function minilm(): Promise<Tokenizer> {
  tokenizer ??= await Tokenizer.fromDir(MINILM_TOKENIZER);
  return tokenizer;
}

/** Invariants every chunking must keep. */
function checkChunks(doc: string, chunks: Chunk[], tok: Tokenizer, maxTokens: number, overlapTokens: number): void {
  let prev: Chunk | undefined;
  chunks.forEach((c, i) => {
    assert.equal(c.chunkIndex, i);
    assert.equal(doc.slice(c.start, c.end), c.text, `chunk ${i}: offsets slice back to its text`);
    assert.equal(tok.countTokens(c.text), c.tokens, `chunk ${i}: token count`);
    assert.ok(c.tokens <= maxTokens, `chunk ${i}: ${c.tokens} tokens > ${maxTokens}`);
    assert.equal(c.text, c.text.trim(), `chunk ${i}: no surrounding whitespace`);
    if (prev !== undefined) {
      assert.ok(c.start > prev.start && c.end > prev.end, `chunk ${i} moves forward`);
      if (c.start < prev.end) {
        const overlap = doc.slice(c.start, prev.end);
        assert.ok(tok.countTokens(overlap) - tok.numSpecialTokens <= overlapTokens, `chunk ${i}: overlap ${JSON.stringify(overlap)} too long`);
      } else {
        assert.equal(doc.slice(prev.end, c.start).trim(), '', `chunk ${i}: nothing skipped between chunks`);
      }
    }
    prev = c;
  });
  if (chunks.length > 0) {
    assert.equal(doc.slice(0, chunks[0]!.start).trim(), '', 'nothing skipped at the start');
    assert.equal(doc.slice(chunks[chunks.length - 1]!.end).trim(), '', 'nothing skipped at the end');
  }
}

function makeDocument(): string {
  const subjects = ['The committee', 'A small team of engineers', 'The river', 'Our oldest neighbour', 'The new library', 'Each student'];
  const verbs = ['reviewed', 'described', 'carried', 'painted', 'opened', 'counted'];
  const objects = ['the annual budget', 'a long and winding report about the harbour', 'three boats', 'the fence', 'its doors to the public', 'every single star visible that night'];
  const paragraphs: string[] = [];
  let k = 0;
  for (let p = 0; p < 6; p++) {
    const sentences: string[] = [];
    for (let s = 0; s < 7; s++, k++) {
      const end = k % 5 === 4 ? '?' : k % 7 === 3 ? '!' : '.';
      sentences.push(`${subjects[k % 6]} ${verbs[(k * 5) % 6]} ${objects[(k * 7) % 6]} on day ${k}${end}`);
    }
    paragraphs.push(sentences.join(' '));
  }
  return `${paragraphs.join('\n\n')}\n`;
}

test('chunks of a multi-paragraph document: within maxTokens, whole sentences, token overlap of whole sentences', async (t) => {
  const missing = sharedMissing(MINILM_TOKENIZER);
  if (missing) return t.skip(missing);
  const tok = await minilm();
  const doc = makeDocument();
  const sentences = splitSentences(doc);
  assert.equal(sentences.length, 42);
  const starts = new Set(sentences.map((s) => s.start));
  const ends = new Set(sentences.map((s) => s.end));
  const stats = newChunkStats();
  const maxTokens = 64;
  const overlapTokens = 20;
  // every sentence fits in the overlap, so the overlap can always be whole sentences
  for (const s of sentences) assert.ok(tok.countTokens(doc.slice(s.start, s.end)) - tok.numSpecialTokens <= overlapTokens);
  const chunks = chunkText(doc, tok, { maxTokens, overlapTokens, sourceId: 'doc-1', stats });
  assert.ok(chunks.length >= 8, `${chunks.length} chunks`);
  checkChunks(doc, chunks, tok, maxTokens, overlapTokens);
  for (const c of chunks) {
    assert.equal(c.sourceId, 'doc-1');
    assert.ok(starts.has(c.start), `chunk ${c.chunkIndex} starts at a sentence start`);
    assert.ok(ends.has(c.end), `chunk ${c.chunkIndex} ends at a sentence end`);
    // the encoder sees the same count, with nothing truncated
    const encoded = tok.encode(c.text);
    assert.equal(encoded.ids.length, c.tokens);
    assert.equal(encoded.truncated, false);
  }
  for (let i = 1; i < chunks.length; i++) {
    assert.ok(chunks[i]!.start < chunks[i - 1]!.end, `chunks ${i - 1} and ${i} overlap`);
  }
  for (const s of sentences) {
    assert.ok(chunks.some((c) => c.start <= s.start && s.end <= c.end), `sentence at ${s.start} is inside a chunk`);
  }
  assert.deepEqual({ ...stats, chunks: 0 }, { documents: 1, chunks: 0, sentences: 42, sentencesSplit: 0, wordsSplit: 0 });
  assert.equal(stats.chunks, chunks.length);

  // without overlap: consecutive chunks meet at sentence boundaries and share nothing
  const plain = chunkText(doc, tok, { maxTokens });
  checkChunks(doc, plain, tok, maxTokens, 0);
  for (let i = 1; i < plain.length; i++) assert.ok(plain[i]!.start >= plain[i - 1]!.end);
  assert.ok(plain.length < chunks.length);

  // the tokenizer's own limit is the default budget
  const whole = chunkText(doc, tok);
  checkChunks(doc, whole, tok, tok.maxLength, 0);
  assert.ok(whole.length >= 1 && whole.length < plain.length);
});

test('an over-long sentence is split at word boundaries, an over-long word between characters', async (t) => {
  const missing = sharedMissing(MINILM_TOKENIZER);
  if (missing) return t.skip(missing);
  const tok = await minilm();
  const long = `Short opener. ${Array.from({ length: 300 }, (_, i) => `item${i}`).join(' ')} and the end. Closing sentence here.`;
  const stats = newChunkStats();
  const chunks = chunkText(long, tok, { maxTokens: 48, overlapTokens: 8, stats });
  checkChunks(long, chunks, tok, 48, 8);
  assert.equal(stats.sentencesSplit, 1);
  for (const c of chunks) {
    assert.ok(c.start === 0 || /\s/.test(long[c.start - 1]!), `chunk ${c.chunkIndex} starts after whitespace`);
    assert.ok(c.end === long.length || /\s/.test(long[c.end]!), `chunk ${c.chunkIndex} ends before whitespace`);
  }
  const overlapping = chunks.filter((c, i) => i > 0 && c.start < chunks[i - 1]!.end).length;
  assert.ok(overlapping >= chunks.length - 3, `${overlapping} of ${chunks.length - 1} pairs overlap`);

  // WordPiece turns words over 100 characters into [UNK]: use a long word below that
  const word = 'pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(2);
  const wstats = newChunkStats();
  const pieces = chunkText(word, tok, { maxTokens: 6, stats: wstats });
  checkChunks(word, pieces, tok, 6, 0);
  assert.ok(pieces.length > 2);
  assert.equal(pieces.map((p) => p.text).join(''), word);
  assert.equal(wstats.wordsSplit, 1);
});

test('chunkDocuments streams MS MARCO passages within the budget; chunk indices restart per document', async (t) => {
  const missing = sharedMissing(MINILM_TOKENIZER, CORPUS);
  if (missing) return t.skip(missing);
  const tok = await minilm();
  const texts = new Map<string, string>();
  const docs = (async function* () {
    for await (const ex of streamDataset({ path: CORPUS, format: 'beir-corpus' }, { limit: 600 })) {
      texts.set(ex.id!, ex.texts[0]!);
      yield { id: ex.id!, text: ex.texts[0]! };
    }
  })();
  const byDoc = new Map<string, Chunk[]>();
  const stats = newChunkStats();
  for await (const c of chunkDocuments(docs, tok, { maxTokens: 40, overlapTokens: 10, stats })) {
    let list = byDoc.get(c.sourceId);
    if (list === undefined) byDoc.set(c.sourceId, (list = []));
    list.push(c);
  }
  assert.equal(stats.documents, 600);
  assert.equal(byDoc.size, 600);
  assert.ok(stats.chunks > 600, `${stats.chunks} chunks`);
  for (const [id, chunks] of byDoc) checkChunks(texts.get(id)!, chunks, tok, 40, 10);
});

test('chunking: empty documents give no chunks; bad options are refused with the allowed range', async (t) => {
  const missing = sharedMissing(MINILM_TOKENIZER);
  if (missing) return t.skip(missing);
  const tok = await minilm();
  assert.deepEqual(chunkText('', tok), []);
  assert.deepEqual(chunkText('  \n\t ', tok), []);
  assert.throws(() => chunkText('x', tok, { maxTokens: 2 }), /maxTokens must be an integer above the tokenizer's 2 special tokens, got 2/);
  assert.throws(() => chunkText('x', tok, { maxTokens: 10, overlapTokens: 8 }), /overlapTokens must be a whole number from 0 to 7/);
  await assert.rejects(async () => {
    for await (const _ of chunkDocuments([{ id: 'a', text: 5 as unknown as string }], tok)) void _;
  }, /document 1 must be \{ id, text \}/);
});

test('chunking with a stand-in token counter (no tokenizer files needed)', () => {
  // one token per word, no special tokens: the arithmetic is easy to follow
  const counter = { countTokens: (s: string) => (s.match(/\S+/g) ?? []).length + 2, numSpecialTokens: 2, maxLength: 512 };
  const doc = 'One two three. Four five. Six seven eight nine. Ten.';
  const chunks = chunkText(doc, counter, { maxTokens: 8, overlapTokens: 2 });
  // "Four five." (2 tokens) is repeated whole; "Six seven eight nine." (4) is longer than the
  // overlap, so only its last words are
  assert.deepEqual(chunks.map((c) => c.text), ['One two three. Four five.', 'Four five. Six seven eight nine.', 'eight nine. Ten.']);
  assert.deepEqual(chunks.map((c) => c.tokens), [7, 8, 5]);
});
