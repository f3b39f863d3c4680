// Locates the shared data and tokenizer folder that sits beside the checkout; tests skip with
// a clear message when it is absent (a user's fresh clone has no ../shared).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const SHARED = resolve(process.cwd(), '..', 'shared');
export const MINILM_TOKENIZER = resolve(SHARED, 'models', 'all-MiniLM-L6-v2-tokenizer');
export const STSB_DEV = resolve(SHARED, 'data', 'stsb', 'sts-dev.csv');

export function sharedMissing(...paths: string[]): string | false {
  for (const p of paths) if (!existsSync(p)) return `${p} is absent (the shared data folder beside the checkout); skipped`;
  return false;
}
