// sentence-transformers' Normalize module: x / max(‖x‖₂, 1e-12) (torch.nn.functional.normalize).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import type { Features } from './features.js';
import type { BuildMode, Module, ModuleSaveOptions } from './module.js';
import { V6_IO_KEYS } from './st_format.js';
import type { Param, ParamSource } from './params.js';

export class Normalize implements Module {
  readonly type = 'sentence_transformers.models.Normalize';
  readonly accepts = 'sentence' as const;
  readonly produces = 'sentence' as const;
  readonly inputDim = null;

  outputDim(inputDim: number): number {
    return inputDim;
  }

  parameters(): ReadonlyMap<string, Param> {
    return new Map();
  }

  describe(): Record<string, unknown> {
    return { normalize: true };
  }

  /** An empty folder up to 5.x; 6.x writes a config.json naming what it reads and writes. */
  async save(dir: string, opts: ModuleSaveOptions = {}): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (opts.format === 'v6') await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(V6_IO_KEYS, null, 4) + '\n');
  }

  build(g: GraphBuilder, _params: ParamSource, f: Features, _mode?: BuildMode): Features {
    const x = f.sentenceEmbedding;
    if (!x) throw new Error('Normalize needs a sentence embedding');
    return { ...f, sentenceEmbedding: g.scope('normalize', () => l2normalize(g, x)) };
  }
}

export function l2normalize(g: GraphBuilder, x: Value): Value {
  return g.div(x, g.max(g.reduceL2(x, [-1], true), g.scalar(1e-12)));
}

/** The same in place on rows of a flat matrix (used when `normalize` is asked at encode time). */
export function normalizeRows(data: Float32Array, dim: number): void {
  for (let r = 0; r < data.length; r += dim) {
    let s = 0;
    for (let i = r; i < r + dim; i++) s += data[i] * data[i];
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let i = r; i < r + dim; i++) data[i] *= inv;
  }
}
