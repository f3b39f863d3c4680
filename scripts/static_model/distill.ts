// The distilled start of the static model, from the teacher's embedding of every vocabulary
// entry (E_t [V, 512]):
//   μ = mean of the entries' rows;  P = top-k eigenvectors of Cov(E_t − μ), by eigenvalue
//   E_0 = (E_t − μ) · P                                  (PCA: leading dimensions carry most variance,
//                                                         which suits Matryoshka truncation)
//   E[w] = E_0[w] · a / (a + p(w))                       (SIF; p(w) = count(w) / Σ counts on the training text)
// Special and [unused] entries get zero rows.

import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** Principal directions [inDim, k] (column j is the j-th component) and the mean, fitted on the rows marked in `use`. */
export function pca(x: Float32Array, rows: number, inDim: number, k: number, use: (r: number) => boolean): { mean: Float64Array; components: Float64Array; explained: number } {
  const mean = new Float64Array(inDim);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    if (!use(r)) continue;
    n++;
    for (let j = 0; j < inDim; j++) mean[j] += x[r * inDim + j];
  }
  for (let j = 0; j < inDim; j++) mean[j] /= n;
  const cov = new Float64Array(inDim * inDim);
  const c = new Float64Array(inDim);
  for (let r = 0; r < rows; r++) {
    if (!use(r)) continue;
    for (let j = 0; j < inDim; j++) c[j] = x[r * inDim + j] - mean[j];
    for (let a = 0; a < inDim; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      const off = a * inDim;
      for (let b = a; b < inDim; b++) cov[off + b] += ca * c[b];
    }
  }
  const m = new Matrix(inDim, inDim);
  for (let a = 0; a < inDim; a++) for (let b = a; b < inDim; b++) {
    const v = cov[a * inDim + b] / (n - 1);
    m.set(a, b, v);
    m.set(b, a, v);
  }
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const vals = evd.realEigenvalues;
  const vecs = evd.eigenvectorMatrix;
  const order = vals.map((_, i) => i).sort((a, b) => vals[b] - vals[a]);
  const components = new Float64Array(inDim * k);
  for (let j = 0; j < k; j++) for (let a = 0; a < inDim; a++) components[a * k + j] = vecs.get(a, order[j]);
  const total = vals.reduce((s, v) => s + Math.max(v, 0), 0);
  const kept = order.slice(0, k).reduce((s, i) => s + Math.max(vals[i], 0), 0);
  return { mean, components, explained: kept / total };
}

/** (x − mean) · components for every row: [rows, k]; rows not in `use` are zero. */
export function project(x: Float32Array, rows: number, inDim: number, p: { mean: Float64Array; components: Float64Array }, k: number, use: (r: number) => boolean = () => true): Float32Array {
  const out = new Float32Array(rows * k);
  const c = new Float64Array(inDim);
  const acc = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    if (!use(r)) continue;
    for (let j = 0; j < inDim; j++) c[j] = x[r * inDim + j] - p.mean[j];
    acc.fill(0);
    for (let a = 0; a < inDim; a++) {
      const ca = c[a];
      const off = a * k;
      for (let j = 0; j < k; j++) acc[j] += ca * p.components[off + j];
    }
    for (let j = 0; j < k; j++) out[r * k + j] = acc[j];
  }
  return out;
}

/** SIF weights a / (a + p(w)) from token counts. */
export function sifWeights(counts: Float64Array, a: number): Float64Array {
  let total = 0;
  for (const c of counts) total += c;
  return counts.map((c) => a / (a + c / total));
}

/** Rows of `table` [V, k] scaled by w[row]. */
export function scaleRows(table: Float32Array, k: number, w: Float64Array): Float32Array {
  const out = new Float32Array(table.length);
  for (let r = 0; r < w.length; r++) for (let j = 0; j < k; j++) out[r * k + j] = table[r * k + j] * w[r];
  return out;
}
