// A module folder's weight file: model.safetensors, or else pytorch_model.bin (what
// sentence-transformers 2.x and transformers < 4.35 wrote, read by the restricted reader
// in torch_pickle.ts, nothing executed). Writing: model.safetensors, or pytorch_model.bin
// for the 'v2' format, or both where old and new readers look at different names.
// Takes a folder; returns named tensors and the file they came from.

import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFormatError } from './json_file.js';
import { readSafetensors, writeSafetensors, type SafeTensor } from './safetensors.js';
import { readTorchFile, writeTorchFile } from './torch_pickle.js';

export interface WeightsFile {
  path: string;
  kind: 'safetensors' | 'pytorch';
  tensors: Map<string, SafeTensor>;
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/** Reads dir/model.safetensors, else dir/pytorch_model.bin; the error names both when neither is there. */
export async function readWeightsFile(dir: string): Promise<WeightsFile> {
  const st = join(dir, 'model.safetensors');
  if (await exists(st)) return { path: st, kind: 'safetensors', tensors: (await readSafetensors(st)).tensors };
  const bin = join(dir, 'pytorch_model.bin');
  if (await exists(bin)) return { path: bin, kind: 'pytorch', tensors: await readTorchFile(bin) };
  const sharded = (await exists(join(dir, 'model.safetensors.index.json'))) || (await exists(join(dir, 'pytorch_model.bin.index.json')));
  throw new ModelFormatError(
    sharded
      ? `${dir}: the weights are sharded (*.index.json); save the model as one file (Python: model.save_pretrained(dir, max_shard_size="100GB"))`
      : `${st}: file not found (nor pytorch_model.bin); the folder holds no weights`,
  );
}

/** Which files a format writes for a module's weights. */
export type WeightsLayout = 'safetensors' | 'pytorch' | 'both';

export async function writeWeightsFile(dir: string, tensors: Map<string, SafeTensor>, layout: WeightsLayout): Promise<void> {
  if (layout !== 'pytorch') await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  if (layout !== 'safetensors') await writeTorchFile(join(dir, 'pytorch_model.bin'), tensors);
}
