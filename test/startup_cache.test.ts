// The on-disk cache of onnxruntime's optimised training graphs: a later step runner (in this
// process or a fresh one) loads the stored model and trains bit for bit like an uncached run;
// damaged or truncated entries are rebuilt; SENTENCEKIT_STARTUP_CACHE=0 writes nothing;
// concurrent processes leave whole entries; the folder stays within its bound.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evict, optimizedCacheDir, optimizedCacheEnabled, sentencekitCacheDir } from '../src/runtime/optimized_model_cache.js';
import { runSteps, type StepsResult } from './helpers/startup_steps.js';

const CHILD = fileURLToPath(new URL('./helpers/startup_child.js', import.meta.url));

/** Runs `fn` with the given environment variables set (undefined: unset), restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>): void => {
    for (const [k, x] of Object.entries(v)) if (x === undefined) delete process.env[k]; else process.env[k] = x;
  };
  set(vars);
  try {
    return await fn();
  } finally {
    set(saved);
  }
}

async function entries(root: string): Promise<string[]> {
  const dir = join(root, 'optimized-models');
  return (await readdir(dir).catch(() => [] as string[])).map((n) => join(dir, n));
}

function childRun(root: string): Promise<StepsResult & { stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CHILD], { env: { ...process.env, SENTENCEKIT_CACHE: root, SENTENCEKIT_STARTUP_CACHE: '' }, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve({ ...(JSON.parse(stdout) as StepsResult), stderr });
    });
  });
}

async function child(root: string): Promise<StepsResult> {
  const r = await childRun(root);
  assert.equal(r.stderr, '');
  return r;
}

function delta(after: StepsResult['stats'], before: StepsResult['stats']): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]).filter(([, v]) => v !== 0));
}

test('cache folder: SENTENCEKIT_CACHE, else XDG_CACHE_HOME/sentencekit, else ~/.cache/sentencekit; the switch is 1 or 0', async () => {
  await withEnv({ SENTENCEKIT_CACHE: '/x/sk', XDG_CACHE_HOME: '/y' }, async () => assert.equal(optimizedCacheDir(), '/x/sk/optimized-models'));
  await withEnv({ SENTENCEKIT_CACHE: undefined, XDG_CACHE_HOME: '/y' }, async () => assert.equal(sentencekitCacheDir(), '/y/sentencekit'));
  await withEnv({ SENTENCEKIT_CACHE: undefined, XDG_CACHE_HOME: undefined }, async () => assert.match(sentencekitCacheDir(), /\.cache[\\/]sentencekit$/));
  await withEnv({ SENTENCEKIT_STARTUP_CACHE: '0' }, async () => assert.equal(optimizedCacheEnabled(), false));
  await withEnv({ SENTENCEKIT_STARTUP_CACHE: undefined }, async () => assert.equal(optimizedCacheEnabled(), true));
  await withEnv({ SENTENCEKIT_STARTUP_CACHE: 'off' }, async () => assert.throws(() => optimizedCacheEnabled(), /SENTENCEKIT_STARTUP_CACHE must be 1 .* or 0 .*, not "off"/));
});

test('the same training graph built twice serialises to the same bytes (what the cache keys on)', async () => {
  const { SentenceTransformer } = await import('../src/models/sentence_transformer.js');
  const { MultipleNegativesRankingLoss } = await import('../src/losses/multiple_negatives_ranking_loss.js');
  const { buildTrainGraph, collectParams } = await import('../src/training/train_graph.js');
  const { TRAIN_MODEL } = await import('./fixtures/train_cases.js');
  const tokenizerDir = new URL('../../test/fixtures/tiny-tokenizer', import.meta.url).pathname;
  const build = async (): Promise<Uint8Array> => {
    const model = await SentenceTransformer.create({ tokenizerDir, ...TRAIN_MODEL });
    const loss = new MultipleNegativesRankingLoss();
    return buildTrainGraph(model, loss, collectParams(model, loss, false), { columns: 2, dropoutSeed: 7, freezeWordEmbeddings: false }).bytes;
  };
  const a = await build();
  assert.ok(Buffer.from(a).equals(Buffer.from(await build())));
});

test('fresh processes: the first stores the optimised step graph, the next loads it; losses, weights and moments are bit for bit the uncached run', async () => {
  const root = await mkdtemp(join(tmpdir(), 'sk-startup-'));
  try {
    const off = await withEnv({ SENTENCEKIT_CACHE: root, SENTENCEKIT_STARTUP_CACHE: '0' }, () => runSteps());
    assert.deepEqual(await entries(root), [], 'SENTENCEKIT_STARTUP_CACHE=0 wrote files');
    // two processes on an empty cache at once: each stores (or loads what the other stored
    // first), both finish, one whole entry remains
    const [a, b] = await Promise.all([child(root), child(root)]);
    const c = await child(root);
    for (const r of [a, b]) {
      const did = { hits: r.stats.hits, misses: r.stats.misses, stored: r.stats.stored, damaged: r.stats.damaged };
      assert.ok([JSON.stringify({ hits: 0, misses: 1, stored: 1, damaged: 0 }), JSON.stringify({ hits: 1, misses: 0, stored: 0, damaged: 0 })].includes(JSON.stringify(did)), JSON.stringify(did));
    }
    assert.ok(a.stats.stored + b.stats.stored >= 1);
    assert.deepEqual({ hits: c.stats.hits, misses: c.stats.misses, stored: c.stats.stored }, { hits: 1, misses: 0, stored: 0 });
    for (const r of [a, b, c]) {
      assert.deepEqual(r.losses, off.losses);
      assert.equal(r.stateHash, off.stateHash);
    }
    const files = await entries(root);
    assert.equal(files.length, 1, `expected one entry, found ${files.join(', ')}`);
    assert.match(files[0], /[0-9a-f]{64}\.onnxopt$/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a damaged or truncated entry is detected and rebuilt, with the same training', async () => {
  const root = await mkdtemp(join(tmpdir(), 'sk-startup-'));
  try {
    await withEnv({ SENTENCEKIT_CACHE: root, SENTENCEKIT_STARTUP_CACHE: undefined }, async () => {
      const first = await runSteps();
      const [file] = await entries(root);
      const good = await readFile(file);
      const damage: Array<[string, () => Promise<void>]> = [
        ['one byte flipped', async () => {
          const bad = Buffer.from(good);
          bad[Math.floor(bad.length / 2)] ^= 0x40;
          await writeFile(file, bad);
        }],
        ['truncated', () => truncate(file, Math.floor(good.length / 3))],
        ['empty', () => writeFile(file, '')],
      ];
      for (const [what, harm] of damage) {
        await harm();
        const r = await runSteps();
        assert.deepEqual(delta(r.stats, first.stats).damaged, 1, `${what}: not detected ${JSON.stringify([first.stats, r.stats, await entries(root)])}`);
        assert.deepEqual(r.losses, first.losses, what);
        assert.equal(r.stateHash, first.stateHash, what);
        assert.ok((await readFile(file)).equals(good), `${what}: the entry was not rebuilt whole`);
        first.stats = r.stats;
      }
      const again = await runSteps();
      assert.deepEqual(delta(again.stats, first.stats), { hits: 1 });
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the accumulated and GradCache steps load their graphs from the cache and train bit for bit as without it', async () => {
  const root = await mkdtemp(join(tmpdir(), 'sk-startup-'));
  try {
    for (const strategy of ['accumulated', 'gradcache'] as const) {
      const off = await withEnv({ SENTENCEKIT_CACHE: root, SENTENCEKIT_STARTUP_CACHE: '0' }, () => runSteps(2, strategy));
      await withEnv({ SENTENCEKIT_CACHE: root, SENTENCEKIT_STARTUP_CACHE: undefined }, async () => {
        const cold = await runSteps(2, strategy);
        const warm = await runSteps(2, strategy);
        // accumulated: the gradient graph; GradCache: embed, loss-gradient and seeded gradient
        // (AdamW runs outside the graphs)
        const graphs = strategy === 'accumulated' ? 1 : 3;
        const first = delta(cold.stats, off.stats);
        assert.equal((first.stored ?? 0) + (first.hits ?? 0), graphs, `${strategy}: ${JSON.stringify(first)}`);
        assert.deepEqual(delta(warm.stats, cold.stats), { hits: graphs }, strategy);
        for (const r of [cold, warm]) {
          assert.deepEqual(r.losses, off.losses, strategy);
          assert.equal(r.stateHash, off.stateHash, strategy);
        }
      });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('eviction keeps the newest entries within the bound and removes stale temporary files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-evict-'));
  try {
    const t0 = Date.now() / 1000;
    for (let i = 0; i < 4; i++) {
      const p = join(dir, `${String(i).repeat(64)}.onnxopt`);
      await writeFile(p, Buffer.alloc(100));
      await utimes(p, t0 - 100 + i, t0 - 100 + i);
    }
    const stale = join(dir, 'x.onnxopt.tmp-1-abc');
    const fresh = join(dir, 'y.ort-out-1-abc');
    await writeFile(stale, 'x');
    await writeFile(fresh, 'y');
    await utimes(stale, t0 - 7200, t0 - 7200);
    await evict(dir, 250);
    const left = (await readdir(dir)).sort();
    assert.deepEqual(left, [`${'2'.repeat(64)}.onnxopt`, `${'3'.repeat(64)}.onnxopt`, 'y.ort-out-1-abc']);
    assert.equal((await stat(join(dir, left[0]))).size, 100);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a cache folder that cannot be made: training runs as without the cache, with one warning', async () => {
  const root = await mkdtemp(join(tmpdir(), 'sk-startup-'));
  try {
    const off = await withEnv({ SENTENCEKIT_CACHE: root, SENTENCEKIT_STARTUP_CACHE: '0' }, () => runSteps());
    await writeFile(join(root, 'file'), 'not a folder');
    const r = await childRun(join(root, 'file', 'cache'));
    assert.deepEqual(r.losses, off.losses);
    assert.equal(r.stateHash, off.stateHash);
    assert.equal(r.stats.errors, 1);
    assert.match(r.stderr, /cannot write the start-up cache in .*file[\\/]cache[\\/]optimized-models .*SENTENCEKIT_STARTUP_CACHE=0/);
    assert.equal(r.stderr.match(/Warning/g)?.length, 1, r.stderr);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
