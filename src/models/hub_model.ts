// Resolves what `SentenceTransformer.load` is given: a local directory as is, or a Hugging
// Face Hub id (`sentence-transformers/all-MiniLM-L6-v2`) downloaded file by file into the
// standard cache — the sentence-transformers files, the module folders modules.json names,
// the weights and the tokenizer — returning the snapshot directory.

import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { hubFile, isHubId as isHubIdBase, type HubOptions } from './hub.js';
import { ModelFormatError } from './json_file.js';

export type { HubOptions };

export function isHubId(s: string): boolean {
  return isHubIdBase(s);
}

const ROOT_FILES = [
  'modules.json', 'config_sentence_transformers.json', 'sentence_bert_config.json', 'config.json', 'model.safetensors',
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt',
];

export async function resolveModelDir(dirOrHubId: string, opts: HubOptions = {}): Promise<string> {
  const st = await stat(dirOrHubId).catch(() => null);
  if (st?.isDirectory()) return dirOrHubId;
  if (st) throw new ModelFormatError(`${dirOrHubId}: is a file; give the model's directory`);
  if (!isHubId(dirOrHubId)) throw new ModelFormatError(`${dirOrHubId}: no such directory, and not a Hugging Face Hub id (org/name)`);
  let snapshot: string | null = null;
  const got = new Map<string, string | null>();
  for (const f of ROOT_FILES) {
    const p = await hubFile(dirOrHubId, f, opts);
    got.set(f, p);
    if (p) snapshot = dirname(p);
  }
  if (!got.get('config.json')) throw new ModelFormatError(`${dirOrHubId}: the hub repository has no config.json; is it a transformers / sentence-transformers model?`);
  if (!got.get('model.safetensors')) throw new ModelFormatError(`${dirOrHubId}: the hub repository has no model.safetensors (only safetensors weights are read)`);
  const modulesPath = got.get('modules.json');
  if (modulesPath) {
    const mods = JSON.parse(await readFile(modulesPath, 'utf8')) as { path?: string }[];
    for (const m of mods) {
      if (!m.path) continue;
      for (const f of ['config.json', 'model.safetensors', 'sentence_bert_config.json']) await hubFile(dirOrHubId, `${m.path}/${f}`, opts);
    }
  }
  if (!snapshot) throw new ModelFormatError(`${dirOrHubId}: nothing could be downloaded`);
  return join(snapshot);
}
