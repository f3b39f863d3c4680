// Checkpoint I/O of an encoder: model.safetensors read into the architecture's parameters
// (Hugging Face names, a head's prefix such as "bert." recognised, any dtype as float32, each
// tensor's file dtype remembered) with the tensors the encoder does not read kept unchanged;
// and written back with the same names, prefix and dtypes.

import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Architecture, EncoderConfig } from './architectures/architecture.js';
import { ModelFormatError } from './json_file.js';
import type { Param } from './params.js';
import { f32Tensor, float32ToBF16, float32ToF16, readSafetensors, toFloat32, writeSafetensors, type SafeDType, type SafeTensor } from './safetensors.js';

export interface EncoderWeights {
  /** The tensors the encoder reads, float32, by our (Hugging Face) names. */
  params: Map<string, Param>;
  /** Tensors of the checkpoint the encoder does not use, kept for saving (full names). */
  extra: Map<string, SafeTensor>;
  /** The dtype each parameter had in the file. */
  fileDtypes: Map<string, SafeDType>;
  /** Name prefix of the checkpoint ('' or e.g. 'bert.'). */
  prefix: string;
}

export async function readEncoderCheckpoint(dir: string, arch: Architecture, config: EncoderConfig): Promise<EncoderWeights> {
  const stPath = join(dir, 'model.safetensors');
  try {
    await access(stPath);
  } catch {
    const hasBin = await access(join(dir, 'pytorch_model.bin')).then(() => true, () => false);
    throw new ModelFormatError(
      hasBin
        ? `${dir}: only pytorch_model.bin found; SentenceKit reads model.safetensors (convert with Python: model.save_pretrained(dir, safe_serialization=True))`
        : `${stPath}: file not found`,
    );
  }
  const file = await readSafetensors(stPath);
  const shapes = arch.paramShapes(config);
  const names = [...file.tensors.keys()];
  const probe = arch.tokenTable;
  const prefix = arch.checkpointPrefixes.find((p) => p !== '' && names.some((n) => n === p + probe)) ?? '';
  const params = new Map<string, Param>();
  const fileDtypes = new Map<string, SafeDType>();
  for (const [name, shape] of shapes) {
    const t = file.tensors.get(prefix + name);
    if (!t) {
      throw new ModelFormatError(`${stPath}: tensor "${prefix + name}" is missing (config.json describes ${config.numHiddenLayers} layers of hidden size ${config.hiddenSize}); the checkpoint does not match its config`);
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFormatError(`${stPath}: tensor "${prefix + name}" has shape [${t.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`);
    }
    params.set(name, { shape, data: toFloat32(t, `${stPath}: ${prefix + name}`) });
    fileDtypes.set(name, t.dtype);
  }
  const extra = new Map<string, SafeTensor>();
  for (const [n, t] of file.tensors) {
    const bare = n.startsWith(prefix) ? n.slice(prefix.length) : n;
    if (!params.has(bare)) extra.set(n, { ...t, data: t.data.slice() });
  }
  return { params, extra, fileDtypes, prefix };
}

/** Writes model.safetensors; `dtypeOf` gives each parameter's dtype in the file. */
export async function writeEncoderCheckpoint(dir: string, w: EncoderWeights, dtypeOf: (name: string) => SafeDType): Promise<void> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, p] of w.params) {
    const dt = dtypeOf(name);
    let t: SafeTensor;
    if (dt === 'F16') t = { dtype: 'F16', shape: p.shape, data: new Uint8Array(float32ToF16(p.data).buffer) };
    else if (dt === 'BF16') t = { dtype: 'BF16', shape: p.shape, data: new Uint8Array(float32ToBF16(p.data).buffer) };
    else t = f32Tensor(p.data, p.shape);
    tensors.set(w.prefix + name, t);
  }
  for (const [n, t] of w.extra) tensors.set(n, t);
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
}
