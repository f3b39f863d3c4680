// The module loader registry: modules.json's `type` → the loader of that module's folder.
// Adding a module kind is its own file plus one line here.

import { join } from 'node:path';
import { architectureNames } from './architectures/registry.js';
import { Dense } from './dense.js';
import { ModelFormatError } from './json_file.js';
import { isInputModule, type ModuleLoader } from './module.js';
import { Normalize } from './normalize.js';
import { Pooling } from './pooling.js';
import { loadStaticEmbeddingModule, STATIC_EMBEDDING_TYPES } from './static_embedding.js';
import { loadTransformerModule } from './transformer.js';
import { moduleTypeName, type ModuleKind } from './st_format.js';

/** A model folder without modules.json: mean pooling after the Transformer, as sentence-transformers does. */
export const MEAN_POOLING_DEFAULT = '__mean_pooling__';

/** modules.json's names of a module in 2.x-5.x (and their long form) and in 6.x. */
const names = (kind: ModuleKind): string[] => [`sentence_transformers.models.${kind}`, `sentence_transformers.models.${kind.toLowerCase()}.${kind}`, moduleTypeName(kind, 'v6')];

const LOADERS: readonly [types: readonly string[], load: ModuleLoader][] = [
  [names('Transformer'), loadTransformerModule],
  [names('Pooling'), async (c) => ({ module: await Pooling.load(c.dir) })],
  [names('Dense'), async (c) => ({ module: await Dense.load(c.dir) })],
  [names('Normalize'), async () => ({ module: new Normalize() })],
  [STATIC_EMBEDDING_TYPES, loadStaticEmbeddingModule],
  [[MEAN_POOLING_DEFAULT], async (c) => {
    const first = c.previous[0];
    if (!first || !isInputModule(first)) throw new ModelFormatError(`${c.modelDir}: mean pooling needs a Transformer before it`);
    return { module: new Pooling(first.hiddenSize, ['mean']) };
  }],
];

const BY_TYPE = new Map<string, ModuleLoader>(LOADERS.flatMap(([types, load]) => types.map((t) => [t, load] as const)));

export function moduleLoader(type: string, modelDir: string): ModuleLoader {
  const l = BY_TYPE.get(type);
  if (!l) throw new ModelFormatError(`${join(modelDir, 'modules.json')}: module type "${type}" is not supported (supported: ${supportedModules()})`);
  return l;
}

/** The supported module kinds, for error messages: "Transformer (bert), Pooling, Dense, Normalize". */
export function supportedModules(): string {
  const kinds = [...new Set(LOADERS.flatMap(([t]) => t).filter((t) => t.startsWith('sentence_transformers.models.') && t.split('.').length === 3).map((t) => t.split('.')[2]))];
  return kinds.map((k) => (k === 'Transformer' ? `Transformer (${architectureNames().join(', ')})` : k)).join(', ');
}
