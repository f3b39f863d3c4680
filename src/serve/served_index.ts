// The index that `serve --index DIR` searches: opened at its last commit and checked against
// the served model (same fingerprint and dimension; another model's vectors would be
// meaningless to compare). Writes from POST/DELETE /documents are run one at a time, each
// committed (flushed) before it is answered.

import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { openIndex } from '../index/registry.js';
import { checkModel, modelInfo } from '../index/model_info.js';
import type { IndexModelInfo, VectorIndex } from '../index/types.js';

export async function openServedIndex(dir: string, opts: { threads?: number } = {}): Promise<VectorIndex> {
  return openIndex(dir, { threads: opts.threads });
}

/** Throws (naming both models) when the index was built with another model than `model`. */
export function checkServedModel(index: VectorIndex, dir: string, model: SentenceTransformer, name: string): IndexModelInfo {
  const info = modelInfo(model, name);
  checkModel(index.model, info, dir);
  return info;
}

/** Runs index writes one after another (each all-or-nothing and committed before the next). */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
