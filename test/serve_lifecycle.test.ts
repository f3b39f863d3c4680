// Tests for the server's behaviour around long work, run through `sentencekit serve` as a child
// process: /health answers while a long batch runs (inference is off the event loop), and
// SIGTERM during load lets the accepted requests finish with correct vectors, refuses new
// ones, and exits 0; the logs are JSON lines with request ids.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { assertExit, cli, MAIN } from './helpers/cli.js';
import { maxAbsDiff, post } from './helpers/serve.js';
import { MINILM_TOKENIZER, sharedMissing } from './helpers/shared.js';

const skip = sharedMissing(MINILM_TOKENIZER);
let dir = '';
let reference: SentenceTransformer;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'sk-serve-life-'));
  // big enough that a batch of 16 long inputs takes a noticeable time on one thread
  const m = await SentenceTransformer.create({ tokenizerDir: MINILM_TOKENIZER, hidden: 128, layers: 4, heads: 4, intermediate: 512, maxSeqLength: 128, seed: 3 });
  await m.save(join(dir, 'model'));
  await m.close();
  reference = await SentenceTransformer.load(join(dir, 'model'), { threads: 1 });
});

after(async () => {
  await reference?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Child {
  proc: ChildProcess;
  url: string;
  logs: Array<Record<string, unknown>>;
  exit: Promise<number | null>;
}

async function startCli(...args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, [MAIN, 'serve', '--model', join(dir, 'model'), '--port', '0', '--threads', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += String(d); });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += String(d);
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'listening') resolve(entry.address as string);
      }
    });
    void exit.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
  return { proc, url, logs, exit };
}

function longText(i: number): string {
  return Array.from({ length: 120 }, (_, j) => `word${(i * 7 + j) % 23}`).join(' ');
}

test('/health answers while a long batch runs; logs are JSON with request ids', { skip }, async () => {
  const c = await startCli('--auto-truncate');
  try {
    const texts = Array.from({ length: 16 }, (_, i) => longText(i));
    const t0 = performance.now();
    const big = post(`${c.url}/embed`, { inputs: texts });
    await new Promise((r) => setTimeout(r, 30));
    const healthTimes: number[] = [];
    let done = false;
    void big.then(() => { done = true; });
    while (!done) {
      const h0 = performance.now();
      const h = await fetch(`${c.url}/health`);
      assert.equal(h.status, 200);
      if (!done) healthTimes.push(performance.now() - h0);
      await new Promise((r) => setTimeout(r, 10));
    }
    const bigMs = performance.now() - t0;
    const r = await big;
    assert.equal(r.status, 200);
    const ref = await reference.encode(texts, { normalize: true });
    (r.body as number[][]).forEach((v, i) => assert.ok(maxAbsDiff(v, ref[i]) <= 1e-6));
    assert.ok(healthTimes.length >= 2, `the batch took ${bigMs.toFixed(0)} ms; /health was answered ${healthTimes.length} times meanwhile`);
    // a blocked event loop answers /health once, after the batch; a free one answers it quickly
    // and often (the median, so that one slow answer on a busy machine does not decide)
    const sorted = [...healthTimes].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    assert.ok(median < Math.max(100, bigMs / 4), `/health took ${median.toFixed(0)} ms (median of ${sorted.length}) while a ${bigMs.toFixed(0)} ms batch ran`);
    const completed = c.logs.filter((l) => l.msg === 'request completed');
    assert.ok(completed.length > 0 && completed.every((l) => typeof l.reqId === 'string'), 'JSON log lines with request ids');
  } finally {
    c.proc.kill('SIGTERM');
    await c.exit;
  }
});

test('SIGTERM during load: accepted requests complete, new ones are refused, exit code 0', { skip }, async () => {
  const c = await startCli('--auto-truncate');
  const texts = Array.from({ length: 8 }, (_, i) => longText(i));
  const ref = await reference.encode(texts, { normalize: true });
  // accepted work: 8 requests of 8 long inputs, queued behind each other; SIGTERM once the server has read them all
  const accepted = Array.from({ length: 8 }, () => post(`${c.url}/embed`, { inputs: texts }).then((r) => ({ ...r, at: performance.now() })));
  const incoming = (): number => c.logs.filter((l) => l.msg === 'incoming request').length;
  while (incoming() < 8) await new Promise((r) => setTimeout(r, 5));
  const killedAt = performance.now();
  c.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  const late = await Promise.allSettled(Array.from({ length: 5 }, () => post(`${c.url}/embed`, { inputs: 'too late' })));
  const answers = await Promise.all(accepted);
  for (const a of answers) {
    assert.equal(a.status, 200, JSON.stringify(a.body).slice(0, 200));
    (a.body as number[][]).forEach((v, i) => assert.ok(maxAbsDiff(v, ref[i]) <= 1e-6));
  }
  assert.ok(answers.some((a) => a.at > killedAt + 50), 'some accepted requests were still running at SIGTERM');
  for (const l of late) {
    assert.ok(l.status === 'rejected' || l.value.status === 503, `a request after SIGTERM was refused, got ${l.status === 'fulfilled' ? l.value.status : ''}`);
  }
  assert.equal(await c.exit, 0);
  assert.ok(c.logs.some((l) => l.msg === 'stopped'));
});

test('serve command mistakes: a clear message and exit 2 (usage) or 1, nothing left running', { skip }, async () => {
  assertExit(await cli('serve', '--port', 'x'), 2, '--port must be an integer ≥ 0, got "x"');
  assertExit(await cli('serve', '--bogus'), 2, "Unknown option '--bogus'");
  assertExit(await cli('serve', '--model', join(dir, 'model'), '--max-batch-tokens', '8'), 1, '--max-batch-tokens 8 is below the model\'s max_seq_length 128');
  assertExit(await cli('serve', '--model', join(dir, 'model'), '--index', join(dir, 'no-index')), 1, 'not an index folder (no manifest.json)');
  assertExit(await cli('serve', '--model', join(dir, 'model'), '--api-key', ''), 1, 'an API key must not be empty');
});
