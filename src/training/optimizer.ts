// AdamW (PyTorch's update order), with its state:
//   c = min(max_norm / (‖g‖ + 1e-6), 1);  g ← c·g
//   p ← p·(1 − lr·wd);  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²
//   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
// The step graphs end in gradients: each parameter's gradient is bound to a buffer held here
// across steps, and the graph also gives ‖g‖ and whether it and the loss are finite
// (gradNormGraph). The update is then one pass over each parameter, in place on the weights and
// the moments: the WebAssembly SIMD kernel where the parameter's arrays live in an arena
// (param_arena.ts; every trainable parameter up to 1 GiB of state), else a float64 loop here.
// In the graph it was ~15 elementwise passes over every parameter plus the copy of the new
// weights and moments out of onnxruntime (three times the bytes of the gradients). A step that
// is not finite (loss or ‖g‖) applies nothing: every weight and moment stays bit for bit. Also
// the cache of compiled step sessions.

import type { GraphBuilder } from '../graph/builder.js';
import type { TensorData, Value } from '../graph/ir.js';
import { memArenaEnabled, Session, type SessionOptions } from '../runtime/session.js';
import { place, slotOf, updateSlot, type AdamWCoefficients, type UpdateRows } from './param_arena.js';
import type { TrainableParam } from './param_source.js';

export interface OptimizerOptions {
  learningRate: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  maxGradNorm: number | null;
  /** Seed of the dropout masks (which depend on it and the step number only); null: dropout off. */
  dropoutSeed: number | null;
  freezeWordEmbeddings: boolean;
  /** Update only the word-embedding rows each batch uses (lazy AdamW on the table). */
  sparseEmbeddings?: boolean;
  threads?: number;
  /** onnxruntime options of the step sessions (profiling, spinning, memory arena). */
  session?: Pick<SessionOptions, 'profile' | 'profilePrefix' | 'spinning' | 'memArena' | 'memPattern' | 'disabledOptimizers'>;
}

/**
 * Session options of the training sessions: the caller's, with onnxruntime's memory arena on
 * and its memory pattern off, unless asked otherwise (SENTENCEKIT_MEM_ARENA=0 turns the arena off
 * and the pattern back on). Measured on MiniLM, `npm run bench -- --only train`, against arena
 * off and pattern on (the default before): 32 × 32 steps 0.98 against 1.23 s at 1,201 against
 * 1,529 MB; 32 × 128 5.2 against 6.9 s at 4,194 against 3,972 MB (that shape's peak moves by
 * hundreds of MB from run to run); shuffled STS-B the same speed at 1,137 against 1,187 MB.
 * Without the arena every intermediate is fresh memory, faulted in page by page on each step;
 * with arena and pattern both on, each new input shape's planned block grew the arena (5.7 GB at
 * 32 × 128); with neither, 32 × 128 took twice as long.
 */
export function stepSessionOptions(o: OptimizerOptions): SessionOptions {
  const memArena = memArenaEnabled({ memArena: o.session?.memArena ?? true });
  return { ...o.session, memArena, memPattern: o.session?.memPattern ?? !memArena, threads: o.threads, disabledOptimizers: o.session?.disabledOptimizers ?? ['CommonSubexpressionElimination'] };
}

export type Moments = Map<string, { m: Float32Array; v: Float32Array }>;

/**
 * Adds to `g` the global gradient norm `grad_norm`, `finite` (‖g‖ and `extraCheck`, e.g. the
 * loss, are finite) and every updated parameter's gradient as output `${name}:grad`.
 */
export function gradNormGraph(g: GraphBuilder, updated: TrainableParam[], gradOf: (n: string) => Value, extraCheck: Value | null): void {
  g.scope('optimizer', () => {
    let sumSq: Value | null = null;
    for (const p of updated) {
      const s = g.op1('ReduceSumSquare', [gradOf(p.name)], { keepdims: 0 });
      sumSq = sumSq ? g.add(sumSq, s) : s;
    }
    const norm = sumSq ? g.sqrt(sumSq) : g.scalar(0);
    g.output(norm, 'grad_norm');
    const check = extraCheck ? g.add(norm, extraCheck) : norm;
    g.output(g.equal(g.sub(check, check), g.scalar(0)), 'finite');
    for (const p of updated) g.output(gradOf(p.name), `${p.name}:grad`);
  });
}

