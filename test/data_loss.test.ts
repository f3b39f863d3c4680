// Nothing a user already has is lost by a command, run as a child process:
// 1. export into an earlier export keeps the user's own files and replaces only the export's;
// 2. create-model (and export) refuse a non-empty folder unless --overwrite;
// 3. encode, data chunk and mine-negatives refuse an output that is an input (path or inode);
// 4. train: a fresh run refuses a folder with an earlier run's checkpoints (--overwrite clears
//    them), --resume refuses a changed batch size, data or loss naming the difference and says
//    when there is no checkpoint, a folder is locked by its run (a second run is refused, a
//    stale lock is reported and taken over);
// 5. SIGINT / SIGTERM during train save a checkpoint, say how to resume, leave no temporary
//    folder and exit 130 / 143; the resume continues from that checkpoint.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertExit, cli, MAIN } from './helpers/cli.js';

const TOKENIZER = new URL('../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;
const MODEL_ARGS = ['--tokenizer', TOKENIZER, '--hidden', '16', '--layers', '1', '--heads', '2', '--intermediate', '32'];
const WORDS = 'a man woman dog cat plays runs sleeps guitar piano ball the red blue big small'.split(' ');

let root = '';
let model = '';

function csv(rows: number, seed: number): string {
  let s = seed;
  const r = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const t = (): string => Array.from({ length: 3 + Math.floor(r() * 5) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
  return 'sentence1,sentence2,score\n' + Array.from({ length: rows }, () => `${t()},${t()},${r().toFixed(3)}`).join('\n') + '\n';
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sk-loss-'));
  model = join(root, 'model');
  assertExit(await cli('create-model', ...MODEL_ARGS, '--seed', '3', '--out', model), 0);
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

test('1. export into an earlier export keeps the user\'s files and replaces only what the export wrote', async () => {
  const out = join(root, 'exp1');
  assertExit(await cli('export', '--model', model, '--out', out, '--quantize', 'fp16', '--no-verify'), 0);
  await writeFile(join(out, 'MY_NOTES.md'), 'my notes\n');
  await mkdir(join(out, 'userdata'));
  await writeFile(join(out, 'userdata', 'keep.txt'), 'mine\n');
  await writeFile(join(out, 'onnx', 'my_experiment.onnx'), 'not the export\'s\n');
  assertExit(await cli('export', '--model', model, '--out', out, '--no-verify'), 0);
  assert.equal(await readFile(join(out, 'MY_NOTES.md'), 'utf8'), 'my notes\n');
  assert.equal(await readFile(join(out, 'userdata', 'keep.txt'), 'utf8'), 'mine\n');
  assert.equal(await readFile(join(out, 'onnx', 'my_experiment.onnx'), 'utf8'), 'not the export\'s\n');
  // the earlier export's fp16 files were its own: replaced by this export, which has none
  assert.equal(existsSync(join(out, 'onnx', 'model_fp16.onnx')), false);
  const meta = JSON.parse(await readFile(join(out, 'onnx', 'export.json'), 'utf8')) as { written_files: string[] };
  const all = await filesUnder(out);
  assert.deepEqual(all.filter((f) => !meta.written_files.includes(f)), ['MY_NOTES.md', 'onnx/my_experiment.onnx', 'userdata/keep.txt']);
  assert.ok(meta.written_files.includes('onnx/model.onnx') && meta.written_files.includes('modules.json'));
  assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.exp1')), [], 'no temporary folder left');
  // a user's file where the new export would write one that the earlier export did not: refused
  await writeFile(join(out, 'onnx', 'model_quantized.onnx'), 'my own quantisation\n');
  assertExit(await cli('export', '--model', model, '--out', out, '--quantize', 'int8', '--no-verify'), 1, 'would replace onnx/model_quantized.onnx, which no earlier export there wrote', 'Nothing was replaced');
  assert.equal(await readFile(join(out, 'onnx', 'model_quantized.onnx'), 'utf8'), 'my own quantisation\n');
  assert.deepEqual(await filesUnder(out), all.concat('onnx/model_quantized.onnx').sort());
  assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.exp1')), [], 'no temporary folder left');

  // a folder that is not an export: refused, untouched; --overwrite writes beside the user's file
  const foreign = join(root, 'exp-foreign');
  await mkdir(foreign);
  await writeFile(join(foreign, 'notes.txt'), 'mine');
  assertExit(await cli('export', '--model', model, '--out', foreign, '--no-verify'), 1, 'the folder is not empty (notes.txt)', '--overwrite', 'Nothing was written');
  assert.deepEqual(await readdir(foreign), ['notes.txt']);
  assertExit(await cli('export', '--model', model, '--out', foreign, '--no-verify', '--overwrite'), 0);
  assert.equal(await readFile(join(foreign, 'notes.txt'), 'utf8'), 'mine');
  assert.ok(existsSync(join(foreign, 'onnx', 'model.onnx')));
  // the model's own folder is never the export's
  assertExit(await cli('export', '--model', model, '--out', model, '--overwrite', '--no-verify'), 1, 'is the same folder as --model');
  assert.equal(existsSync(join(model, 'onnx')), false);
});

test('2. create-model refuses a non-empty folder (a trained model) unless --overwrite', async () => {
  const out = join(root, 'trained');
  assertExit(await cli('create-model', ...MODEL_ARGS, '--seed', '1', '--out', out), 0);
  const weights = await readFile(join(out, 'model.safetensors'));
  assertExit(await cli('create-model', ...MODEL_ARGS, '--seed', '2', '--out', out), 1, `${out}: the folder is not empty`, 'model.safetensors', '--overwrite');
  assert.deepEqual(await readFile(join(out, 'model.safetensors')), weights, 'the weights were replaced');
  assertExit(await cli('create-model', ...MODEL_ARGS, '--seed', '2', '--out', out, '--overwrite'), 0);
  assert.notDeepEqual(await readFile(join(out, 'model.safetensors')), weights);
  // the same rule for quickstart's --out
  assertExit(await cli('quickstart', '--steps', '0', '--out', out), 1, 'the folder is not empty', '--overwrite');
});

test('3. an --output equal to an input (same path or same inode) is refused and the input kept', async () => {
  const dir = join(root, 'same');
  await mkdir(dir);
  const docs = join(dir, 'docs.jsonl');
  const text = '{"_id": "d1", "text": "A man plays the guitar. The dog runs."}\n{"_id": "d2", "text": "The cat sleeps."}\n';
  await writeFile(docs, text);
  const hard = join(dir, 'hard-link.jsonl');
  await link(docs, hard);
  const pairs = join(dir, 'pairs.jsonl');
  const pairText = '{"anchor": "a man plays", "positive": "a man plays the guitar"}\n{"anchor": "the cat", "positive": "the cat sleeps"}\n';
  await writeFile(pairs, pairText);
  const runs: [string[], string][] = [
    [['encode', '--model', model, '--input', docs, '--output', docs], '--input'],
    [['encode', '--model', model, '--input', docs, '--output', hard], '--input'],
    [['data', 'chunk', '--input', docs, '--output', `${dir}/./docs.jsonl`, '--tokenizer', TOKENIZER], '--input'],
    [['data', 'chunk', '--input', docs, '--output', hard, '--tokenizer', TOKENIZER], '--input'],
    [['mine-negatives', '--model', model, '--input', pairs, '--output', pairs], '--input'],
    [['mine-negatives', '--model', model, '--input', pairs, '--corpus', docs, '--output', hard], '--corpus'],
  ];
  for (const [args, flag] of runs) {
    assertExit(await cli(...args), 1, 'is the same file as ' + flag, 'writing it would destroy the input');
  }
  assert.equal(await readFile(docs, 'utf8'), text);
  assert.equal(await readFile(pairs, 'utf8'), pairText);
  assert.deepEqual((await readdir(dir)).sort(), ['docs.jsonl', 'hard-link.jsonl', 'pairs.jsonl']);
});

// ---------------------------------------------------------------- train

interface TrainSetup {
  dir: string;
  config: (overrides?: Record<string, unknown>, args?: Record<string, unknown>) => Promise<string>;
}

async function trainSetup(name: string): Promise<TrainSetup> {
  const dir = join(root, name);
  await mkdir(dir);
  await writeFile(join(dir, 'train.csv'), csv(32, 1));
  let n = 0;
  return {
    dir,
    async config(overrides = {}, args = {}) {
      const file = join(dir, `config-${n++}.json`);
      await writeFile(file, JSON.stringify({
        model: { create: { tokenizer: TOKENIZER, hidden: 16, layers: 1, heads: 2, intermediate: 32 } },
        train: { path: 'train.csv', format: 'csv' },
        loss: { name: 'CosineSimilarityLoss' },
        args: { maxSteps: 4, batchSize: 8, learningRate: 1e-3, saveSteps: 2, logSteps: 1, ...args },
        output: 'out',
        ...overrides,
      }));
      return file;
    },
  };
}

const checkpoints = async (out: string): Promise<string[]> => (await readdir(out)).filter((n) => /^checkpoint-\d+$/.test(n)).sort();
const logSteps = async (out: string): Promise<number[]> => (await readFile(join(out, 'logs.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);

test('4a. a fresh train refuses a folder with an earlier run\'s checkpoints; --overwrite starts over cleanly', async () => {
  const s = await trainSetup('fresh');
  const out = join(s.dir, 'out');
  const cfg = await s.config();
  assertExit(await cli('train', '--config', cfg), 0);
  assert.deepEqual(await checkpoints(out), ['checkpoint-2', 'checkpoint-4']);
  const logsBefore = await readFile(join(out, 'logs.jsonl'), 'utf8');
  const again = await cli('train', '--config', cfg);
  assertExit(again, 1, 'holds checkpoints of an earlier run (checkpoint-2, checkpoint-4)', '--resume', '--overwrite');
  assert.equal(await readFile(join(out, 'logs.jsonl'), 'utf8'), logsBefore, 'the refused run wrote into the folder');
  // a shorter fresh run with --overwrite: none of the old run's checkpoints or log lines remain
  const short = await s.config({}, { maxSteps: 1, saveSteps: 1 });
  assertExit(await cli('train', '--config', short, '--overwrite'), 0, 'removed 2 checkpoint(s) of an earlier run');
  assert.deepEqual(await checkpoints(out), ['checkpoint-1']);
  assert.deepEqual(await logSteps(out), [1]);
  // "overwrite": true in the config does the same
  assertExit(await cli('train', '--config', await s.config({ overwrite: true }, { maxSteps: 2 })), 0);
  assert.deepEqual(await checkpoints(out), ['checkpoint-2']);
  assertExit(await cli('train', '--config', cfg, '--resume', '--overwrite'), 2, 'give one of them');
  // training a model folder into itself would replace the model it starts from
  assertExit(await cli('train', '--config', await s.config({ model: '../model', output: '../model' }), '--overwrite'), 1, '"output" ', 'is the same folder as "model"');
  assert.equal(existsSync(join(root, 'model', 'logs.jsonl')), false);
});

test('4b. --resume refuses a changed batch size, data or loss, naming each difference, and needs a checkpoint', async () => {
  const s = await trainSetup('resume');
  const out = join(s.dir, 'out');
  assertExit(await cli('train', '--config', await s.config({}, { maxSteps: 2 })), 0);
  const state = await readFile(join(out, 'checkpoint-2', 'trainer_state.json'), 'utf8');
  assertExit(await cli('train', '--config', await s.config({}, { batchSize: 4 }), '--resume'), 1, 'cannot resume', 'args.batchSize: 8 in the checkpoint, 4 now');
  assertExit(await cli('train', '--config', await s.config({ loss: { name: 'CoSENTLoss' } }, { seed: 7 }), '--resume'), 1, 'loss of dataset dataset0: CosineSimilarityLoss {', 'in the checkpoint, CoSENTLoss {', 'args.seed: 42 in the checkpoint, 7 now');
  await writeFile(join(s.dir, 'train.csv'), csv(32, 2));
  assertExit(await cli('train', '--config', await s.config(), '--resume'), 1, `training data of dataset dataset0 (${join(s.dir, 'train.csv')}), content: sha256`);
  assert.equal(await readFile(join(out, 'checkpoint-2', 'trainer_state.json'), 'utf8'), state, 'a refused resume changed the checkpoint');
  // no checkpoint at all: said, not a silent fresh start
  const none = await trainSetup('resume-none');
  assertExit(await cli('train', '--config', await none.config(), '--resume'), 1, '--resume found no complete checkpoint', 'run without --resume');
  assert.equal(existsSync(join(none.dir, 'out')), false);
});

test('4c. a stale lock (its process gone) is reported and taken over, then released', async () => {
  const s = await trainSetup('stale');
  const out = join(s.dir, 'out');
  await mkdir(out);
  const gone = spawn(process.execPath, ['-e', '']);
  const pid = gone.pid!;
  await new Promise((r) => gone.on('exit', r));
  await writeFile(join(out, 'sentencekit.lock'), JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'sentencekit train' }));
  assertExit(await cli('train', '--config', await s.config({}, { maxSteps: 1 })), 0, `took over a stale lock left by pid ${pid}`, 'no longer running');
  assert.equal(existsSync(join(out, 'sentencekit.lock')), false, 'the lock was not released');
  assert.ok(existsSync(join(out, 'model.safetensors')));
});

/** Starts `train` in the background; resolves once it has logged `steps` steps. */
function startTrain(cfg: string, out: string, steps: number): { child: ReturnType<typeof spawn>; stderr: () => string; exited: Promise<{ code: number | null; signal: string | null }>; started: Promise<void> } {
  const child = spawn(process.execPath, [MAIN, 'train', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SENTENCEKIT_DEBUG: '' } });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const started = (async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const lines = await readFile(join(out, 'logs.jsonl'), 'utf8').then((t) => t.trim().split('\n').length, () => 0);
      if (lines >= steps) return;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`train did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  return { child, stderr: () => err, exited, started };
}

test('4d + 5. a running train locks its folder; SIGINT saves a checkpoint, says how to resume, exits 130; resume continues', async () => {
  const s = await trainSetup('signal');
  const out = join(s.dir, 'out');
  const cfg = await s.config({}, { maxSteps: 100000, saveSteps: 1000000 });
  const run = startTrain(cfg, out, 3);
  let code: number | null;
  try {
    await run.started;
    const lock = JSON.parse(await readFile(join(out, 'sentencekit.lock'), 'utf8')) as { pid: number; host: string; started: string };
    assert.equal(lock.pid, run.child.pid);
    assert.equal(lock.host, hostname());
    // a second run into the same folder, fresh or resuming, is refused while the first one runs
    assertExit(await cli('train', '--config', cfg, '--overwrite'), 1, `in use by a running process, pid ${run.child.pid}`);
    assertExit(await cli('train', '--config', cfg, '--resume'), 1, `in use by a running process, pid ${run.child.pid}`);
    run.child.kill('SIGINT');
    code = (await run.exited).code;
  } finally {
    run.child.kill('SIGKILL');
  }
  assert.equal(code, 130, run.stderr());
  const m = /stopped by SIGINT after step (\d+); the run is saved in (\S+)\. Resume with: sentencekit train --config (\S+) --resume/.exec(run.stderr());
  assert.ok(m, run.stderr());
  const step = Number(m[1]);
  assert.ok(step >= 3);
  assert.equal(m[2], join(out, `checkpoint-${step}`));
  assert.equal(m[3], cfg);
  const state = JSON.parse(await readFile(join(out, `checkpoint-${step}`, 'trainer_state.json'), 'utf8')) as { global_step: number };
  assert.equal(state.global_step, step);
  assert.deepEqual((await readdir(out)).filter((n) => /\.(tmp|old)-|\.lock/.test(n)), [], 'temporary folders or the lock were left');
  // the resume continues from that checkpoint (a later maxSteps only extends the schedule)
  const more = await s.config({}, { maxSteps: step + 2, saveSteps: 1000000 });
  const resumed = await cli('train', '--config', more, '--resume');
  assertExit(resumed, 0, `resuming from ${join(out, `checkpoint-${step}`)} at step ${step}`);
  assert.equal((JSON.parse(resumed.stdout) as { steps: number }).steps, step + 2);
});

test('5. SIGTERM, sent twice, still completes the checkpoint and exits 143', async () => {
  const s = await trainSetup('sigterm');
  const out = join(s.dir, 'out');
  const run = startTrain(await s.config({}, { maxSteps: 100000, saveSteps: 1 }), out, 2);
  let code: number | null;
  try {
    await run.started;
    run.child.kill('SIGTERM');
    setTimeout(() => run.child.kill('SIGTERM'), 5);
    code = (await run.exited).code;
  } finally {
    run.child.kill('SIGKILL');
  }
  assert.equal(code, 143, run.stderr());
  const m = /stopped by SIGTERM after step (\d+); the run is saved in (\S+)\./.exec(run.stderr());
  assert.ok(m, run.stderr());
  const state = JSON.parse(await readFile(join(m[2], 'trainer_state.json'), 'utf8')) as { global_step: number };
  assert.equal(state.global_step, Number(m[1]));
  assert.deepEqual((await readdir(out)).filter((n) => /\.(tmp|old)-|\.lock/.test(n)), []);
});
