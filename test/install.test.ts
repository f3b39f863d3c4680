// The install stays offline-safe without an unknown npm config key: npm run in the repository
// prints no "Unknown project config" warning, and the project's .npmrc turns install scripts off
// (onnxruntime-node's own would try to download CUDA files, which fails without a network).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function npm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // the child sees the project's .npmrc only, not the npm_config_* of an npm that runs this test
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k) && k !== 'ONNXRUNTIME_NODE_INSTALL'));
  return new Promise((resolve, reject) => {
    execFile('npm', args, { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

test('npm in the repository warns about no unknown project config, and install scripts are off', async () => {
  const r = await npm('config', 'get', 'ignore-scripts');
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Unknown project config/, r.stderr);
  assert.equal(r.stdout.trim(), 'true', 'the project .npmrc sets ignore-scripts=true (an offline npm ci must not run onnxruntime-node\'s download)');
});
