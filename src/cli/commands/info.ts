// `sentencekit info`: architecture, parameter count, dimension, max length and pooling of a model.

import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { parse } from '../args.js';
import { modelLabel, modelOption, resolveModelSpec } from '../../models/default_model.js';

export const usage = `Usage: sentencekit info [--model DIR|HUB_ID]

Prints one JSON object: architecture, parameters, dimension, max_seq_length, pooling, modules.`;

export async function info(argv: string[]): Promise<void> {
  const { values } = parse(argv, { model: { type: 'string' }, help: { type: 'boolean' } }, usage);
  const spec = modelOption(values);
  const model = await SentenceTransformer.load(resolveModelSpec(spec));
  process.stdout.write(JSON.stringify({ model: modelLabel(spec), ...model.info() }, null, 2) + '\n');
}