export type { UpdateRows };

/** AdamW's state (the moments of every trainable parameter), the gradient buffers and the update. */
export class AdamW {
  readonly moments: Moments;
  private readonly grads = new Map<string, Float32Array>();
  private readonly rowGrads = new Map<string, Float32Array>();

  /**
   * `moments` may be shared between the steps of several losses training the same model. The
   * trainable parameters' weights and moments move into arenas (their `data` and moment arrays
   * become views there, with the same values).
   */
  constructor(params: readonly TrainableParam[], readonly opts: OptimizerOptions, moments?: Moments) {
    this.moments = moments ?? new Map();
    const trainable = params.filter((p) => p.trainable);
    for (const p of trainable) {
      if (!this.moments.has(p.name)) this.moments.set(p.name, { m: new Float32Array(p.param.data.length), v: new Float32Array(p.param.data.length) });
    }
    place(trainable.map((p) => ({ data: p.param.data, ...this.moments.get(p.name)! })), (i, views) => {
      const p = trainable[i];
      const mv = this.moments.get(p.name)!;
      p.param.data = views.p;
      mv.m = views.m;
      mv.v = views.v;
    });
  }

  /** The gradient buffer of `p` (held across steps; its arena region if it has one), `length` floats (by default the whole parameter). */
  gradBuffer(p: TrainableParam, length = p.param.data.length): Float32Array {
    const slot = slotOf(p.param.data);
    if (slot) return slot.views.g.subarray(0, length);
    return grownBuffer(this.grads, p.name, length);
  }

  /** Binds the graph's `${name}:grad` output of `p` (dims: by default the parameter's) to its gradient buffer. */
  bindGrad(p: TrainableParam, into: Record<string, TensorData>, dims: readonly number[] = p.param.shape): Float32Array {
    const data = this.gradBuffer(p, dims.reduce((a, b) => a * b, 1));
    into[`${p.name}:grad`] = { dtype: 'float32', dims: [...dims], data };
    return data;
  }

  /**
   * Binds the `[rows, width]` gradient of a table fed as the rows a batch uses (tableRows) to
   * a buffer of its own (the table's gradient buffer then receives the scattered rows).
   */
  bindRowsGrad(p: TrainableParam, into: Record<string, TensorData>, rows: number, width: number): Float32Array {
    const data = grownBuffer(this.rowGrads, p.name, rows * width);
    into[`${p.name}:grad`] = { dtype: 'float32', dims: [rows, width], data };
    return data;
  }

  /**
   * The whole table's gradient from the gradient of its distinct rows `ids` (row k of
   * `rowsGrad` is table row ids[k]): zeros elsewhere, in the table's gradient buffer.
   */
  scatterRows(p: TrainableParam, rowsGrad: Float32Array, ids: Int32Array, width: number): Float32Array {
    const g = this.gradBuffer(p);
    g.fill(0);
    for (let k = 0; k < ids.length; k++) g.set(rowsGrad.subarray(k * width, (k + 1) * width), ids[k] * width);
    return g;
  }

