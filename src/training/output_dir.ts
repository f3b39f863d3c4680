// The rules for a training run's output folder: one run at a time (a lock file with its pid,
// host and start time; a stale lock is reported and taken over); a fresh run needs an empty or
// new folder unless told to overwrite, and then the earlier run's checkpoints, best model and
// log are removed first so that nothing of it mixes with the new one; `resume` needs a
// complete checkpoint and says so when there is none. Interrupted checkpoint writes are
// cleaned up only by the lock's holder.

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireFolderLock, assertNotLocked, LOCK_FILE, type FolderLock } from '../io/folder_lock.js';
import { assertWritableFolder, listExisting } from '../io/output_guard.js';
import { ConfigError } from './args.js';
import { cleanInterruptedWrites, latestCheckpoint } from './checkpoint.js';

export interface TrainOutputOptions {
  /** true: the newest checkpoint in the folder; a string: that checkpoint; false: a fresh run. */
  resume: boolean | string;
  /** A fresh run may replace an earlier run in the folder. */
  overwrite: boolean;
}

const WHAT = 'the training output folder';

function checkpointsIn(dir: string): string[] {
  return listExisting(dir)
    .map((n) => /^checkpoint-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => m[0]);
}

function assertFresh(dir: string, overwrite: boolean): void {
  const cks = checkpointsIn(dir);
  assertWritableFolder(dir, {
    overwrite,
    what: 'a fresh training run',
    ignore: [LOCK_FILE],
    flag: '--overwrite (or "overwrite": true in the config)',
    hint: cks.length
      ? `It holds checkpoints of an earlier run (${cks.slice(-3).join(', ')}${cks.length > 3 ? `, ${cks.length} in all` : ''}): pass --resume to continue that run`
      : undefined,
  });
}

function noCheckpoint(dir: string): ConfigError {
  return new ConfigError(`${dir}: --resume found no complete checkpoint (a checkpoint-N folder with trainer_state.json) to continue from; run without --resume to start a fresh run`);
}

/** The checks that need no lock, made before any work (loading the model and data). */
export async function checkTrainOutput(dir: string, opts: TrainOutputOptions): Promise<void> {
  assertNotLocked(dir, WHAT);
  if (opts.resume === true) {
    if (!(await latestCheckpoint(dir))) throw noCheckpoint(dir);
  } else if (opts.resume === false) {
    assertFresh(dir, opts.overwrite);
  }
}

/**
 * Creates and locks `dir` for a run, applies the rules above (clearing an earlier run when a
 * fresh one may overwrite it) and removes interrupted writes. Release the lock when done.
 */
export async function openTrainOutput(dir: string, opts: TrainOutputOptions & { command: string; log: (line: string) => void }): Promise<FolderLock> {
  if (opts.resume === true && !(await latestCheckpoint(dir))) throw noCheckpoint(dir); // before creating anything
  await mkdir(dir, { recursive: true });
  const lock = await acquireFolderLock(dir, { command: opts.command, what: WHAT, onStale: opts.log });
  try {
    if (opts.resume === false) {
      assertFresh(dir, opts.overwrite);
      const old = checkpointsIn(dir);
      for (const n of [...old, 'best-model', 'logs.jsonl']) await rm(join(dir, n), { recursive: true, force: true });
      if (old.length) opts.log(`${dir}: a fresh run with overwrite: removed ${old.length} checkpoint(s) of an earlier run (${old.slice(-3).join(', ')}) and its log`);
    } else if (opts.resume === true && !(await latestCheckpoint(dir))) {
      throw noCheckpoint(dir);
    }
    await cleanInterruptedWrites(dir);
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}
