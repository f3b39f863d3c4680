// The ONE pipeline builder: a Sentence Transformer's modules walked in order, each adding its
// part of the graph through the Module protocol, for inference, training and export alike:
//   features₀ = {input_ids, attention_mask, token_type_ids, prompt_length}
//   featuresᵢ₊₁ = moduleᵢ.build(g, paramsᵢ, featuresᵢ, mode)
// Each module's weights are named in the graph by a namespace (none for the first module, its
// folder for the others), so names stay unique and stable. Also the load-time check that each
// module accepts what the one before it produces, and the output width.

import { join } from 'node:path';
import type { GraphBuilder } from '../graph/builder.js';
import type { Features } from './features.js';
import { ModelFormatError } from './json_file.js';
import type { BuildMode, Module, ModuleEntry } from './module.js';
import type { ParamSource } from './params.js';

/** Prefix of module i's parameter names: '' for the input module, `${path}${sep}` after it. */
export function paramNamespace(entry: ModuleEntry, index: number, sep: string): string {
  return index === 0 ? '' : `${entry.path}${sep}`;
}

/** Runs every module's build in order; `paramsFor` gives each its weight source. */
export function buildPipeline(g: GraphBuilder, modules: readonly ModuleEntry[], paramsFor: (entry: ModuleEntry, index: number) => ParamSource, features: Features, mode: BuildMode): Features {
  let f = features;
  modules.forEach((m, i) => {
    const run = (): Features => m.module.build(g, paramsFor(m, i), f, mode);
    f = i > 0 && m.path && m.module.parameters().size > 0 ? g.scope(m.path, run) : run();
  });
  return f;
}

/** Width of the pipeline's output (the sentence embedding when it ends in one). */
export function pipelineDimension(modules: readonly ModuleEntry[]): number {
  let d = 0;
  for (const m of modules) d = m.module.outputDim(d);
  return d;
}

function short(m: Module): string {
  return m.type.replace('sentence_transformers.models.', '');
}

/** Checks that each module accepts what the one before it produces; the error names the file at fault. */
export function checkPipeline(dir: string, modules: readonly ModuleEntry[]): void {
  const modulesPath = join(dir, 'modules.json');
  let kind: Module['produces'] = 'ids';
  let dim = 0;
  let pooled = false;
  modules.forEach((m, i) => {
    const mod = m.module;
    const cfg = join(dir, m.path, 'config.json');
    const label = `module ${i} (${short(mod)}, path "${m.path}")`;
    if (mod.accepts === 'ids') {
      if (i !== 0) throw new ModelFormatError(`${modulesPath}: ${label} must be the first module`);
    } else if (i === 0) {
      throw new ModelFormatError(`${modulesPath}: the first module must be a Transformer (or another module that reads token ids), found ${label}`);
    } else if (mod.accepts === 'tokens' && kind === 'sentence') {
      throw new ModelFormatError(pooled ? `${modulesPath}: ${label} follows another Pooling module` : `${modulesPath}: ${label} works on token embeddings, and module 0 already gives a sentence embedding`);
    } else if (mod.accepts === 'sentence' && kind === 'tokens') {
      throw new ModelFormatError(`${modulesPath}: ${label} comes before any Pooling module; it works on sentence embeddings`);
    }
    if (mod.inputDim !== null && mod.inputDim !== dim) {
      const key = mod.inputDimKey ?? 'input dimension';
      throw new ModelFormatError(
        mod.accepts === 'tokens'
          ? `${cfg}: ${key} ${mod.inputDim} does not match hidden_size ${dim} of the ${short(modules[0].module)} (${join(dir, modules[0].path, 'config.json')})`
          : `${cfg}: ${key} ${mod.inputDim} does not match the ${dim}-dimensional sentence embedding of the modules before it`,
      );
    }
    if (mod.accepts === 'tokens' && mod.produces === 'sentence') pooled = true;
    dim = mod.outputDim(dim);
    kind = mod.produces;
  });
}
