// `sentencekit train --config` end to end on small files, and configuration mistakes reported
// before any work with the key and the allowed values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';

const TOKENIZER = new URL('../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;

const WORDS = 'a man woman dog cat plays runs sleeps guitar piano ball the red blue big small'.split(' ');
function csv(rows: number, seed: number): string {
  let s = seed;
  const r = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const t = (): string => Array.from({ length: 3 + Math.floor(r() * 5) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
  return 'sentence1,sentence2,score\n' + Array.from({ length: rows }, () => `${t()},${t()},${r().toFixed(3)}`).join('\n') + '\n';
}

test('train --config: a small run writes the model, card, report, logs and checkpoints', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-train-cli-'));
  try {
    await writeFile(join(dir, 'train.csv'), csv(48, 1));
    await writeFile(join(dir, 'dev.csv'), csv(20, 2));
    await writeFile(join(dir, 'config.json'), JSON.stringify({
      model: { create: { tokenizer: TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32 } },
      train: { path: 'train.csv', format: 'csv' },
      eval: { path: 'dev.csv', format: 'csv', evaluator: 'sts', name: 'dev' },
      loss: { name: 'CosineSimilarityLoss' },
      args: { epochs: 2, batchSize: 8, learningRate: 1e-3, evalSteps: 6, saveSteps: 6, logSteps: 2 },
      output: 'out',
    }));
    const r = await cli('train', '--config', join(dir, 'config.json'));
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { steps: number; evaluation: Record<string, number> };
    assert.equal(summary.steps, 12);
    assert.ok(Number.isFinite(summary.evaluation.dev_spearman_cosine));
    const files = await readdir(join(dir, 'out'));
    for (const f of ['README.md', 'training_report.html', 'logs.jsonl', 'training_args.json', 'model.safetensors', 'modules.json', 'checkpoint-6', 'checkpoint-12']) assert.ok(files.includes(f), `${f} missing`);
    const resumed = await cli('train', '--config', join(dir, 'config.json'), '--resume');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as { steps: number }).steps, 12);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('train --config: mistakes are reported before any work, naming the key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-train-cli-'));
  try {
    await writeFile(join(dir, 'train.csv'), csv(10, 3));
    const base = { model: { create: { tokenizer: TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32 } }, train: { path: 'train.csv', format: 'csv' }, loss: { name: 'CosineSimilarityLoss' }, output: 'out' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, args: { learningrate: 1 } }, /args\.learningrate: unknown key \(allowed: .*learningRate/],
      [{ ...base, args: { scheduler: 'steps' } }, /args\.scheduler: must be one of "constant", "constant_with_warmup", "linear", "cosine"/],
      [{ ...base, loss: { name: 'CoolLoss' } }, /loss.*CoolLoss.*(CoSENTLoss|allowed|known)/s],
      [{ ...base, loss: { name: 'CoSENTLoss', scael: 20 } }, /loss.*scael/],
      [{ ...base, train: { path: 'train.csv', format: 'xlsx' } }, /train\.format: must be one of stsb, nli, mrpc, csv/],
      [{ ...base, train: { path: 'missing.csv', format: 'csv' } }, /train\.path: .*missing\.csv does not exist/],
      [{ ...base, eval: { evaluator: 'bleu', path: 'train.csv' } }, /eval\.evaluator: must be one of sts, binary, triplet, retrieval/],
      [{ ...base, outptu: 'x' }, /config\.outptu: unknown key/],
    ];
    for (const [cfg, re] of cases) {
      await writeFile(join(dir, 'c.json'), JSON.stringify(cfg));
      const r = await cli('train', '--config', join(dir, 'c.json'));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    assert.deepEqual((await readdir(dir)).filter((n) => n === 'out'), [], 'nothing written');
    await writeFile(join(dir, 'bad.json'), '{ "model": ');
    const r = await cli('train', '--config', join(dir, 'bad.json'));
    assert.match(r.stderr, /bad\.json: not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
