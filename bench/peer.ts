// The real peer of the benchmarks: sentence-transformers 6 on torch 2.13 in the repository's
// .venv (scripts/python_env.sh, with the Trainer's
// datasets/accelerate), run as scripts/reference/bench_st.py. Every child — ours or the peer's —
// is timed from spawn to exit (the end-to-end figure) and prints its own figures as the last
// JSON line of stdout.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const pexec = promisify(execFile);
export const VENV_PYTHON = resolve(process.cwd(), '.venv', 'bin', 'python');

/** Why the peer cannot run here, or null when it can. */
export async function peerMissing(): Promise<string | null> {
  if (!existsSync(VENV_PYTHON)) return `${VENV_PYTHON} absent: run \`bash scripts/python_env.sh\` to measure sentence-transformers beside us`;
  try {
    await pexec(VENV_PYTHON, ['-c', 'import sentence_transformers, torch, datasets, accelerate']);
    return null;
  } catch (e) {
    return `the .venv cannot import sentence_transformers, torch, datasets and accelerate (${String((e as Error).message).split('\n').filter(Boolean).pop()}): run \`bash scripts/python_env.sh\``;
  }
}

export interface ChildRun {
  /** Seconds from spawn to exit: process start → result written. */
  wall_s: number;
  result: Record<string, unknown>;
}

/** Runs FILE ARGS… timed; `json` false for a child that prints no JSON line (its result is then {}). */
export async function timedChild(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, json = true): Promise<ChildRun> {
  const t0 = performance.now();
  let stdout: string;
  try {
    ({ stdout } = await pexec(file, args, { env, maxBuffer: 1 << 26 }));
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-5).join('\n')}`);
  }
  const wall = (performance.now() - t0) / 1000;
  const last = stdout.trim().split('\n').pop() ?? '';
  if (!json) return { wall_s: +wall.toFixed(3), result: {} };
  try {
    return { wall_s: +wall.toFixed(3), result: JSON.parse(last) as Record<string, unknown> };
  } catch {
    throw new Error(`${file} ${args.join(' ')}: its last line of output is not JSON: ${last.slice(0, 200)}`);
  }
}

/** scripts/reference/bench_st.py MODE ARGS… in the .venv, timed. */
export function runPeer(mode: 'encode' | 'train', args: string[], threads: number): Promise<ChildRun> {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' };
  return timedChild(VENV_PYTHON, ['scripts/reference/bench_st.py', mode, ...args, '--threads', String(threads)], env);
}
