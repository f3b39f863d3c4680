// Progress reporting when stderr is not a terminal: a plain line every N seconds (count, total,
// percentage, rate, ETA and the note: the loss and tokens/s in training), evaluation results as
// they come, a final line; the bar on a terminal; nothing with mode "off". End to end, `train`
// `encode` and `evaluate` with stderr piped print those lines (SENTENCEKIT_PROGRESS_INTERVAL=0: every step).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Progress, progressIntervalFromEnv, progressModeFromEnv, type ProgressStream } from '../src/io/progress.js';
import { cliWithEnv } from './helpers/cli.js';

function sink(isTTY: boolean): ProgressStream & { out: string } {
  const s = { isTTY, out: '', write(chunk: string): boolean { s.out += chunk; return true; } };
  return s;
}

test('not a terminal: a plain line per interval with count, total, percentage, rate, ETA and the note', () => {
  const s = sink(false);
  const p = new Progress({ total: 4, label: 'train', unit: 'steps', stream: s, intervalSeconds: 0 });
  p.tick(1, 'loss 0.5000 1200 tok/s');
  p.tick(1, 'loss 0.4000 1300 tok/s');
  p.note('eval at step 2: spearman_cosine 0.7000');
  p.tick(2);
  p.done();
  const lines = s.out.split('\n');
  assert.equal(lines.pop(), '', 'every line ends with a newline');
  assert.doesNotMatch(s.out, /\r|\x1b/, 'no terminal control characters');
  assert.equal(lines.length, 5, s.out);
  assert.match(lines[0], /^train 1\/4 steps 25% [\d.,]+ steps\/s ETA \d\d:\d\d loss 0\.5000 1200 tok\/s$/);
  assert.match(lines[1], /^train 2\/4 steps 50% .*loss 0\.4000 1300 tok\/s$/);
  assert.equal(lines[2], 'eval at step 2: spearman_cosine 0.7000');
  assert.match(lines[3], /^train 4\/4 steps 100% /);
  assert.match(lines[4], /^train 4\/4 steps 100% [\d.,]+ steps\/s in \d\d:\d\d /, 'the final line says the time taken');
});

test('not a terminal: nothing before the first interval has passed, and no final line then', () => {
  const s = sink(false);
  const p = new Progress({ total: 10, label: 'encode', unit: 'texts', stream: s, intervalSeconds: 3600 });
  for (let i = 0; i < 10; i++) p.tick(1);
  p.done();
  assert.equal(s.out, '');
  p.note('after done');
  assert.equal(s.out, 'after done\n', 'a note is printed at once');
});

test('a resumed count is shown but not part of the rate; no total gives count and elapsed time', () => {
  const s = sink(false);
  const p = new Progress({ total: 10, label: 'train', unit: 'steps', stream: s, intervalSeconds: 0, initial: 6 });
  p.tick(1);
  assert.match(s.out, /^train 7\/10 steps 70% /);
  const u = sink(false);
  new Progress({ label: 'chunk', unit: 'documents', stream: u, intervalSeconds: 0 }).tick(3);
  assert.match(u.out, /^chunk 3 documents [\d.,]+ documents\/s elapsed \d\d:\d\d\n$/);
});

test('a terminal gets the bar redrawn in place; mode "off" writes nothing', () => {
  const t = sink(true);
  const p = new Progress({ total: 2, label: 'encode', unit: 'texts', stream: t });
  p.tick(1);
  p.note('a note');
  p.done();
  assert.match(t.out, /^\rencode \[#{12}-{12}\] 1\/2 texts 50%/);
  assert.ok(t.out.includes('\r\x1b[Ka note\n'), JSON.stringify(t.out));
  assert.ok(t.out.endsWith('\n'));
  const o = sink(false);
  const q = new Progress({ total: 2, label: 'x', stream: o, mode: 'off', intervalSeconds: 0 });
  q.tick(2);
  q.note('n');
  q.done();
  assert.equal(o.out, '');
});

test('SENTENCEKIT_PROGRESS and SENTENCEKIT_PROGRESS_INTERVAL are read and checked', () => {
  assert.equal(progressModeFromEnv({}), 'auto');
  assert.equal(progressModeFromEnv({ SENTENCEKIT_PROGRESS: 'off' }), 'off');
  assert.throws(() => progressModeFromEnv({ SENTENCEKIT_PROGRESS: 'loud' }), /SENTENCEKIT_PROGRESS="loud": expected one of auto, bar, lines, off/);
  assert.equal(progressIntervalFromEnv({}), 10);
  assert.equal(progressIntervalFromEnv({ SENTENCEKIT_PROGRESS_INTERVAL: '0.5' }), 0.5);
  assert.throws(() => progressIntervalFromEnv({ SENTENCEKIT_PROGRESS_INTERVAL: '-1' }), /SENTENCEKIT_PROGRESS_INTERVAL="-1"/);
});

const TOKENIZER = new URL('../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;
const EVERY_STEP = { SENTENCEKIT_PROGRESS: '', SENTENCEKIT_PROGRESS_INTERVAL: '0' };

test('train, encode and evaluate with stderr piped print progress lines and each evaluation result', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-progress-'));
  try {
    const rows = ['sentence1,sentence2,score', 'a man plays,the man plays,0.9', 'a dog runs,a cat sleeps,0.1', 'the red ball,a blue ball,0.5', 'a woman sings,the woman plays,0.6'];
    await writeFile(join(dir, 'train.csv'), rows.join('\n') + '\n');
    await writeFile(join(dir, 'config.json'), JSON.stringify({
      model: { create: { tokenizer: TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32 } },
      train: { path: join(dir, 'train.csv'), format: 'csv' },
      eval: { path: join(dir, 'train.csv'), format: 'csv', evaluator: 'sts', name: 'dev' },
      loss: { name: 'CosineSimilarityLoss' },
      args: { maxSteps: 4, batchSize: 2, evalSteps: 2, saveSteps: null, logSteps: 1 },
      output: join(dir, 'out'),
    }));
    const r = await cliWithEnv(EVERY_STEP, 'train', '--config', join(dir, 'config.json'));
    assert.equal(r.code, 0, r.stderr);
    const steps = r.stderr.split('\n').filter((l) => l.startsWith('train '));
    assert.ok(steps.length >= 4, r.stderr);
    assert.match(steps[0], /^train 1\/4 steps 25% [\d.,]+ steps\/s ETA \d\d:\d\d loss \d+\.\d{4} lr \S+ \d+ tok\/s$/);
    assert.match(r.stderr, /^eval at step 2: dev_pearson_cosine -?\d\.\d{4}, dev_spearman_cosine/m);
    assert.match(r.stderr, /^eval at step 4: /m);

    await writeFile(join(dir, 'texts.txt'), 'one text\nanother text\n');
    const e = await cliWithEnv(EVERY_STEP, 'encode', '--model', join(dir, 'out'), '--input', join(dir, 'texts.txt'), '--batch-size', '1');
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stderr, /^encode 2\/2 texts 100% [\d.,]+ texts\/s (ETA|in) \d\d:\d\d/m);

    const v = await cliWithEnv(EVERY_STEP, 'evaluate', 'sts', '--model', join(dir, 'out'), '--data', join(dir, 'train.csv'), '--format', 'csv', '--batch-size', '2');
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr, /^evaluate sts: encoded \d+ texts [\d.,]+ texts\/s elapsed \d\d:\d\d$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
