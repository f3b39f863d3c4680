// Runs the sentencekit command as a child process for the CLI tests, and checks an exit code,
// the expected messages and the absence of a stack trace.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/src/cli/main.js ...args` from the repo root; never throws on a non-zero exit. */
export function cli(...args: string[]): Promise<Run> {
  return cliWithEnv({}, ...args);
}

/** As `cli`, with extra environment variables for the child. */
export function cliWithEnv(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN, ...args], {
      cwd: process.cwd(),
      env: { ...process.env, HF_HUB_OFFLINE: '1', SENTENCEKIT_DEBUG: '', ...env },
      timeout: 120_000,
      maxBuffer: 16 << 20,
    }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

export function assertExit(r: Run, code: number, ...parts: Array<string | RegExp>): void {
  const said = `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.code, code, said);
  for (const p of parts) {
    if (typeof p === 'string') assert.ok(r.stderr.includes(p), `stderr lacks ${JSON.stringify(p)}\n${said}`);
    else assert.match(r.stderr, p, said);
  }
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, `a stack trace was printed\n${said}`);
}
