// Where AdamW's arrays live: each trainable parameter's weights p, moments m and v and gradient g
// in the linear memory of a WebAssembly instance of the AdamW kernel (kernels/adamw.wat), so that
// the update is one SIMD pass with no copies. Each parameter gets four regions of its size
// rounded up to four floats (the padding stays zero: a zero gradient leaves it zero), and the
// parameter's `data`, its moments and the gradient buffer become views into them: onnxruntime
// reads the weights from there and writes the gradients there. An arena is sized once for the
// parameters it takes (a WebAssembly memory that grew would detach the views) and holds at most
// ARENA_BYTES; a parameter whose four regions need more stays in JavaScript arrays (the caller
// updates it with its own loop). A parameter already placed (the same `data` view: the steps of
// two losses training one model, or a second training run of the same model) keeps its slot;
// moments other than the slot's (a new run's) are copied into it, so the latest optimizer owns
// the slot's moments.

import { ADAMW_WASM } from './kernels/adamw_wasm.js';

/** The most bytes one arena holds (four regions of every parameter in it). */
export const ARENA_BYTES = 1 << 30;

interface AdamWExports {
  adamw(p: number, m: number, v: number, g: number, n: number, s1: number, s2: number, b1: number, b2: number, eps: number, step: number, ibc2: number, decay: number): void;
}

/** One parameter's place: byte offsets of its four regions in an arena, and their views. */
export interface Slot {
  kernel: AdamWExports;
  /** Floats of the parameter, and of each region (rounded up to 4). */
  n: number;
  padded: number;
  p: number;
  m: number;
  v: number;
  g: number;
  views: { p: Float32Array; m: Float32Array; v: Float32Array; g: Float32Array };
}

/** Rows of a table that a step updates alone (sparse embeddings): row ids[i] of the table is row i of the gradient. */
export interface UpdateRows {
  ids: Int32Array;
  width: number;
}

/** The step's constants of one AdamW update (optimizer.ts). */
export interface AdamWCoefficients {
  s1: number;
  s2: number;
  b1: number;
  b2: number;
  eps: number;
  step: number;
  bc2: number;
  decay: number;
}

let compiled: WebAssembly.Module | null = null;
const placed = new WeakMap<Float32Array, Slot>();

const round4 = (n: number): number => Math.ceil(n / 4) * 4;

/** The slot of a parameter's data (placed earlier), if any. */
export function slotOf(data: Float32Array): Slot | undefined {
  return placed.get(data);
}

/**
 * Places each parameter that has no slot yet (with its current weights and moments) into
 * arenas of at most ARENA_BYTES, and copies other moments into the slots of those placed
 * before. `setViews` receives the views that replace the arrays.
 */
export function place(params: { data: Float32Array; m: Float32Array; v: Float32Array }[], setViews: (i: number, views: Slot['views']) => void): void {
  const slots: (Slot | undefined)[] = params.map((x) => placed.get(x.data));
  slots.forEach((s, i) => {
    if (!s || (params[i].m === s.views.m && params[i].v === s.views.v)) return;
    s.views.m.set(params[i].m);
    s.views.v.set(params[i].v);
    setViews(i, s.views);
  });
  let group: number[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (group.length) makeArena(params, group, bytes, slots, setViews);
    group = [];
    bytes = 0;
  };
  params.forEach((x, i) => {
    if (slots[i] || x.data.length === 0) return;
    const need = 16 * round4(x.data.length);
    if (need > ARENA_BYTES) return;
    if (bytes + need > ARENA_BYTES) flush();
    group.push(i);
    bytes += need;
  });
  flush();
}

function makeArena(params: { data: Float32Array; m: Float32Array; v: Float32Array }[], group: number[], bytes: number, slots: (Slot | undefined)[], setViews: (i: number, views: Slot['views']) => void): void {
  compiled ??= new WebAssembly.Module(Buffer.from(ADAMW_WASM, 'base64'));
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const kernel = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as AdamWExports;
  let at = 0;
  for (const i of group) {
    const x = params[i];
    const n = x.data.length;
    const padded = round4(n);
    const region = (): [number, Float32Array] => {
      const off = at;
      at += padded * 4;
      return [off, new Float32Array(memory.buffer, off, n)];
    };
    const [p, pv] = region();
    const [m, mv] = region();
    const [v, vv] = region();
    const [g, gv] = region();
    pv.set(x.data);
    mv.set(x.m);
    vv.set(x.v);
    const slot: Slot = { kernel, n, padded, p, m, v, g, views: { p: pv, m: mv, v: vv, g: gv } };
    placed.set(pv, slot);
    slots[i] = slot;
    setViews(i, slot.views);
  }
}

/**
 * AdamW on a slot: the whole parameter, or `rows` of width `width` (row ids[k] of the
 * parameter from row k of the gradient region) when the width is a multiple of 4; false when
 * the rows cannot go through the kernel (the caller's loop does them).
 */
export function updateSlot(s: Slot, c: AdamWCoefficients, rows?: UpdateRows): boolean {
  const args = [c.s1, c.s2, c.b1, c.b2, c.eps, c.step, 1 / c.bc2, c.decay] as const;
  if (!rows) {
    s.kernel.adamw(s.p, s.m, s.v, s.g, s.padded, ...args);
    return true;
  }
  const w = rows.width;
  if (w % 4 !== 0) return false;
  for (let k = 0; k < rows.ids.length; k++) {
    const off = rows.ids[k] * w * 4;
    s.kernel.adamw(s.p + off, s.m + off, s.v + off, s.g + k * w * 4, w, ...args);
  }
  return true;
}
