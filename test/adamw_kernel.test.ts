// AdamW outside the graphs: the WebAssembly kernel (arena) and the float64 loop (arrays outside
// an arena) against PyTorch's AdamW written out in float64 here, over several steps with
// clipping and weight decay; sparse rows through the kernel (width a multiple of 4) and through
// the loop (width 6); a step that is not finite changes nothing; the committed module equals
// its .wat source assembled again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { assemble, moduleFile } from '../scripts/build_kernels.js';
import { Rng } from '../src/models/init.js';
import { AdamW, type OptimizerOptions } from '../src/training/optimizer.js';
import { slotOf } from '../src/training/param_arena.js';
import type { TrainableParam } from '../src/training/param_source.js';

const OPTS: OptimizerOptions = { learningRate: 1e-2, weightDecay: 0.1, betas: [0.9, 0.999], eps: 1e-6, maxGradNorm: 1, dropoutSeed: null, freezeWordEmbeddings: false };

function param(name: string, shape: number[], seed: number, decay = true): TrainableParam {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  new Rng(seed).fillNormal(data, 1);
  return { name, param: { shape, data }, trainable: true, decay };
}

/** PyTorch's AdamW with global-norm clipping, in float64, on rows `rows` of width `w` (all when absent). */
class Reference {
  readonly p: Float64Array;
  readonly m: Float64Array;
  readonly v: Float64Array;
  constructor(init: Float32Array, private readonly decay: boolean) {
    this.p = Float64Array.from(init);
    this.m = new Float64Array(init.length);
    this.v = new Float64Array(init.length);
  }
  step(g: Float32Array, norm: number, t: number, rows?: { ids: Int32Array; width: number }): void {
    const { learningRate: lr, weightDecay: wd, betas: [b1, b2], eps, maxGradNorm } = OPTS;
    const c = Math.min(maxGradNorm! / (norm + 1e-6), 1);
    const idx = rows ? Array.from(rows.ids).flatMap((r, k) => Array.from({ length: rows.width }, (_, j) => [r * rows.width + j, k * rows.width + j])) : Array.from({ length: this.p.length }, (_, i) => [i, i]);
    for (const [i, gi] of idx) {
      const gr = g[gi] * c;
      if (this.decay) this.p[i] *= 1 - lr * wd;
      this.m[i] = b1 * this.m[i] + (1 - b1) * gr;
      this.v[i] = b2 * this.v[i] + (1 - b2) * gr * gr;
      this.p[i] -= (lr / (1 - b1 ** t)) * (this.m[i] / (Math.sqrt(this.v[i]) / Math.sqrt(1 - b2 ** t) + eps));
    }
  }
}

