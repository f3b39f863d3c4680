// The model an index was built with, and the check that refuses queries from another one:
// same fingerprint (a hash of the weights and the pipeline configuration) and dimension.
// Takes a loaded SentenceTransformer and the name the user gave it.

import type { SentenceTransformer } from '../models/sentence_transformer.js';
import type { IndexModelInfo } from './types.js';

export class ModelMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelMismatchError';
  }
}

/** What an index records about `model` (`name`: the directory or hub id it was loaded from). */
export function modelInfo(model: SentenceTransformer, name: string): IndexModelInfo {
  const info = model.info();
  return { name, dim: model.dimension, normalize: info.normalize === true, fingerprint: model.fingerprint() };
}

/** Throws when `query` is not the model the index at `where` was built with. */
export function checkModel(indexModel: IndexModelInfo | undefined, query: IndexModelInfo, where: string): void {
  if (indexModel === undefined) return;
  if (indexModel.fingerprint !== query.fingerprint || indexModel.dim !== query.dim) {
    throw new ModelMismatchError(
      `${where}: the index was built with model ${indexModel.name} (dim ${indexModel.dim}, fingerprint ${indexModel.fingerprint.slice(0, 12)}), ` +
        `the queries were embedded by ${query.name} (dim ${query.dim}, fingerprint ${query.fingerprint.slice(0, 12)}); ` +
        `search with the index's model (omit --model) or rebuild the index with this one`,
    );
  }
}
