// AdamW, as the training graphs run it (PyTorch's update order), with its state:
//   c = min(max_norm / (‖g‖ + 1e-6), 1);  g ← c·g
//   p ← p·(1 − lr·wd);  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²
//   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
// Updates apply only when the loss and the gradient norm are finite (the step's scalars are
// gated so that a non-finite step leaves every buffer bit-for-bit unchanged). The step-dependent
// scalars (1 − lr·wd, lr / (1 − β₁ᵗ), √(1 − β₂ᵗ)) are inputs computed here in float64. The
// moments live in flat Float32Arrays, bound to the graph's outputs so onnxruntime updates them
// (and the weights) in place. Also the cache of compiled step sessions.

import type { GraphBuilder } from '../graph/builder.js';
import type { TensorData, Value } from '../graph/ir.js';
import { Session, type SessionOptions } from '../runtime/session.js';
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
  session?: Pick<SessionOptions, 'profile' | 'profilePrefix' | 'spinning' | 'memArena'>;
}

/**
 * Session options of the training sessions: the caller's, with onnxruntime's memory arena off
 * unless asked for (a 32 pairs × 128 tokens MiniLM step peaks ~40 % lower without it, at a few
 * per cent of speed; `npm run bench` measures both).
 */
export function stepSessionOptions(o: OptimizerOptions): SessionOptions {
  return { ...o.session, memArena: o.session?.memArena ?? false, threads: o.threads };
}

export type Moments = Map<string, { m: Float32Array; v: Float32Array }>;

export interface AdamWGraphOptions {
  maxGradNorm: number | null;
  betas: [number, number];
  eps: number;
}

/**
 * Adds global-norm clipping and AdamW on `updated` with gradients `gradOf(name)` to `g`;
 * outputs grad_norm, finite and every parameter's and moment's new value (`extraCheck` joins
 * the finiteness test, e.g. the loss).
 */
export function adamwGraph(g: GraphBuilder, updated: TrainableParam[], valueOf: (n: string) => Value, gradOf: (n: string) => Value, o: AdamWGraphOptions, extraCheck: Value | null): void {
  const decayMult = g.input('decay_mult', 'float32', []);
  const stepSize = g.input('step_size', 'float32', []);
  const bc2Sqrt = g.input('bias_correction2_sqrt', 'float32', []);
  g.scope('optimizer', () => {
    let sumSq: Value | null = null;
    for (const p of updated) {
      const s = g.op1('ReduceSumSquare', [gradOf(p.name)], { keepdims: 0 });
      sumSq = sumSq ? g.add(sumSq, s) : s;
    }
    const norm = sumSq ? g.sqrt(sumSq) : g.scalar(0);
    g.output(norm, 'grad_norm');
    const check = extraCheck ? g.add(norm, extraCheck) : norm;
    const finite = g.equal(g.sub(check, check), g.scalar(0));
    g.output(finite, 'finite');
    const coef = o.maxGradNorm ? g.min(g.div(g.scalar(o.maxGradNorm), g.add(norm, g.scalar(1e-6))), g.scalar(1)) : g.scalar(1);
    // Step scalars, gated by `finite`: a non-finite step leaves p, m and v exactly as they were
    // (β = 1, scale 0, step 0, decay 1) after the gradient's NaNs are replaced by zeros.
    const [b1, b2] = o.betas;
    const gate = (on: Value, off: number): Value => g.where(finite, on, g.scalar(off));
    const b1e = gate(g.scalar(b1), 1);
    const b2e = gate(g.scalar(b2), 1);
    const s1 = gate(g.mul(coef, g.scalar(1 - b1)), 0);
    const s2 = gate(g.mul(g.mul(coef, coef), g.scalar(1 - b2)), 0);
    const stepE = gate(stepSize, 0);
    const decayE = gate(decayMult, 1);
    for (const p of updated) {
      const x = valueOf(p.name);
      const gr = g.where(finite, gradOf(p.name), g.scalar(0));
      const shape = x.shape ? [...x.shape] : [...p.param.shape];
      const m = g.input(`${p.name}:m`, 'float32', shape);
      const v = g.input(`${p.name}:v`, 'float32', shape);
      const m2 = g.add(g.mul(m, b1e), g.mul(gr, s1));
      const v2 = g.add(g.mul(v, b2e), g.mul(g.mul(gr, gr), s2));
      const denom = g.add(g.div(g.sqrt(v2), bc2Sqrt), g.scalar(o.eps));
      const decayed = p.decay ? g.mul(x, decayE) : x;
      g.output(g.sub(decayed, g.mul(stepE, g.div(m2, denom))), `${p.name}:new`);
      g.output(m2, `${p.name}:m:new`);
      g.output(v2, `${p.name}:v:new`);
    }
  });
}

/** AdamW's state (the moments of every trainable parameter) and the feeds of one update. */
export class AdamW {
  readonly moments: Moments;

  /** `moments` may be shared between the steps of several losses training the same model. */
  constructor(params: readonly TrainableParam[], readonly opts: OptimizerOptions, moments?: Moments) {
    this.moments = moments ?? new Map();
    for (const p of params) {
      if (p.trainable && !this.moments.has(p.name)) this.moments.set(p.name, { m: new Float32Array(p.param.data.length), v: new Float32Array(p.param.data.length) });
    }
  }

  get graphOptions(): AdamWGraphOptions {
    return { maxGradNorm: this.opts.maxGradNorm, betas: this.opts.betas, eps: this.opts.eps };
  }

  /** The step's scalar inputs at learning rate `lr`, step `t` (1-based); `apply` false gives a step of size 0. */
  scalars(lr: number, t: number, apply = true): Record<string, TensorData> {
    const [b1, b2] = this.opts.betas;
    const scalar = (x: number): TensorData => ({ dtype: 'float32', dims: [], data: Float32Array.of(x) });
    return {
      decay_mult: scalar(1 - lr * this.opts.weightDecay),
      step_size: scalar(apply ? lr / (1 - b1 ** t) : 0),
      bias_correction2_sqrt: scalar(Math.sqrt(1 - b2 ** t)),
    };
  }

  /**
   * Feeds `p` and its moments (as `data`, `m`, `v`, by default the full tensors) and binds
   * their new values to the same buffers.
   */
  bind(p: TrainableParam, feeds: Record<string, TensorData>, into: Record<string, TensorData>, rows?: { dims: number[]; data: Float32Array; m: Float32Array; v: Float32Array }): void {
    const mv = this.moments.get(p.name)!;
    const dims = rows?.dims ?? p.param.shape;
    feeds[p.name] = { dtype: 'float32', dims, data: rows?.data ?? p.param.data };
    feeds[`${p.name}:m`] = { dtype: 'float32', dims, data: rows?.m ?? mv.m };
    feeds[`${p.name}:v`] = { dtype: 'float32', dims, data: rows?.v ?? mv.v };
    into[`${p.name}:new`] = feeds[p.name];
    into[`${p.name}:m:new`] = feeds[`${p.name}:m`];
    into[`${p.name}:v:new`] = feeds[`${p.name}:v`];
  }
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