  /**
   * One AdamW step at learning rate `lr`, step number `t` (1-based), on each parameter from its
   * gradient `gradOf(p)` (of global norm `gradNorm`), in place; `rows` restricts a parameter to
   * some of its rows. Nothing changes unless `finite`.
   */
  update(updated: readonly TrainableParam[], gradOf: (p: TrainableParam) => Float32Array, gradNorm: number, finite: boolean, lr: number, t: number, rows?: Map<string, UpdateRows>): void {
    if (!finite) return;
    const { betas: [b1, b2], eps, maxGradNorm, weightDecay } = this.opts;
    const coef = maxGradNorm ? Math.min(Math.fround(maxGradNorm / (gradNorm + 1e-6)), 1) : 1;
    const k: AdamWCoefficients = {
      s1: coef * (1 - b1),
      s2: coef * coef * (1 - b2),
      b1,
      b2,
      eps,
      step: lr / (1 - b1 ** t),
      bc2: Math.sqrt(1 - b2 ** t),
      decay: 1,
    };
    for (const p of updated) {
      const mv = this.moments.get(p.name)!;
      const g = gradOf(p);
      const c = { ...k, decay: p.decay ? 1 - lr * weightDecay : 1 };
      const r = rows?.get(p.name);
      const slot = slotOf(p.param.data);
      if (slot && slot.views.m === mv.m) {
        if (g.buffer !== slot.views.g.buffer || g.byteOffset !== slot.views.g.byteOffset) slot.views.g.set(g);
        if (updateSlot(slot, c, r)) continue;
      }
      if (!r) {
        adamwPass(p.param.data, mv.m, mv.v, 0, g, 0, p.param.data.length, c);
        continue;
      }
      for (let i = 0; i < r.ids.length; i++) adamwPass(p.param.data, mv.m, mv.v, r.ids[i] * r.width, g, i * r.width, r.width, c);
    }
  }
}

/** The first `length` floats of the buffer `name` of `buffers`, reallocated (at least doubling) when it is shorter. */
function grownBuffer(buffers: Map<string, Float32Array>, name: string, length: number): Float32Array {
  let b = buffers.get(name);
  if (!b || b.length < length) {
    b = new Float32Array(Math.max(length, b ? b.length * 2 : 0));
    buffers.set(name, b);
  }
  return b.subarray(0, length);
}

/** AdamW on n elements of p, m, v from offset `at`, with the gradient g from offset `gAt` (the loop for arrays outside an arena). */
function adamwPass(p: Float32Array, m: Float32Array, v: Float32Array, at: number, g: Float32Array, gAt: number, n: number, c: AdamWCoefficients): void {
  const { s1, s2, b1, b2, eps, step, bc2, decay } = c;
  for (let i = 0; i < n; i++) {
    const gi = g[gAt + i];
    const j = at + i;
    const mi = m[j] * b1 + gi * s1;
    const vi = v[j] * b2 + gi * gi * s2;
    m[j] = mi;
    v[j] = vi;
    p[j] = p[j] * decay - step * (mi / (Math.sqrt(vi) / bc2 + eps));
  }
}

/** Global L2 norm of the gradients, in float64 (four partial sums, so the additions overlap). */
export function globalNorm(grads: Iterable<Float32Array>): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  for (const g of grads) {
    const n4 = g.length - (g.length % 4);
    let i = 0;
    for (; i < n4; i += 4) {
      a += g[i] * g[i];
      b += g[i + 1] * g[i + 1];
      c += g[i + 2] * g[i + 2];
      d += g[i + 3] * g[i + 3];
    }
    for (; i < g.length; i++) a += g[i] * g[i];
  }
  return Math.sqrt(a + b + c + d);
}

/**
 * Compiled step graphs by key (shape class), each built and compiled once; onnxruntime's
 * optimised model of each is kept on disk for later processes (the graphs hold no weights, so
 * their key, a hash of the graph bytes, is cheap to compute; session.ts diskCache).
 */
export class SessionCache<B extends { bytes: Uint8Array }> {
  private readonly made = new Map<string, Promise<{ built: B; session: Session }>>();

  constructor(private readonly options: SessionOptions) {}

  get(key: string, make: () => B): Promise<{ built: B; session: Session }> {
    let p = this.made.get(key);
    if (!p) {
      const built = make();
      p = Session.create(built.bytes, { ...this.options, diskCache: this.options.diskCache ?? true, cache: false }).then((session) => ({ built, session }));
      this.made.set(key, p);
    }
    return p;
  }

  /** Ends profiling of every session (created with `profile`), writing the traces. */
  async endProfiling(): Promise<void> {
    for (const p of this.made.values()) (await p).session.endProfiling();
  }

  async close(): Promise<void> {
    for (const p of this.made.values()) await (await p).session.release();
    this.made.clear();
  }
}
