// The built-in model: what every command and `SentenceTransformer.load()` use when no model is
// given. It ships inside the package (models/<name>/ at the package root), so that it works with
// no network. resolveModelSpec(undefined) names its folder; an explicit spec is returned as is.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built-in model's name, as outputs that used it report it. */
export const DEFAULT_MODEL_NAME = 'sentencekit-static-en';

function packageRoot(): string {
  // this file is dist/src/models/default_model.js (or src/models/default_model.ts)
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('the sentencekit package root (with package.json) was not found above ' + fileURLToPath(import.meta.url));
}

/** Folder of the built-in model inside the package. */
export function defaultModelDir(): string {
  return join(packageRoot(), 'models', DEFAULT_MODEL_NAME);
}

/** `spec` itself, or the built-in model's folder when no model was given. */
export function resolveModelSpec(spec: string | undefined): string {
  if (spec !== undefined && spec !== '') return spec;
  const dir = defaultModelDir();
  if (!existsSync(join(dir, 'modules.json'))) {
    throw new Error(`no model given and the built-in model ${DEFAULT_MODEL_NAME} is not installed at ${dir}; pass --model DIR|HUB_ID`);
  }
  return dir;
}

/** How outputs name the model: the user's spec, or the built-in model's name when none was given. */
export function modelLabel(spec: string | undefined): string {
  return spec !== undefined && spec !== '' ? spec : `${DEFAULT_MODEL_NAME} (built-in)`;
}

/** The --model value of parsed command-line options, undefined when absent. */
export function modelOption(values: Record<string, string | boolean | undefined>): string | undefined {
  return typeof values.model === 'string' ? values.model : undefined;
}
