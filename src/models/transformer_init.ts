// Random initialisation of an encoder, as Hugging Face's _init_weights does for the BERT family:
// Linear and Embedding weights ~ N(0, initializer_range), biases 0, LayerNorm weight 1 and
// bias 0, the padding row of the word embeddings 0; the architecture's extra tensors (a pooler)
// drawn the same way after the encoder's. Deterministic for a seed (see init.ts).

import type { Architecture, EncoderConfig } from './architectures/architecture.js';
import { Rng } from './init.js';
import type { Param } from './params.js';
import { f32Tensor } from './safetensors.js';
import type { EncoderWeights } from './transformer_checkpoint.js';

function isNormWeight(name: string): boolean {
  return /(LayerNorm|layer_norm)\.weight$/.test(name);
}

export function randomEncoderWeights(arch: Architecture, config: EncoderConfig, seed: number): EncoderWeights {
  const rng = new Rng(seed);
  const std = config.initializerRange;
  const draw = (name: string, shape: number[]): Float32Array => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (isNormWeight(name)) data.fill(1);
    else if (name.endsWith('.weight')) rng.fillNormal(data, std);
    return data;
  };
  const params = new Map<string, Param>();
  const fileDtypes = new Map<string, 'F32'>();
  for (const [name, shape] of arch.paramShapes(config)) {
    const data = draw(name, shape);
    if (name === arch.tokenTable) {
      const pad = config.padTokenId;
      if (pad >= 0 && pad < config.vocabSize) data.fill(0, pad * config.hiddenSize, (pad + 1) * config.hiddenSize);
    }
    params.set(name, { shape, data });
    fileDtypes.set(name, 'F32');
  }
  const extra = new Map<string, ReturnType<typeof f32Tensor>>();
  for (const [name, shape] of arch.extraShapes?.(config) ?? []) extra.set(name, f32Tensor(draw(name, shape), shape));
  return { params, extra, fileDtypes, prefix: '' };
}
