// A run killed with SIGKILL while it writes checkpoints leaves the previous checkpoint usable,
// and `resume` continues from it to the end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latestCheckpoint } from '../src/training/checkpoint.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const CHILD = new URL('./helpers/train_child.js', import.meta.url).pathname;

/**
 * Runs the training child; with `killAfterMs`, SIGKILLs it that long after it has written a new
 * checkpoint (so that the kill lands among checkpoint writes however slow the machine's start-up).
 */
function runChild(out: string, steps: number, killAfterMs: number | null): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD, out, String(steps)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    let timer: NodeJS.Timeout | null = null;
    let poll: NodeJS.Timeout | null = null;
    if (killAfterMs !== null) {
      const initial = latestCheckpoint(out);
      poll = setInterval(() => {
        void Promise.all([initial, latestCheckpoint(out)]).then(([was, now]) => {
          if (poll && now && now !== was) {
            clearInterval(poll);
            poll = null;
            timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
          }
        });
      }, 25);
    }
    p.on('exit', (code, signal) => {
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      if (code && code !== 0) reject(new Error(`child failed: ${err}`));
      else resolve(signal ? null : code);
    });
  });
}

test('SIGKILL during checkpoint writes: the newest complete checkpoint loads and resume finishes', { skip: sharedMissing(MINILM_TOKENIZER), timeout: 120_000 }, async () => {
  const out = await mkdtemp(join(tmpdir(), 'sk-kill-'));
  try {
    // every step writes a checkpoint, so a kill after a while lands in or near a write
    for (const ms of [0, 150, 400]) {
      await runChild(out, 400, ms);
      const ck = await latestCheckpoint(out);
      if (!ck) continue;
      const state = JSON.parse(await readFile(join(ck, 'trainer_state.json'), 'utf8')) as { global_step: number };
      assert.ok(state.global_step > 0);
      const m = await SentenceTransformer.load(ck);
      const e = await m.encodeMatrix(['a man plays the guitar']);
      assert.ok(e.data.every(Number.isFinite));
      await m.close();
    }
    const before = await latestCheckpoint(out);
    assert.ok(before, 'no checkpoint was written before the kills');
    const code = await runChild(out, 400, null);
    assert.equal(code, 0);
    const logs = (await readFile(join(out, 'logs.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step?: number });
    assert.equal(logs[logs.length - 1].step, 400);
    const names = await readdir(out);
    assert.ok(names.includes('model.safetensors'));
    assert.ok(names.filter((n) => /^checkpoint-\d+$/.test(n)).length <= 3, 'saveTotalLimit keeps at most 3');
    assert.deepEqual(names.filter((n) => /\.(tmp|old)-/.test(n)), [], 'interrupted writes are cleaned up');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
