// Checkpoint I/O of an encoder: model.safetensors (or pytorch_model.bin, read without running
// its pickle) read into the architecture's parameters (Hugging Face names, a head's prefix such
// as "bert." recognised, any dtype as float32, each tensor's file dtype remembered) with the
// tensors the encoder does not read kept unchanged; and written back with the same names,
// prefix and dtypes (or float32 throughout).

import type { Architecture, EncoderConfig } from './architectures/architecture.js';
import { ModelFormatError } from './json_file.js';
import type { Param } from './params.js';
import { floatTensor, toFloat32, type SafeDType, type SafeTensor } from './safetensors.js';
import { readWeightsFile, writeWeightsFile, type WeightsLayout } from './weights_file.js';

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
  const file = await readWeightsFile(dir);
  const stPath = file.path;
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

const FLOATS = new Set<SafeDType>(['F16', 'BF16', 'F64']);

/**
 * Writes model.safetensors (or pytorch_model.bin); `dtypeOf` gives each parameter's dtype in the
 * file; with `extraFloat32` the float tensors the encoder does not read (a pooler, say) become
 * float32 too, so that a file is not left with mixed dtypes.
 */
export async function writeEncoderCheckpoint(
  dir: string, w: EncoderWeights, dtypeOf: (name: string) => SafeDType, opts: { layout?: WeightsLayout; extraFloat32?: boolean } = {},
): Promise<void> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, p] of w.params) tensors.set(w.prefix + name, floatTensor(p.data, p.shape, dtypeOf(name)));
  for (const [n, t] of w.extra) tensors.set(n, opts.extraFloat32 && FLOATS.has(t.dtype) ? floatTensor(toFloat32(t, n), t.shape, 'F32') : t);
  await writeWeightsFile(dir, tensors, opts.layout ?? 'safetensors');
}
