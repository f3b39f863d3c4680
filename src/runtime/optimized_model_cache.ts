// On-disk cache of onnxruntime's optimised models: a session for a graph compiled before (by
// this process or another) loads the optimised model with graph optimisation off instead of
// optimising again. Takes ModelProto bytes and onnxruntime session options; gives a session.
//   key   = sha256(cache format ‖ package version ‖ onnxruntime version ‖ platform, arch, CPU model
//           and flags ‖ session options ‖ graph bytes)   (the graph bytes decide the result alone;
//           the rest decides what onnxruntime makes of them)
//   entry = <root>/optimized-models/<key>.onnxopt = MAGIC ‖ sha256(payload) ‖ payload
// A hit reads the entry, checks the digest and builds the session from the payload; a missing,
// truncated or damaged entry (or one onnxruntime refuses) is rebuilt: onnxruntime optimises as
// usual, writing its optimised model to a temporary file, which is then stored atomically
// (temporary name, fsync, rename), so concurrent processes only ever see whole entries. After a
// store, the oldest entries (by modification time; a hit refreshes it) beyond 2 GiB are removed.
// Root: SENTENCEKIT_CACHE, else $XDG_CACHE_HOME/sentencekit, else ~/.cache/sentencekit.
// SENTENCEKIT_STARTUP_CACHE=0 turns it off (nothing read, nothing written).

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { writeFileAtomic } from '../io/atomic.js';
import { VERSION } from '../version.js';

const FORMAT = 'sentencekit-optimized-model-1';
const MAGIC = Buffer.from('SKORTOPT', 'ascii');
const HEADER = MAGIC.length + 32;
const EXT = '.onnxopt';
/** Total size kept; the oldest entries beyond it are removed after each store. */
export const OPTIMIZED_CACHE_MAX_BYTES = 2 * 1024 ** 3;
/** Temporary files older than this are leftovers of a killed process. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** What the cache did in this process (tests and benchmarks read it). */
export const optimizedCacheStats = { hits: 0, misses: 0, damaged: 0, stored: 0, evicted: 0, errors: 0 };

/** Whether the cache is on: SENTENCEKIT_STARTUP_CACHE 1 (default) or 0. */
export function optimizedCacheEnabled(): boolean {
  const v = process.env.SENTENCEKIT_STARTUP_CACHE;
  if (v === undefined || v === '' || v === '1') return true;
  if (v === '0') return false;
  throw new Error(`SENTENCEKIT_STARTUP_CACHE must be 1 (cache onnxruntime's optimised training graphs on disk; the default) or 0 (do not), not "${v}"`);
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

/** SentenceKit's cache root: SENTENCEKIT_CACHE, else $XDG_CACHE_HOME/sentencekit, else ~/.cache/sentencekit. */
export function sentencekitCacheDir(): string {
  const env = process.env;
  return expandHome(env.SENTENCEKIT_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sentencekit'));
}

/** Folder of the optimised models. */
export function optimizedCacheDir(): string {
  return join(sentencekitCacheDir(), 'optimized-models');
}

let machineId: string | null = null;

/** Platform, architecture, CPU model and (on Linux) the CPU's feature flags: what onnxruntime's kernels choose by. */
function machine(): string {
  if (machineId === null) {
    let flags = '';
    try {
      flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '';
    } catch {
      // not Linux: the CPU model stands for its features
    }
    machineId = JSON.stringify([process.platform, process.arch, cpus()[0]?.model ?? '', flags]);
  }
  return machineId;
}

/** Session options that decide the optimised graph (all of them but the profiler's and the output path). */
function keyOptions(o: ort.InferenceSession.SessionOptions): string {
  const { enableProfiling: _p, profileFilePrefix: _f, optimizedModelFilePath: _o, ...rest } = o;
  return JSON.stringify(rest);
}

export function optimizedCacheKey(bytes: Uint8Array, o: ort.InferenceSession.SessionOptions): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([FORMAT, VERSION, ort.env.versions.common, machine(), keyOptions(o)]));
  h.update(bytes);
  return h.digest('hex');
}

/** The payload of a whole, undamaged entry, else null. */
function checkedPayload(file: Buffer): Buffer | null {
  if (file.length <= HEADER || !file.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const payload = file.subarray(HEADER);
  const digest = createHash('sha256').update(payload).digest();
  return digest.equals(file.subarray(MAGIC.length, HEADER)) ? payload : null;
}

async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

let warned = false;

function storeFailed(dir: string, err: unknown): void {
  optimizedCacheStats.errors++;
  if (warned) return;
  warned = true;
  const why = err instanceof Error ? err.message : String(err);
  process.emitWarning(`cannot write the start-up cache in ${dir} (${why}); sessions are built without it. Set SENTENCEKIT_CACHE to a writable folder, or SENTENCEKIT_STARTUP_CACHE=0`);
}

/**
 * An onnxruntime session for `bytes` with options `o`, from the disk cache when it holds this
 * graph's optimised model, else optimised as usual and stored for the next process.
 */
export async function createOptimizedCached(bytes: Uint8Array, o: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  const dir = optimizedCacheDir();
  const key = optimizedCacheKey(bytes, o);
  const path = join(dir, key + EXT);
  const file = await readFile(path).catch(() => null);
  if (file) {
    const payload = checkedPayload(file);
    if (payload) {
      try {
        const s = await ort.InferenceSession.create(payload, { ...o, graphOptimizationLevel: 'disabled' });
        optimizedCacheStats.hits++;
        const now = new Date();
        await utimes(path, now, now).catch(() => undefined);
        return s;
      } catch {
        // a whole file onnxruntime will not load: rebuilt below
      }
    }
    optimizedCacheStats.damaged++;
    await removeQuietly(path);
  } else {
    optimizedCacheStats.misses++;
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    storeFailed(dir, err);
    return ort.InferenceSession.create(bytes, o);
  }
  const temp = join(dir, `${key}.ort-out-${process.pid}-${randomBytes(6).toString('hex')}`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { ...o, optimizedModelFilePath: temp });
  } catch (err) {
    await removeQuietly(temp);
    // onnxruntime could not write its optimised model (a read-only or full folder), or the graph
    // is bad: without the output path the first works and the second fails with its own error
    const s = await ort.InferenceSession.create(bytes, o);
    storeFailed(dir, err);
    return s;
  }
  try {
    const optimised = await readFile(temp);
    const digest = createHash('sha256').update(optimised).digest();
    await writeFileAtomic(path, Buffer.concat([MAGIC, digest, optimised]));
    optimizedCacheStats.stored++;
    await evict(dir, OPTIMIZED_CACHE_MAX_BYTES);
  } catch (err) {
    storeFailed(dir, err);
  } finally {
    await removeQuietly(temp);
  }
  return session;
}

/** Removes the oldest entries until the folder's entries fit in `maxBytes`, and stale temporary files. */
export async function evict(dir: string, maxBytes: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const entries: { path: string; size: number; mtime: number }[] = [];
  const now = Date.now();
  for (const name of names) {
    const p = join(dir, name);
    const st = await stat(p).catch(() => null);
    if (!st?.isFile()) continue;
    if (name.endsWith(EXT)) entries.push({ path: p, size: st.size, mtime: st.mtimeMs });
    else if (now - st.mtimeMs > STALE_TEMP_MS) await removeQuietly(p);
  }
  entries.sort((a, b) => b.mtime - a.mtime);
  let total = 0;
  for (const e of entries) {
    total += e.size;
    if (total > maxBytes) {
      await removeQuietly(e.path);
      optimizedCacheStats.evicted++;
    }
  }
}