function close(a: Float32Array, b: Float64Array, what: string): void {
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 2e-6 * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

const norm = (g: Float32Array): number => Math.sqrt(g.reduce((s, x) => s + x * x, 0));

test('AdamW kernel and loop equal PyTorch\'s AdamW (clipping, decay, bias correction) over 5 steps; odd sizes keep their padding at zero', () => {
  for (const outside of [false, true]) {
    const ps = [param('w', [7, 5], 1), param('b', [3], 2, false), param('e', [4, 8], 3)];
    const refs = ps.map((p) => new Reference(p.param.data, p.decay));
    const opt = new AdamW(ps, OPTS);
    for (const p of ps) assert.ok(slotOf(p.param.data), `${p.name} placed in an arena`);
    if (outside) for (const p of ps) { // the moments replaced by the caller's arrays: the loop runs
      const mv = opt.moments.get(p.name)!;
      mv.m = mv.m.slice();
      mv.v = mv.v.slice();
    }
    const rng = new Rng(9);
    for (let t = 1; t <= 5; t++) {
      const grads = ps.map((p) => {
        const g = opt.gradBuffer(p);
        rng.fillNormal(g, t === 2 ? 10 : 0.5); // step 2 is clipped
        return g;
      });
      const n = Math.sqrt(grads.reduce((s, g) => s + norm(g) ** 2, 0));
      opt.update(ps, (p) => grads[ps.indexOf(p)], n, true, OPTS.learningRate, t);
      refs.forEach((r) => r.step(grads[refs.indexOf(r)], n, t));
    }
    ps.forEach((p, i) => {
      close(p.param.data, refs[i].p, `${outside ? 'loop' : 'kernel'} ${p.name}`);
      close(opt.moments.get(p.name)!.m, refs[i].m, `${p.name}:m`);
      close(opt.moments.get(p.name)!.v, refs[i].v, `${p.name}:v`);
    });
    const s = slotOf(ps[0].param.data)!;
    const pad = new Float32Array(s.views.p.buffer, s.p + s.n * 4, s.padded - s.n);
    assert.ok(pad.every((x) => x === 0), 'padding after an odd-sized parameter stays zero');
  }
});

test('AdamW: sparse rows — only the batch\'s rows change, through the kernel (width 8) and the loop (width 6)', () => {
  for (const width of [8, 6]) {
    const table = param('table', [10, width], 4);
    const ref = new Reference(table.param.data, true);
    const opt = new AdamW([table], OPTS);
    const before = table.param.data.slice();
    const rows = { ids: Int32Array.of(1, 4, 7), width };
    const g = opt.gradBuffer(table, 3 * width);
    new Rng(5).fillNormal(g, 1);
    opt.update([table], () => g, norm(g), true, OPTS.learningRate, 1, new Map([['table', rows]]));
    ref.step(g, norm(g), 1, rows);
    close(table.param.data, ref.p, `width ${width}`);
    for (let r = 0; r < 10; r++) {
      const changed = table.param.data.subarray(r * width, (r + 1) * width).some((x, j) => x !== before[r * width + j]);
      assert.equal(changed, [1, 4, 7].includes(r), `row ${r}`);
    }
  }
});

test('AdamW: a step that is not finite leaves weights and moments bit for bit', () => {
  const p = param('w', [6, 6], 6);
  const opt = new AdamW([p], OPTS);
  const g = opt.gradBuffer(p);
  new Rng(7).fillNormal(g, 1);
  opt.update([p], () => g, norm(g), true, OPTS.learningRate, 1);
  const snap = [p.param.data.slice(), opt.moments.get('w')!.m.slice(), opt.moments.get('w')!.v.slice()];
  g[3] = Number.NaN;
  opt.update([p], () => g, Number.NaN, false, OPTS.learningRate, 2);
  assert.deepEqual([p.param.data, opt.moments.get('w')!.m, opt.moments.get('w')!.v], snap);
});

test('AdamW: parameters already placed keep their slot — shared moments (two losses, one model), and a second run with fresh moments through the kernel', () => {
  const p = param('w', [4, 4], 8);
  const a = new AdamW([p], OPTS);
  const data = p.param.data;
  const b = new AdamW([p], OPTS, a.moments);
  assert.equal(p.param.data, data);
  assert.equal(b.gradBuffer(p).byteOffset, a.gradBuffer(p).byteOffset);
  const g = a.gradBuffer(p);
  new Rng(3).fillNormal(g, 1);
  a.update([p], () => g, norm(g), true, OPTS.learningRate, 1);
  // a later run of the same model starts from zero moments, in the same slot (the kernel's path)
  const ref = new Reference(p.param.data, true);
  const c = new AdamW([p], OPTS);
  assert.equal(p.param.data, data);
  assert.equal(c.moments.get('w')!.m, slotOf(data)!.views.m);
  assert.ok(c.moments.get('w')!.m.every((x) => x === 0));
  new Rng(4).fillNormal(g, 1);
  c.update([p], () => g, norm(g), true, OPTS.learningRate, 1);
  ref.step(g, norm(g), 1);
  close(p.param.data, ref.p, 'second run');
});

test('the committed AdamW module is its .wat source assembled (scripts/build_kernels.ts)', async () => {
  const dir = new URL('../../src/training/kernels/', import.meta.url);
  const wat = await readFile(new URL('adamw.wat', dir), 'utf8');
  assert.equal(await readFile(new URL('adamw_wasm.ts', dir), 'utf8'), moduleFile('adamw', await assemble(wat, 'adamw.wat')));
});
