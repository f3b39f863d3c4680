// Resolves what `SentenceTransformer.load` is given: a local directory as is, or a Hugging
// Face Hub id (`sentence-transformers/all-MiniLM-L6-v2`) downloaded file by file into the
// standard cache — the sentence-transformers files, the module folders modules.json names,
// the weights and the tokenizer — returning the snapshot directory.

import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { hubFile, HubError, isHubId as isHubIdBase, type HubOptions } from './hub.js';
import { ModelFormatError } from './json_file.js';

export type { HubOptions };

export function isHubId(s: string): boolean {
  return isHubIdBase(s);
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];
const TRANSFORMER_FILES = ['config.json', 'model.safetensors', 'sentence_bert_config.json', ...TOKENIZER_FILES];
const ROOT_FILES = ['modules.json', 'config_sentence_transformers.json', ...TRANSFORMER_FILES];
const MODULE_FILES = ['config.json', 'model.safetensors', 'sentence_bert_config.json'];

/** The module folders modules.json names, and which of them holds the Transformer. */
async function moduleFolders(path: string, repoId: string): Promise<{ path: string; transformer: boolean; staticEmbedding: boolean }[]> {
  const where = `${repoId}: modules.json (${path})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ModelFormatError(`${where}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new ModelFormatError(`${where}: expected a JSON array of modules`);
  return parsed.map((e: unknown, i) => {
    const o = (e && typeof e === 'object' ? e : {}) as { path?: unknown; type?: unknown };
    if (o.path !== undefined && typeof o.path !== 'string') throw new ModelFormatError(`${where}: entry ${i} "path" must be a string`);
    const type = typeof o.type === 'string' ? o.type : '';
    // a StaticEmbedding folder holds its tokenizer and weights as a Transformer folder does (no config.json)
    const staticEmbedding = /(^|\.)StaticEmbedding$/.test(type);
    return { path: o.path ?? '', transformer: /(^|\.)Transformer$/.test(type) || staticEmbedding, staticEmbedding };
  });
}

export async function resolveModelDir(dirOrHubId: string, opts: HubOptions = {}): Promise<string> {
  const st = await stat(dirOrHubId).catch(() => null);
  if (st?.isDirectory()) return dirOrHubId;
  if (st) throw new ModelFormatError(`${dirOrHubId}: is a file; give the model's directory`);
  if (!isHubId(dirOrHubId)) throw new ModelFormatError(`${dirOrHubId}: no such directory, and not a Hugging Face Hub id (org/name)`);
  let snapshot: string | null = null;
  const got = new Map<string, string | null>();
  for (const f of ROOT_FILES) {
    let p: string | null;
    try {
      p = await hubFile(dirOrHubId, f, opts);
    } catch (e) {
      // the first request failing may just mean a mistyped local path that looks like a hub id
      if (got.size === 0 && e instanceof HubError) {
        throw new HubError(`${dirOrHubId}: no such local directory, and as a Hugging Face Hub id: ${e.message}`, { cause: e, status: e.status });
      }
      throw e;
    }
    got.set(f, p);
    if (p) snapshot = dirname(p);
  }
  const modulesPath = got.get('modules.json');
  const folders = modulesPath ? await moduleFolders(modulesPath, dirOrHubId) : [];
  const transformerDir = folders.find((m) => m.transformer)?.path ?? '';
  for (const m of folders) {
    if (!m.path) continue;
    for (const f of m.transformer ? TRANSFORMER_FILES : MODULE_FILES) {
      const p = await hubFile(dirOrHubId, `${m.path}/${f}`, opts);
      if (m.path === transformerDir) got.set(`${m.path}/${f}`, p);
    }
  }
  const inTransformer = (f: string): string => (transformerDir ? `${transformerDir}/${f}` : f);
  const isStatic = folders.find((m) => m.transformer)?.staticEmbedding ?? false;
  if (!isStatic && !got.get(inTransformer('config.json'))) throw new ModelFormatError(`${dirOrHubId}: the hub repository has no ${inTransformer('config.json')}; is it a transformers / sentence-transformers model?`);
  if (!got.get(inTransformer('model.safetensors'))) throw new ModelFormatError(`${dirOrHubId}: the hub repository has no ${inTransformer('model.safetensors')} (only safetensors weights are read)`);
  if (!snapshot) throw new ModelFormatError(`${dirOrHubId}: nothing could be downloaded`);
  return join(snapshot);
}
