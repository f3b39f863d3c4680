// Dropout masks drawn outside the graph and fed to the step graph: each mask depends only on
// (run seed, optimizer step, micro-batch, site), so a run resumed from a checkpoint draws exactly
// the masks an uninterrupted run would. The draws come from four xorshift32 streams, one per
// SIMD lane, in a WebAssembly kernel (kernels/dropout.wat; element i of a row takes stream
// i mod 4): an element is kept when the draw's top 31 bits u satisfy u >= floor(p * 2^31)
// (probability 1 - p, to within 2^-31). One stream in JavaScript took ~2.5 ns an element.
// Every mask is float32 and holds the factor itself, 1/(1 - p) where kept and 0 where dropped,
// so that dropout is one Mul forward and one backward. A boolean mask took a Where each way:
// onnxruntime's Where with a scalar operand fills two temporaries and merges them, and without
// its memory arena each is fresh memory to fault in (at 32 x 128 tokens an attention site's
// Where took 95-280 ms against ~20 ms for the Mul, in the step; the masks themselves live in
// the kernel's reused memory).
// Given the texts' lengths (right padding), attention masks are drawn for the real
// query x key block of each text only; the padded positions are kept (their probabilities are 0,
// or their rows are discarded), so the draws scale with real tokens, not padded ones.
// The masks live in the kernel's memory, reused from call to call: a call's masks are valid
// until the next call (each step feeds them to one run at once).

import type { TensorData } from '../graph/ir.js';
import type { DropoutSite } from '../models/module.js';
import { DROPOUT_WASM } from './kernels/dropout_wasm.js';

/** A well-mixed 32-bit state from several integers (the murmur3 finaliser over a running hash). */
export function mix(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0 || 1;
}

export interface MaskShape {
  /** Texts in the batch (all columns stacked). */
  n: number;
  /** Padded tokens per text. */
  s: number;
  /** Real tokens in the batch (the rows of packed sites). */
  tokens: number;
  /** Real tokens of each text (right padding); attention masks then draw the real blocks only. */
  lengths?: readonly number[];
  /** Width and heads for sites that do not state their own. */
  hidden?: number;
  heads?: number;
}

export function maskDims(site: DropoutSite, sh: MaskShape): number[] {
  const width = site.width ?? sh.hidden;
  const heads = site.heads ?? sh.heads;
  if (width === undefined || heads === undefined) throw new Error(`dropout site ${site.name}: its width and heads are not known`);
  switch (site.layout) {
    case 'tokens3d': return [sh.n, sh.s, width];
    case 'rows': return [sh.n * sh.s, width];
    case 'packed': return [sh.tokens, width];
    case 'attention': return [sh.n, heads, sh.s, sh.s];
  }
}

interface DropoutKernel {
  factor(ptr: number, n: number, t: number, bits: number, st: number): void;
  attention(ptr: number, n: number, heads: number, s: number, lengths: number, t: number, bits: number, st: number): void;
}

let kernel: { memory: WebAssembly.Memory; x: DropoutKernel } | null = null;

/** The kernel, its memory grown to at least `bytes`. */
function kernelWith(bytes: number): { memory: WebAssembly.Memory; x: DropoutKernel } {
  if (!kernel) {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    const x = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(DROPOUT_WASM, 'base64')), { env: { memory } }).exports as unknown as DropoutKernel;
    kernel = { memory, x };
  }
  const have = kernel.memory.buffer.byteLength;
  if (bytes > have) {
    const pages = Math.ceil((bytes - have) / 65536);
    if (have / 65536 + pages > 65536) throw new Error(`dropout masks: ${bytes} bytes exceed WebAssembly's 4 GiB`);
    kernel.memory.grow(pages);
  }
  return kernel;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** The factor of a kept element at drop probability p, 1/(1 − p) in float32. */
export function keepFactor(p: number): number {
  return Math.fround(1 / (1 - p));
}

/** The masks of every site for one forward pass (valid until the next call). */
export function dropoutMasks(sites: readonly DropoutSite[], sh: MaskShape, seed: number, step: number, micro = 0): Record<string, TensorData> {
  const plan = sites.map((site) => {
    const dims = maskDims(site, sh);
    const len = dims.reduce((a, b) => a * b, 1);
    return { site, dims, len, bytes: align16(len * 4) };
  });
  const lengthsAt = 16;
  let at = lengthsAt + align16(4 * sh.n);
  const offsets = plan.map((p) => { const o = at; at += p.bytes; return o; });
  const { memory, x } = kernelWith(at);
  const buf = memory.buffer;
  const st = new Uint32Array(buf, 0, 4);
  if (sh.lengths) new Int32Array(buf, lengthsAt, sh.n).set(sh.lengths);
  const out: Record<string, TensorData> = {};
  plan.forEach(({ site, dims, len }, k) => {
    const ptr = offsets[k];
    for (let j = 0; j < 4; j++) st[j] = mix(seed, step, micro, k, j);
    const t = Math.floor(site.p * 2147483648);
    const keep = keepFactor(site.p);
    const bits = new Int32Array(Float32Array.of(keep).buffer)[0];
    const data = new Float32Array(buf, ptr, len);
    if (site.layout === 'attention' && sh.lengths) {
      data.fill(keep);
      x.attention(ptr, dims[0], dims[1], dims[2], lengthsAt, t, bits, 0);
    } else {
      x.factor(ptr, len, t, bits, 0);
    }
    out[site.name] = { dtype: 'float32', dims, data };
  });
  return out;
}
