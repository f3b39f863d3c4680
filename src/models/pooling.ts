// sentence-transformers' Pooling module: token embeddings [B, S, H] and the attention mask →
// one sentence embedding, by one or several modes concatenated (in the order 6.x's
// `pooling_mode` list gives; the flags of 2.x-5.x always mean this order):
//   cls            e[:, 0]
//   max            max over attended tokens (padding set to −1e9)
//   mean           Σ e·m / max(Σ m, 1e-9)
//   mean_sqrt_len  Σ e·m / √max(Σ m, 1e-9)
//   weightedmean   Σ e·m·w / max(Σ m·w, 1e-9), w = 1, 2, …, S (position weights)
//   lasttoken      e at the last attended position (left or right padding)
// With include_prompt false, the first prompt_length tokens are masked out before pooling.
// Its config.json in every version's shape: st_format.ts.

import { join } from 'node:path';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import type { Features } from './features.js';
import type { BuildMode, Module, ModuleSaveOptions } from './module.js';
import type { Param, ParamSource } from './params.js';
import { ModelFormatError, readJsonObject, type JsonObject } from './json_file.js';
import { poolingConfigJson, readPoolingConfig, type StFormat } from './st_format.js';
import { writeFileAtomic } from '../io/atomic.js';
import { mkdir } from 'node:fs/promises';

export const POOLING_MODES = ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

export class Pooling implements Module {
  readonly type = 'sentence_transformers.models.Pooling';
  readonly accepts = 'tokens' as const;
  readonly produces = 'sentence' as const;
  readonly inputDimKey = 'word_embedding_dimension';

  constructor(
    readonly wordEmbeddingDimension: number,
    readonly modes: PoolingMode[],
    readonly includePrompt = true,
  ) {
    if (modes.length === 0) throw new ModelFormatError('Pooling: at least one pooling mode must be enabled');
  }

  /** Accepts a mode name as sentence-transformers' `pooling_mode` string does ("mean", "cls", "mean_sqrt_len_tokens", …). */
  static parseMode(s: string): PoolingMode {
    const alias: Record<string, PoolingMode> = { mean_tokens: 'mean', max_tokens: 'max', cls_token: 'cls', weighted_mean: 'weightedmean', last_token: 'lasttoken', mean_sqrt_len: 'mean_sqrt_len_tokens' };
    const m = (POOLING_MODES as readonly string[]).includes(s) ? (s as PoolingMode) : alias[s];
    if (!m) throw new Error(`unknown pooling mode "${s}" (choose from ${POOLING_MODES.join(', ')})`);
    return m;
  }

  get inputDim(): number {
    return this.wordEmbeddingDimension;
  }

  outputDim(): number {
    return this.wordEmbeddingDimension * this.modes.length;
  }

  parameters(): ReadonlyMap<string, Param> {
    return new Map();
  }

  describe(): Record<string, unknown> {
    return { pooling: this.modes, include_prompt: this.includePrompt };
  }

  /** Reads config.json by 2.x-5.x's flags or 6.x's `pooling_mode`. */
  static async load(dir: string): Promise<Pooling> {
    const path = join(dir, 'config.json');
    const spec = readPoolingConfig(await readJsonObject(path), path);
    return new Pooling(spec.dimension, spec.modes, spec.includePrompt);
  }

  /** config.json as `format` writes it (default 'v3': only the keys 2.x reads, plus what the modes need). */
  configJson(format: StFormat = 'v3'): JsonObject {
    return poolingConfigJson({ dimension: this.wordEmbeddingDimension, modes: this.modes, includePrompt: this.includePrompt }, format);
  }

  async save(dir: string, opts: ModuleSaveOptions = {}): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(this.configJson(opts.format), null, 4) + '\n');
  }

  build(g: GraphBuilder, _params: ParamSource, f: Features, _mode?: BuildMode): Features {
    const tok = f.tokenEmbeddings;
    if (!tok) throw new Error('Pooling needs token embeddings');
    return g.scope('pooling', () => {
      let maskF = g.cast(f.attentionMask, 'float32'); // [B, S]
      if (!this.includePrompt && f.promptLength) {
        const seq = g.squeeze(g.shapeOf(f.attentionMask, 1, 2), [0]);
        const pos = g.op1('Range', [g.scalar(0, 'int64'), seq, g.scalar(1, 'int64')]);
        const keep = g.cast(g.greaterOrEqual(pos, f.promptLength), 'float32');
        maskF = g.mul(maskF, keep);
      }
      const m3 = g.unsqueeze(maskF, [2]); // [B, S, 1]
      const parts: Value[] = [];
      let maskedSum: Value | null = null;
      let count: Value | null = null;
      const sumMasked = (): Value => (maskedSum ??= g.reduceSum(g.mul(tok, m3), [1], false));
      const clampedCount = (): Value => (count ??= g.max(g.reduceSum(m3, [1], false), g.scalar(1e-9)));
      for (const mode of this.modes) {
        switch (mode) {
          case 'cls':
            parts.push(g.gather(tok, g.scalar(0, 'int64'), 1));
            break;
          case 'max': {
            const isPad = g.equal(m3, g.scalar(0));
            parts.push(g.reduceMax(g.where(isPad, g.scalar(-1e9), tok), [1], false));
            break;
          }
          case 'mean':
            parts.push(g.div(sumMasked(), clampedCount()));
            break;
          case 'mean_sqrt_len_tokens':
            parts.push(g.div(sumMasked(), g.sqrt(clampedCount())));
            break;
          case 'weightedmean': {
            const seq = g.squeeze(g.shapeOf(f.attentionMask, 1, 2), [0]);
            const w = g.cast(g.op1('Range', [g.scalar(1, 'int64'), g.add(seq, g.scalar(1, 'int64')), g.scalar(1, 'int64')]), 'float32');
            const mw = g.mul(m3, g.unsqueeze(w, [0, 2])); // [B, S, 1]
            const num = g.reduceSum(g.mul(tok, mw), [1], false);
            const den = g.max(g.reduceSum(mw, [1], false), g.scalar(1e-9));
            parts.push(g.div(num, den));
            break;
          }
          case 'lasttoken': {
            // index of the last attended token: flip the mask, first maximum, map back
            const flipped = g.slice(maskF, [-1], [-(2 ** 62)], [1], [-1]);
            const idxFlipped = g.op1('ArgMax', [flipped], { axis: 1, keepdims: 1 }); // [B, 1]
            const anyOn = g.reduceMax(flipped, [1], true); // [B, 1]
            const seqLen = g.shapeOf(f.attentionMask, 1, 2); // [1]
            const last = g.sub(g.sub(seqLen, g.scalar(1, 'int64')), idxFlipped);
            const idx = g.where(g.equal(anyOn, g.scalar(0)), g.scalar(0, 'int64'), last); // all-masked rows: position 0 (as ST: S - (S-1) - 1)
            const shape3 = g.concat([g.shapeOf(tok, 0, 1), g.ints([1]), g.shapeOf(tok, 2, 3)], 0);
            const gi = g.expand(g.unsqueeze(idx, [2]), shape3); // [B, 1, H]
            parts.push(g.squeeze(g.gatherElements(g.mul(tok, m3), gi, 1), [1]));
            break;
          }
        }
      }
      const emb = parts.length === 1 ? parts[0] : g.concat(parts, 1);
      return { ...f, sentenceEmbedding: emb };
    });
  }
}
