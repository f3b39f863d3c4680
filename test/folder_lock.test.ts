// The output-folder lock (src/io/folder_lock.ts) and the Trainer's own use of the folder rules,
// in process: a second taker is refused naming the holder, a released lock can be taken again,
// a stale or unreadable lock is reported and taken over; a Trainer refuses a fresh run over
// an earlier one, and a resume with no checkpoint, before any step; a SIGINT in the middle of a
// resumed run saves the step reached and names that checkpoint when it is not the newest.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireFolderLock, assertNotLocked, FolderLockedError, LOCK_FILE } from '../src/io/folder_lock.js';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { Trainer } from '../src/training/trainer.js';
import { TrainingInterruptedError } from '../src/training/interrupt.js';
import { cosineMse, pairExamples } from './helpers/train_fixtures.js';

const TOKENIZER = new URL('../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;

async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => p.on('exit', r));
  return p.pid!;
}

test('a held lock refuses a second taker naming the holder; release frees it; stale and unreadable locks are taken over', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-lock-'));
  try {
    const a = await acquireFolderLock(dir, { command: 'first' });
    const info = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number; host: string; started: string; command: string };
    assert.deepEqual({ pid: info.pid, host: info.host, command: info.command }, { pid: process.pid, host: hostname(), command: 'first' });
    assert.ok(!Number.isNaN(Date.parse(info.started)));
    await assert.rejects(acquireFolderLock(dir, { command: 'second' }), (e: unknown) => e instanceof FolderLockedError && new RegExp(`in use by a running process, pid ${process.pid} on .*\\(first\\)`).test(e.message));
    assert.throws(() => assertNotLocked(dir), FolderLockedError);
    a.release();
    a.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    const notes: string[] = [];
    // stale: the holder's process is gone
    const pid = await deadPid();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), started: 'then', command: 'old run' }));
    assertNotLocked(dir); // a stale lock does not block
    const b = await acquireFolderLock(dir, { command: 'third', onStale: (m) => notes.push(m) });
    assert.match(notes[0], new RegExp(`took over a stale lock left by pid ${pid} on .*, started then \\(old run\\), which is no longer running`));
    assert.equal((JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { command: string }).command, 'third');
    b.release();
    // unreadable: not JSON
    await writeFile(join(dir, LOCK_FILE), '');
    const c = await acquireFolderLock(dir, { command: 'fourth', onStale: (m) => notes.push(m) });
    assert.match(notes[1], /removed an unreadable lock file/);
    c.release();
    // a holder on another machine cannot be checked: refused, saying how to clear it
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, started: 'then', command: 'x' }));
    await assert.rejects(acquireFolderLock(dir, { command: 'fifth' }), /on another machine.*delete .*sentencekit\.lock if it is no longer running/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the Trainer refuses a fresh run over an earlier one and a resume without a checkpoint, and releases its lock', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-lock-train-'));
  try {
    const model = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, seed: 1, maxSeqLength: 16 });
    const opts = { model, trainDataset: { examples: pairExamples(16) }, loss: cosineMse, progress: false, args: { maxSteps: 2, batchSize: 8, saveSteps: 2, dropout: false } };
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await assert.rejects(new Trainer({ ...opts, outputDir: empty, resumeFromCheckpoint: true }).train(), /--resume found no complete checkpoint/);
    assert.equal(existsSync(join(empty, LOCK_FILE)), false, 'the lock was not released');
    await assert.rejects(new Trainer({ ...opts, outputDir: join(dir, 'absent'), resumeFromCheckpoint: true }).train(), /--resume found no complete checkpoint/);
    assert.equal(existsSync(join(dir, 'absent')), false, 'a refused resume created its folder');
    const out = join(dir, 'out');
    await new Trainer({ ...opts, outputDir: out }).train();
    assert.equal(existsSync(join(out, LOCK_FILE)), false);
    await assert.rejects(new Trainer({ ...opts, outputDir: out }).train(), /holds checkpoints of an earlier run \(checkpoint-2\): pass --resume/);
    assert.equal(existsSync(join(out, LOCK_FILE)), false);
    const r = await new Trainer({ ...opts, outputDir: out, overwrite: true }).train();
    assert.equal(r.globalStep, 2);
    await assert.rejects(new Trainer({ ...opts, outputDir: null, resumeFromCheckpoint: true }).train(), /no outputDir was given/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('SIGINT during a run resumed from an older checkpoint saves the step reached and names it in the resume hint', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-lock-sig-'));
  try {
    const model = await SentenceTransformer.create({ tokenizerDir: TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32, seed: 1, maxSeqLength: 16 });
    const base = { model, trainDataset: { examples: pairExamples(32) }, loss: cosineMse, progress: false, outputDir: dir };
    const args = { batchSize: 8, saveSteps: 2, dropout: false };
    await new Trainer({ ...base, args: { ...args, maxSteps: 4 } }).train();
    const lines: string[] = [];
    const run = new Trainer({
      ...base, args: { ...args, maxSteps: 10 }, resumeFromCheckpoint: join(dir, 'checkpoint-2'), resumeCommand: 'RESUME', log: (l) => lines.push(l),
      callbacks: [{ onStepEnd: (step) => void (step === 3 && process.kill(process.pid, 'SIGINT')) }],
    }).train();
    await assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof TrainingInterruptedError, String(e));
      assert.equal(e.exitCode, 130);
      assert.equal(e.step, 3);
      assert.equal(e.checkpoint, join(dir, 'checkpoint-3'));
      assert.match(e.message, new RegExp(`Resume with: RESUME ${join(dir, 'checkpoint-3')}$`));
      return true;
    });
    assert.match(lines.join('\n'), /SIGINT: finishing the current step/);
    const state = JSON.parse(await readFile(join(dir, 'checkpoint-3', 'trainer_state.json'), 'utf8')) as { global_step: number };
    assert.equal(state.global_step, 3);
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    assert.equal(process.listenerCount('SIGINT'), 0, 'the signal handler was left installed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
