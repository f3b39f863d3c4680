// Tests for the runtime's thread-pool and memory options and the profile summary: intra-op
// spinning (off by default, SENTENCEKIT_SPIN, the option), the memory arena (on for inference,
// on for training steps too, with the memory pattern off; SENTENCEKIT_MEM_ARENA), bad environment values, and the per-op
// breakdown of a real onnxruntime profile trace.

import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, tensor } from '../src/graph/index.js';
import { Session, memArenaEnabled, profileBreakdown, spinningEnabled, type TraceEvent } from '../src/runtime/index.js';
import { ortOptions } from '../src/runtime/session.js';
import { stepSessionOptions } from '../src/training/optimizer.js';

const saved = { spin: process.env.SENTENCEKIT_SPIN, arena: process.env.SENTENCEKIT_MEM_ARENA };
afterEach(() => {
  for (const [k, v] of [['SENTENCEKIT_SPIN', saved.spin], ['SENTENCEKIT_MEM_ARENA', saved.arena]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const opt = { learningRate: 1e-3, weightDecay: 0, betas: [0.9, 0.999] as [number, number], eps: 1e-8, maxGradNorm: 1, dropoutSeed: null, freezeWordEmbeddings: false };

function chain(): GraphBuilder {
  const g = new GraphBuilder('chain');
  const x = g.input('x', 'float32', [128, 128]);
  const w = g.initializer('w', tensor('float32', [128, 128], Array.from({ length: 16384 }, (_, i) => ((i * 37) % 11) / 11 - 0.5)));
  g.output(g.reduceSum(g.matMul(g.matMul(x, w), w), [0, 1], false), 'y');
  return g;
}
const feeds = { x: tensor('float32', [128, 128], Array.from({ length: 16384 }, (_, i) => (i % 7) / 7)) };

describe('intra-op spinning', () => {
  test('off by default; SENTENCEKIT_SPIN=1 turns it on; the option wins over the variable', () => {
    delete process.env.SENTENCEKIT_SPIN;
    assert.equal(spinningEnabled({}), false);
    assert.deepEqual(ortOptions({}).extra, { session: { intra_op: { allow_spinning: '0' } } });
    process.env.SENTENCEKIT_SPIN = '1';
    assert.equal(spinningEnabled({}), true);
    assert.deepEqual(ortOptions({}).extra, { session: { intra_op: { allow_spinning: '1' } } });
    assert.equal(spinningEnabled({ spinning: false }), false);
    process.env.SENTENCEKIT_SPIN = '0';
    assert.equal(spinningEnabled({ spinning: true }), true);
  });

  test('a bad SENTENCEKIT_SPIN names the variable and its values', () => {
    process.env.SENTENCEKIT_SPIN = 'yes';
    assert.throws(() => ortOptions({}), /SENTENCEKIT_SPIN must be 1 .* or 0 .*"yes"/);
  });

  test('spinning and sleeping sessions compute the same result', async () => {
    const a = await Session.create(chain().graph, { cache: false, spinning: true, threads: 2 });
    const b = await Session.create(chain().graph, { cache: false, spinning: false, threads: 2 });
    const ya = (await a.run(feeds)).y.data[0];
    const yb = (await b.run(feeds)).y.data[0];
    assert.equal(ya, yb);
    assert.ok(Number.isFinite(Number(ya)));
    await a.release();
    await b.release();
  });
});

describe('memory arena', () => {
  test('on for inference and training sessions, training without the memory pattern; SENTENCEKIT_MEM_ARENA overrides', () => {
    delete process.env.SENTENCEKIT_MEM_ARENA;
    assert.equal(memArenaEnabled({}), true);
    assert.equal(ortOptions({}).enableCpuMemArena, undefined);
    assert.equal(ortOptions({}).enableMemPattern, undefined);
    assert.equal(memArenaEnabled(stepSessionOptions(opt)), true);
    assert.equal(ortOptions(stepSessionOptions(opt)).enableCpuMemArena, undefined);
    assert.equal(ortOptions(stepSessionOptions(opt)).enableMemPattern, false);
    // without the arena, training keeps the pattern (one block a shape instead of a tensor at a time)
    const off = stepSessionOptions({ ...opt, session: { memArena: false } });
    assert.equal(ortOptions(off).enableCpuMemArena, false);
    assert.equal(ortOptions(off).enableMemPattern, true);
    process.env.SENTENCEKIT_MEM_ARENA = '0';
    assert.equal(ortOptions(stepSessionOptions(opt)).enableCpuMemArena, false);
    assert.equal(ortOptions(stepSessionOptions(opt)).enableMemPattern, true);
    process.env.SENTENCEKIT_MEM_ARENA = '1';
    assert.equal(memArenaEnabled(stepSessionOptions({ ...opt, session: { memArena: false } })), true);
    process.env.SENTENCEKIT_MEM_ARENA = '0';
    assert.equal(memArenaEnabled({}), false);
    assert.equal(ortOptions({}).enableCpuMemArena, false);
    process.env.SENTENCEKIT_MEM_ARENA = 'off';
    assert.throws(() => memArenaEnabled({}), /SENTENCEKIT_MEM_ARENA must be 1 .* or 0 .*"off"/);
  });

  test('stepSessionOptions keeps the threads and the caller\'s session options', () => {
    delete process.env.SENTENCEKIT_MEM_ARENA;
    assert.deepEqual(stepSessionOptions({ ...opt, threads: 3, session: { spinning: true, profile: true } }), { spinning: true, profile: true, memArena: true, memPattern: false, threads: 3, disabledOptimizers: ['CommonSubexpressionElimination'] });
    assert.deepEqual(ortOptions(stepSessionOptions(opt)).extra?.optimization, { disable_specified_optimizers: 'CommonSubexpressionElimination' });
  });
});

describe('profile breakdown', () => {
  test('per-op kernel time of a real trace, warm-up runs skipped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-prof-test-'));
    try {
      const s = await Session.create(chain().graph, { cache: false, profile: true, profilePrefix: join(dir, 'p'), threads: 1 });
      for (let i = 0; i < 4; i++) await s.run(feeds);
      s.endProfiling();
      await s.release();
      const files = (await readdir(dir)).filter((f) => f.startsWith('p') && f.endsWith('.json'));
      assert.equal(files.length, 1, `one trace in ${dir}: ${files.join(', ')}`);
      const events = JSON.parse(await readFile(join(dir, files[0]), 'utf8')) as TraceEvent[];
      const b = profileBreakdown(events, 1);
      const ops = b.byOp.map((o) => o.op);
      assert.ok(ops.some((o) => o.includes('MatMul') || o === 'Gemm'), `a matrix product among ${ops.join(', ')}`);
      assert.ok(b.modelRunMs > 0);
      assert.ok(b.kernelMs > 0 && b.kernelMs <= b.modelRunMs * 1.01, `kernels ${b.kernelMs} ms within the run ${b.modelRunMs} ms`);
      const sum = b.byOp.reduce((a, o) => a + o.ms_per_step, 0);
      assert.ok(Math.abs(sum - b.kernelMs) < 0.05 + 0.01 * b.kernelMs);
      for (let i = 1; i < b.byOp.length; i++) assert.ok(b.byOp[i - 1].ms_per_step >= b.byOp[i].ms_per_step, 'largest first');
      assert.throws(() => profileBreakdown(events, 4), /holds 4 runs; 4 are skipped/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
