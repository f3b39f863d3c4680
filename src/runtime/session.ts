// ORT sessions built from graphs: one place that turns a Graph (or ModelProto bytes) into an
// onnxruntime-node InferenceSession with our defaults (all graph optimisations, one intra-op
// thread per core, intra-op threads that sleep rather than spin when idle), and a cache so the
// same graph with the same options is compiled once (per process; with `diskCache`, onnxruntime's
// optimised model is also kept on disk for later processes: optimized_model_cache.ts).

import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import type { Graph, TensorData } from '../graph/ir.js';
import { toModelProto } from '../graph/serialise.js';
import { DEFAULT_OPSET } from '../graph/builder.js';
import { createOptimizedCached, optimizedCacheEnabled } from './optimized_model_cache.js';
import { fromOrt, toOrt } from './tensors.js';

export interface SessionOptions {
  /** Intra-op threads (default: the machine's available parallelism). */
  threads?: number;
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Write the optimised model here (debugging: what ORT fused). */
  optimizedModelPath?: string;
  /** onnxruntime's profiler: a JSON trace per session, written at `endProfiling()`. */
  profile?: boolean;
  /** File-name prefix of the profile trace (default `onnxruntime_profile` in the working folder). */
  profilePrefix?: string;
  /**
   * Let idle intra-op threads spin (busy-wait) between parallel sections instead of sleeping.
   * Default off (or SENTENCEKIT_SPIN=1 to turn on): spinning gains a few per cent on an idle
   * machine but loses far more when another process competes for the cores (`npm run bench --
   * --only spin` measures both).
   */
  spinning?: boolean;
  /** Cache key; the default is a hash of the model bytes and options. */
  cacheKey?: string;
  /** Set false to build a private session outside the cache. */
  cache?: boolean;
  /**
   * Keep onnxruntime's optimised model on disk, keyed by a hash of the graph bytes and options,
   * and load it (graph optimisation off) when a later session needs the same graph: skips most of
   * session creation for graphs whose weights are inputs (training). Default off; also off with
   * SENTENCEKIT_STARTUP_CACHE=0, `optimizedModelPath` or `optimization: 'disabled'`.
   */
  diskCache?: boolean;
  /**
   * onnxruntime's CPU memory arena (default on). SENTENCEKIT_MEM_ARENA=1/0 overrides either way.
   * Without it every tensor is fresh memory from malloc, faulted in page by page on each run.
   */
  memArena?: boolean;
  /**
   * onnxruntime's memory pattern (one planned block per input shape for all intermediates;
   * default: onnxruntime's, on). The training step runners turn it off while the arena is on:
   * with shapes that change every step, each new shape's block grew the arena.
   */
  memPattern?: boolean;
  /**
   * onnxruntime graph transformers to skip, by name. Training steps skip
   * CommonSubexpressionElimination, which would merge a value recomputed for the backward pass
   * (GraphBuilder.recomputeInBackward) back into its forward node, and so keep it after all.
   */
  disabledOptimizers?: string[];
}

export type Feeds = Record<string, TensorData>;
export type Fetches = Record<string, TensorData>;

