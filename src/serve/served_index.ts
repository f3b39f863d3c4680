// Opening the index that `serve --index DIR` searches.

import type { SentenceTransformer } from '../models/sentence_transformer.js';
import type { VectorIndex } from '../index/types.js';

export async function openServedIndex(dir: string, _model: SentenceTransformer): Promise<VectorIndex> {
  throw new Error(`${dir}: serving an index needs the vector-index layer, which this build does not have yet`);
}
