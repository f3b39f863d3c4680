// The architecture registry: config.json's `model_type` → the encoder family that loads it.
// Adding a family is one folder under architectures/ and one line in ARCHITECTURES.

import { ModelFormatError, type JsonObject } from '../json_file.js';
import type { Architecture, EncoderConfig } from './architecture.js';
import { bert } from './bert/index.js';
import { distilbert } from './distilbert/index.js';
import { mpnet } from './mpnet/index.js';
import { roberta, xlmRoberta } from './roberta/index.js';

/** A family typed by its own config, handed out as the common contract (its functions only ever get its own parsed config). */
function entry<C extends EncoderConfig>(a: Architecture<C>): Architecture {
  return a as unknown as Architecture;
}

const ARCHITECTURES: readonly Architecture[] = [
  entry(bert),
  entry(distilbert),
  entry(roberta),
  entry(xlmRoberta),
  entry(mpnet),
];

/** Families by model_type. */
const BY_TYPE = new Map<string, Architecture>(ARCHITECTURES.map((a) => [a.modelType, a]));

export function architectureNames(): string[] {
  return [...BY_TYPE.keys()];
}

/** The family of model_type `name`; the error lists the supported ones. */
export function architecture(name: string, where = 'model_type'): Architecture {
  const a = BY_TYPE.get(name);
  if (!a) throw new ModelFormatError(`${where}: model_type "${name}" is not supported (supported: ${architectureNames().join(', ')})`);
  return a;
}

/**
 * The family a config.json describes: by model_type, or when that is missing by its
 * `architectures` class names (BertModel …); BERT when neither is given, as older files are.
 */
export function architectureOf(cfg: JsonObject, file: string): Architecture {
  const mt = cfg.model_type;
  if (mt !== undefined && typeof mt !== 'string') throw new ModelFormatError(`${file}: model_type must be a string, got ${JSON.stringify(mt)}`);
  if (typeof mt === 'string') return architecture(mt, file);
  const classes = Array.isArray(cfg.architectures) ? cfg.architectures.filter((x): x is string => typeof x === 'string') : [];
  for (const c of classes) for (const a of BY_TYPE.values()) if (a.hfClasses.includes(c)) return a;
  if (classes.length) throw new ModelFormatError(`${file}: no model_type, and architectures ${JSON.stringify(classes)} name no supported family (supported model_type: ${architectureNames().join(', ')})`);
  return architecture('bert', file);
}

export type { Architecture, EncoderConfig };
