// The web page in a real browser: Debian's chromium, headless, driven by playwright-core. It
// loads the page from the server, compares two sentences (the score equals the cosine of
// encode's vectors), types a query into the search box and gets scored hits with the matching
// chunk highlighted in its document, sees live figures and the model card, and saves a
// screenshot to test-artifacts/serve-page.png. Skips with a message when chromium is absent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { removeTinyModel, serveTiny } from './helpers/serve.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = sharedMissing(MINILM_TOKENIZER) || (existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it); skipped`);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('web page: compare two sentences, search with highlighted hits, live figures, model card, screenshot', { skip, timeout: 120_000 }, async () => {
  const s = await serveTiny();
  const profile = await mkdtemp(join(tmpdir(), 'sk-chromium-'));
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
