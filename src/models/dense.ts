// sentence-transformers' Dense module: y = act(x Wᵀ + b), W [out, in], with the activation
// named by its torch class (Tanh by default, Identity, ReLU, Sigmoid, GELU, SiLU). Weights in
// 2_Dense/model.safetensors (or pytorch_model.bin) as linear.weight / linear.bias.

import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import type { Features } from './features.js';
import { Fields, ModelFormatError, readJsonObject, type JsonObject } from './json_file.js';
import type { BuildMode, Module, ModuleSaveOptions } from './module.js';
import type { Param, ParamSource } from './params.js';
import { floatTensor, toFloat32, type SafeDType } from './safetensors.js';
import { V6_IO_KEYS } from './st_format.js';
import { readWeightsFile, writeWeightsFile } from './weights_file.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Rng } from './init.js';

const ACTIVATIONS: Record<string, (g: GraphBuilder, x: Value) => Value> = {
  'torch.nn.modules.activation.Tanh': (g, x) => g.tanh(x),
  'torch.nn.modules.linear.Identity': (_g, x) => x,
  'torch.nn.modules.activation.ReLU': (g, x) => g.relu(x),
  'torch.nn.modules.activation.Sigmoid': (g, x) => g.sigmoid(x),
  'torch.nn.modules.activation.GELU': (g, x) => g.gelu(x),
  'torch.nn.modules.activation.SiLU': (g, x) => g.mul(x, g.sigmoid(x)),
};

export class Dense implements Module {
  readonly type = 'sentence_transformers.models.Dense';
  readonly accepts = 'sentence' as const;
  readonly produces = 'sentence' as const;
  readonly inputDimKey = 'in_features';

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly weight: Param,
    readonly bias: Param | null,
    readonly activationFunction = 'torch.nn.modules.activation.Tanh',
    /** The weights' dtype in the file they came from; save writes them back in it (training sets F32). */
    public fileDtype: SafeDType = 'F32',
  ) {
    if (!ACTIVATIONS[activationFunction]) {
      throw new ModelFormatError(`Dense: activation_function "${activationFunction}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
    }
  }

  get inputDim(): number {
    return this.inFeatures;
  }

  outputDim(): number {
    return this.outFeatures;
  }

  describe(): Record<string, unknown> {
    return { dense: { in_features: this.inFeatures, out_features: this.outFeatures, activation_function: this.activationFunction } };
  }

  static random(inFeatures: number, outFeatures: number, seed: number, bias = true, activation = 'torch.nn.modules.activation.Tanh'): Dense {
    // torch.nn.Linear's default: U(−1/√in, 1/√in) for weight and bias
    const rng = new Rng(seed);
    const bound = 1 / Math.sqrt(inFeatures);
    const w = new Float32Array(inFeatures * outFeatures).map(() => (rng.uniform() * 2 - 1) * bound);
    const b = bias ? new Float32Array(outFeatures).map(() => (rng.uniform() * 2 - 1) * bound) : null;
    return new Dense(inFeatures, outFeatures, { shape: [outFeatures, inFeatures], data: w }, b ? { shape: [outFeatures], data: b } : null, activation);
  }

  static async load(dir: string): Promise<Dense> {
    const path = join(dir, 'config.json');
    const f = new Fields(await readJsonObject(path), path);
    const inF = f.int('in_features', undefined, 1);
    const outF = f.int('out_features', undefined, 1);
    const hasBias = f.bool('bias', true);
    const act = f.str('activation_function', 'torch.nn.modules.activation.Tanh');
    if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, act)) {
      throw new ModelFormatError(`${path}: activation_function "${act}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
    }
    const file = await readWeightsFile(dir);
    const st = file.path;
    const get = (name: string, shape: number[]): Param => {
      const t = file.tensors.get(name);
      if (!t) throw new ModelFormatError(`${st}: tensor "${name}" is missing`);
      if (t.shape.join(',') !== shape.join(',')) throw new ModelFormatError(`${st}: tensor "${name}" has shape [${t.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
      return { shape, data: toFloat32(t, `${st}: ${name}`) };
    };
    return new Dense(inF, outF, get('linear.weight', [outF, inF]), hasBias ? get('linear.bias', [outF]) : null, act, file.tensors.get('linear.weight')!.dtype);
  }

  configJson(): JsonObject {
    return { in_features: this.inFeatures, out_features: this.outFeatures, bias: this.bias !== null, activation_function: this.activationFunction };
  }

  /**
   * config.json and the weights in their file dtype: model.safetensors (read since 3.1) and
   * pytorch_model.bin (what 2.x and 3.0 read) for 'v3', only the latter for 'v2', only the
   * former for 'v6' (whose config also names its input and output).
   */
  async save(dir: string, opts: ModuleSaveOptions = {}): Promise<void> {
    const format = opts.format ?? 'v3';
    await mkdir(dir, { recursive: true });
    const tensors = new Map([['linear.weight', floatTensor(this.weight.data, this.weight.shape, this.fileDtype)]]);
    if (this.bias) tensors.set('linear.bias', floatTensor(this.bias.data, this.bias.shape, this.fileDtype));
    await writeWeightsFile(dir, tensors, format === 'v3' ? 'both' : format === 'v2' ? 'pytorch' : 'safetensors');
    const cfg = format === 'v6' ? { ...this.configJson(), ...V6_IO_KEYS } : this.configJson();
    await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
  }

  /** Parameters by name ('linear.weight' [out, in], 'linear.bias'). */
  parameters(): ReadonlyMap<string, Param> {
    return this.params();
  }

  params(): Map<string, Param> {
    const m = new Map<string, Param>([['linear.weight', this.weight]]);
    if (this.bias) m.set('linear.bias', this.bias);
    return m;
  }

  build(g: GraphBuilder, params: ParamSource, f: Features, _mode?: BuildMode): Features {
    const x = f.sentenceEmbedding;
    if (!x) throw new Error('Dense needs a sentence embedding (put it after Pooling)');
    const l = params.linear(['linear.weight'], [this.bias ? 'linear.bias' : null]);
    return { ...f, sentenceEmbedding: ACTIVATIONS[this.activationFunction](g, g.linear(x, l.weight, l.bias)) };
  }
}