export function defaultThreads(): number {
  const env = Number(process.env.SENTENCEKIT_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

/** Whether intra-op threads spin: the option, else SENTENCEKIT_SPIN (1/0), else off. */
export function spinningEnabled(opts: SessionOptions): boolean {
  if (opts.spinning !== undefined) return opts.spinning;
  const env = process.env.SENTENCEKIT_SPIN;
  if (env === undefined || env === '') return false;
  if (env === '1' || env === '0') return env === '1';
  throw new Error(`SENTENCEKIT_SPIN must be 1 (spinning intra-op threads) or 0 (sleeping; the default), not "${env}"`);
}

/** Whether onnxruntime's CPU memory arena is used: SENTENCEKIT_MEM_ARENA (1/0), else the option, else on. */
export function memArenaEnabled(opts: SessionOptions): boolean {
  const env = process.env.SENTENCEKIT_MEM_ARENA;
  if (env === '1' || env === '0') return env === '1';
  if (env !== undefined && env !== '') throw new Error(`SENTENCEKIT_MEM_ARENA must be 1 (use onnxruntime's memory arena) or 0 (do not), not "${env}"`);
  return opts.memArena ?? true;
}

export function ortOptions(opts: SessionOptions): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opts.optimization ?? 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: spinningEnabled(opts) ? '1' : '0' } } },
  };
  if (opts.disabledOptimizers?.length) o.extra = { ...o.extra, optimization: { disable_specified_optimizers: opts.disabledOptimizers.join(';') } };
  if (!memArenaEnabled(opts)) o.enableCpuMemArena = false;
  if (opts.memPattern !== undefined) o.enableMemPattern = opts.memPattern;
  if (opts.optimizedModelPath) o.optimizedModelFilePath = opts.optimizedModelPath;
  if (opts.profile) {
    o.enableProfiling = true;
    o.profileFilePrefix = opts.profilePrefix ?? 'onnxruntime_profile';
  }
  return o;
}

export class Session {
  private constructor(readonly ort: ort.InferenceSession, readonly key: string, private readonly cached = true) {}

  get inputNames(): readonly string[] { return this.ort.inputNames; }
  get outputNames(): readonly string[] { return this.ort.outputNames; }

  static async create(model: Graph | Uint8Array, opts: SessionOptions & { opset?: number } = {}): Promise<Session> {
    const bytes = model instanceof Uint8Array ? model : toModelProto(model, { opset: opts.opset ?? model.opset ?? DEFAULT_OPSET });
    const o = ortOptions(opts);
    const onDisk = opts.diskCache === true && !opts.optimizedModelPath && o.graphOptimizationLevel !== 'disabled' && optimizedCacheEnabled();
    const make = (): Promise<ort.InferenceSession> => (onDisk ? createOptimizedCached(bytes, o) : ort.InferenceSession.create(bytes, o));
    // a private session needs no key: hashing a model with its weights (~90 MB) costs ~80 ms
    if (opts.cache === false) return new Session(await make(), opts.cacheKey ?? '', false);
    const key = opts.cacheKey ?? createHash('sha256').update(bytes).update(JSON.stringify(o)).digest('hex');
    let p = cache.get(key);
    if (!p) {
      p = make().then((s) => new Session(s, key));
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  }

  /** Runs the session; `outputs` limits what is computed and copied out. */
  async run(feeds: Feeds, outputs?: string[]): Promise<Fetches> {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = toOrt(v);
    const res = outputs ? await this.ort.run(f, outputs) : await this.ort.run(f);
    const out: Fetches = {};
    for (const [k, v] of Object.entries(res)) out[k] = fromOrt(v);
    return out;
  }

  /**
   * Runs with some outputs written into caller-owned buffers (`into`): onnxruntime writes those
   * outputs directly there, so an output bound to an input's buffer updates it in place. Outputs
   * named in `fetch` are returned as usual.
   */
  async runInto(feeds: Feeds, into: Record<string, TensorData>, fetch: string[]): Promise<Fetches> {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = toOrt(v);
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const [k, v] of Object.entries(into)) fetches[k] = toOrt(v);
    for (const k of fetch) fetches[k] = null;
    const res = await this.ort.run(f, fetches);
    const out: Fetches = {};
    for (const k of fetch) out[k] = fromOrt(res[k]);
    return out;
  }

  /** Ends profiling (a session created with `profile: true`) and writes the trace file. */
  endProfiling(): void {
    this.ort.endProfiling();
  }

  async release(): Promise<void> {
    // A private (cache: false) session shares its key with a cached one; leave that entry be.
    if (this.cached) cache.delete(this.key);
    await this.ort.release();
  }
}

const cache = new Map<string, Promise<Session>>();

/** Drops every cached session (tests, long-running servers swapping models). */
export async function clearSessionCache(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const p of all) {
    try {
      await (await p).ort.release();
    } catch {
      /* already released */
    }
  }
}
