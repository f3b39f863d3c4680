// The web page in a real browser: Debian's chromium, headless, driven by playwright-core. It
// loads the page from the server, compares two sentences (the score equals the cosine of
// encode's vectors), types a query into the search box and gets scored hits with the matching
// chunk highlighted in its document, sees live figures and the model card, and saves a
// screenshot to test-artifacts/serve-page.png. Skips with a message when chromium is absent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { openIndex } from '../src/index/index.js';
import { buildTinyIndex, removeTinyModel, serveTiny } from './helpers/serve.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = sharedMissing(MINILM_TOKENIZER) || (existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it); skipped`);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('web page: compare two sentences, search with highlighted hits, live figures, model card, screenshot', { skip, timeout: 120_000 }, async () => {
  const profile = await mkdtemp(join(tmpdir(), 'sk-chromium-'));
  // two documents, each split into chunks of at most 12 tokens (doc_id, start, end)
  const docs = [
    { _id: 'music', text: 'The band played late into the night. A man is playing a guitar on the stage. The crowd sang along to every song. Nobody wanted to leave.' },
    { _id: 'pets', text: 'Our cat sleeps on the warm mat all day. The dog runs fast in the park. Birds sing loudly in the early morning.' },
  ];
  await writeFile(join(profile, 'corpus.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  await buildTinyIndex(join(profile, 'index'), join(profile, 'corpus.jsonl'), 12);
  const s = await serveTiny({ index: await openIndex(join(profile, 'index'), { threads: 1 }), indexDir: join(profile, 'index') });
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1200, height: 900 } });
  try {
    const page = browser.pages()[0] ?? await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(s.url + '/');
    await page.waitForFunction(() => document.getElementById('model')?.textContent?.includes('dimensions'));
    assert.match(await page.textContent('#model') ?? '', /tiny · 16 dimensions/);

    await page.fill('#s1', 'A man is playing a guitar.');
    await page.fill('#s2', 'Someone plays music.');
    await page.click('#compare-form button');
    await page.waitForFunction(() => /cosine similarity/.test(document.getElementById('compare-result')?.textContent ?? ''));
    const shown = Number(/(-?[\d.]+)$/.exec(await page.textContent('#compare-result') ?? '')![1]);
    const [a, b] = await s.reference.encode(['A man is playing a guitar.', 'Someone plays music.'], { normalize: true });
    const cos = a.reduce((acc, x, i) => acc + x * b[i], 0);
    assert.ok(Math.abs(shown - cos) < 1e-4, `page shows ${shown}, cosine is ${cos}`);

    await page.waitForFunction(() => (document.querySelector('#metrics tbody')?.children.length ?? 0) > 3);
    assert.match(await page.textContent('#metrics') ?? '', /requests answered/);
    assert.match(await page.textContent('#card') ?? '', /tiny|dimension/);

    const query = 'A man is playing a guitar on the stage.';
    await page.fill('#query', query);
    await page.press('#query', 'Enter');
    await page.waitForFunction(() => (document.getElementById('search-status')?.textContent ?? '').includes('hits'));
    // the hits come first; each document around its chunk is filled in by a second request
    await page.waitForFunction(() => document.querySelector('#hits li mark') !== null && (document.querySelector('#hits li .doc')?.textContent ?? '').includes('Nobody wanted to leave.'), undefined, { timeout: 30_000 });
    const hits = await page.$$eval('#hits li', (lis) => lis.map((li) => ({
      id: li.querySelector('.hit-head span:last-child')?.textContent ?? '',
      score: Number(li.querySelector('.score')?.textContent),
      marked: li.querySelector('mark')?.textContent ?? '',
      doc: li.querySelector('.doc')?.textContent ?? '',
    })));
    assert.equal(hits.length, 5);
    const m = await s.reference.encodeMatrix([query]);
    const [expected] = await s.server.ctx.index!.search({ data: m.data, rows: 1, dim: m.dim }, 5);
    assert.deepEqual(hits.map((h) => h.id), expected.map((h) => h.id));
    hits.forEach((h, i) => assert.ok(Math.abs(h.score - expected[i].score) < 1e-4));
    assert.equal(hits[0].marked, query, 'the matching chunk is highlighted');
    assert.ok(hits[0].doc.includes('The band played late into the night.') && hits[0].doc.includes('Nobody wanted to leave.'), `the whole document is shown around it: ${hits[0].doc}`);
    await mkdir(resolve('test-artifacts'), { recursive: true });
    await page.screenshot({ path: resolve('test-artifacts', 'serve-page.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await rm(profile, { recursive: true, force: true });
    await s.close();
    await removeTinyModel();
  }
});
