// Backend `flat`: exact search. Every live vector is scored for each query by one ONNX graph
// (normalise → MatMul → TopK, see exact_search.ts), so results are the true top k (up to
// float32 rounding); cost grows with the index size, O(queries × count × dim). The reference
// the ANN backends' recall is measured against. Takes the folder, dimension, metric and model.

import { FileIndex, type FileIndexOptions } from './file_index.js';
import type { Manifest } from './segments.js';
import type { IndexMetric, IndexModelInfo } from './types.js';

export const FLAT = 'flat';

export function createFlat(dir: string, dim: number, metric: IndexMetric, model: IndexModelInfo | undefined, opts: FileIndexOptions = {}): Promise<FileIndex> {
  return FileIndex.create(dir, FLAT, dim, metric, model, null, opts);
}

export function openFlat(dir: string, m: Manifest, opts: FileIndexOptions = {}): Promise<FileIndex> {
  return FileIndex.open(dir, m, null, opts);
}
