// `sentencekit create-model`: a randomly initialised Sentence Transformer (its encoder family
// chosen by --arch from the architecture registry) in the
// sentence-transformers layout (same seed → same bytes).

import { architectureNames } from '../../models/architectures/registry.js';
import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { Pooling } from '../../models/pooling.js';
import { assertNotInput, assertWritableFolder } from '../../io/output_guard.js';
import { intOpt, parse, required, UsageError } from '../args.js';

export const usage = `Usage: sentencekit create-model [--arch bert|distilbert|roberta|xlm-roberta|mpnet] --tokenizer DIR --hidden H --layers L --heads A --intermediate I
                               [--pooling mean[,cls,…]] [--no-normalize] [--dense N] [--max-seq-length N]
                               [--seed S] --out DIR [--overwrite]

Writes a randomly initialised model of the --arch family (default bert; normal(0, 0.02) initialisation) with the tokenizer
in DIR (tokenizer.json or vocab.txt) to --out, in the layout Python's sentence-transformers loads.
Pooling modes: cls, max, mean, mean_sqrt_len_tokens, weightedmean, lasttoken (comma-separated to concatenate).
A non-empty --out (e.g. a trained model) is refused unless --overwrite is given.`;

export async function createModel(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    arch: { type: 'string', default: 'bert' },
    tokenizer: { type: 'string' },
    hidden: { type: 'string' },
    layers: { type: 'string' },
    heads: { type: 'string' },
    intermediate: { type: 'string' },
    pooling: { type: 'string', default: 'mean' },
    'no-normalize': { type: 'boolean', default: false },
    dense: { type: 'string' },
    'max-seq-length': { type: 'string' },
    'max-position-embeddings': { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    help: { type: 'boolean' },
  }, usage);
  const arch = String(values.arch);
  if (!architectureNames().includes(arch)) throw new UsageError(`--arch ${arch} is not supported (supported: ${architectureNames().join(', ')})`, usage);
  const hidden = intOpt(values, 'hidden', undefined, usage) ?? req('hidden');
  const heads = intOpt(values, 'heads', undefined, usage) ?? req('heads');
  if (hidden % heads !== 0) throw new UsageError(`--hidden ${hidden} must be a multiple of --heads ${heads}`, usage);
  let modes;
  try {
    modes = String(values.pooling).split(',').map((s) => Pooling.parseMode(s.trim()));
  } catch (e) {
    throw new UsageError((e as Error).message, usage);
  }
  const out = required(values, 'out', usage);
  const tokenizerDir = required(values, 'tokenizer', usage);
  assertNotInput(out, { '--tokenizer': tokenizerDir }, '--out');
  assertWritableFolder(out, { overwrite: Boolean(values.overwrite), what: 'a new random model' });
  const model = await SentenceTransformer.create({
    tokenizerDir,
    arch,
    hidden,
    layers: intOpt(values, 'layers', undefined, usage, 0) ?? req('layers'),
    heads,
    intermediate: intOpt(values, 'intermediate', undefined, usage) ?? req('intermediate'),
    pooling: modes,
    normalize: !values['no-normalize'],
    dense: intOpt(values, 'dense', undefined, usage),
    seed: intOpt(values, 'seed', 42, usage, 0),
    maxSeqLength: intOpt(values, 'max-seq-length', undefined, usage),
    maxPositionEmbeddings: intOpt(values, 'max-position-embeddings', undefined, usage),
  });
  await model.save(out);
  process.stderr.write(`created ${out}: ${model.parameterCount().toLocaleString('en-US')} parameters, dimension ${model.dimension}, pooling ${modes.join('+')}\n`);

  function req(name: string): never {
    throw new UsageError(`--${name} is required`, usage);
  }
}
