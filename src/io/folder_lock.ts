// An exclusive lock on an output folder, held by the one process that writes it: a file
// `sentencekit.lock` in the folder, created with O_CREAT | O_EXCL, holding {pid, host, started,
// command}. A second writer is refused with the holder named. A lock whose process is gone
// (same host, pid not alive) is stale: it is reported and taken over. The lock is removed on
// release and, as a last resort, when the process exits.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Name of the lock file inside the locked folder. */
export const LOCK_FILE = 'sentencekit.lock';

export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  started: string;
  /** What holds it, e.g. "sentencekit train --config cfg.json". */
  command: string;
}

export class FolderLockedError extends Error {
  constructor(message: string, readonly holder: LockInfo | null) {
    super(message);
    this.name = 'FolderLockedError';
  }
}

export interface FolderLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock file (when it is still ours); idempotent. */
  release(): void;
}

/** True when a process with this pid exists on this machine. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const o = JSON.parse(text) as Partial<LockInfo>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string') return null;
    return { pid: o.pid, host: o.host, started: String(o.started ?? 'an unknown time'), command: String(o.command ?? 'an unknown command') };
  } catch {
    return null;
  }
}

/** The lock file's holder, 'unreadable' for a file that is not a lock, or null when there is none. */
export function readLock(dir: string): LockInfo | 'unreadable' | null {
  let text: string;
  try {
    text = readFileSync(join(dir, LOCK_FILE), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new Error(`cannot read the lock file ${join(dir, LOCK_FILE)}: ${(e as Error).message}; check the folder's permissions`);
  }
  return parseLock(text) ?? 'unreadable';
}

/** Whether a holder is running: true, false (stale), or null (another host: cannot tell). */
export function holderAlive(info: LockInfo): boolean | null {
  if (info.host !== hostname()) return null;
  return pidAlive(info.pid);
}

function describeHolder(info: LockInfo): string {
  return `pid ${info.pid} on ${info.host}, started ${info.started} (${info.command})`;
}

/** Throws when `dir` is locked by a live process (or one on another host); a stale lock passes. */
export function assertNotLocked(dir: string, what = 'the folder'): void {
  const info = readLock(dir);
  if (info === null || info === 'unreadable') return;
  const alive = holderAlive(info);
  if (alive === false) return;
  throw lockedError(dir, info, alive, what);
}

function lockedError(dir: string, info: LockInfo, alive: boolean | null, what: string): FolderLockedError {
  const path = join(dir, LOCK_FILE);
  return new FolderLockedError(alive === null
    ? `${dir}: ${what} is locked by ${describeHolder(info)}, on another machine, so whether it still runs cannot be told here; wait for it to finish, or delete ${path} if it is no longer running`
    : `${dir}: ${what} is in use by a running process, ${describeHolder(info)}; wait for it to finish or stop it, or write to another folder`, info);
}

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`cannot create the lock file ${path}: ${(e as Error).message}; check that the folder is writable`);
  }
  try {
    writeSync(fd, JSON.stringify(info) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the lock on `dir` (which must exist). A live holder is refused with FolderLockedError;
 * a stale one is reported through `onStale` and taken over.
 */
export async function acquireFolderLock(dir: string, opts: { command: string; what?: string; onStale?: (message: string) => void }): Promise<FolderLock> {
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: opts.command };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(path, info)) return held(path, info);
    let holder = readLock(dir);
    if (holder === 'unreadable') {
      // a holder may be between creating and writing the file: look again before calling it stale
      await new Promise((r) => setTimeout(r, 300));
      holder = readLock(dir);
    }
    if (holder === null) continue; // released meanwhile
    if (holder !== 'unreadable') {
      const alive = holder.pid === process.pid && holder.host === info.host ? true : holderAlive(holder);
      if (alive !== false) throw lockedError(dir, holder, alive, opts.what ?? 'the folder');
    }
    // stale: move it aside (only one taker wins the rename) and check that it was the stale one
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    const moved = parseLock(readFileSync(aside, 'utf8'));
    if (holder !== 'unreadable' && (moved === null || moved.pid !== holder.pid || moved.started !== holder.started)) {
      // someone else took the stale lock first and this is theirs: put it back
      renameSync(aside, path);
      continue;
    }
    unlinkSync(aside);
    opts.onStale?.(holder === 'unreadable'
      ? `${dir}: removed an unreadable lock file ${LOCK_FILE} (not written by a running process) and took the lock`
      : `${dir}: took over a stale lock left by ${describeHolder(holder)}, which is no longer running`);
  }
  throw new FolderLockedError(`${dir}: could not take the lock ${path} (other processes keep taking it); try again`, null);
}

function held(path: string, info: LockInfo): FolderLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    try {
      const now = parseLock(readFileSync(path, 'utf8'));
      if (now && now.pid === info.pid && now.started === info.started) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return { path, info, release };
}
