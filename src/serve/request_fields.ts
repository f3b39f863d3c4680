// Reading a request's JSON body: typed access to its fields with errors that name the field,
// what it holds and what it should hold (answered 400), and the embedding inputs every route
// takes — a string, a list of strings, a list of token ids, or a list of token-id lists.

import { badRequest, tooLarge } from './errors.js';

export type JsonBody = Record<string, unknown>;

/** One input to embed: a text, or token ids used as the model's input as they are. */
export type Input = { text: string } | { ids: number[] };

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : 'an object';
}

export function optBool(body: JsonBody, name: string, dflt: boolean): boolean {
  const v = body[name];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw badRequest(`"${name}" must be true or false, got ${kind(v)}`, name);
  return v;
}

export function optInt(body: JsonBody, name: string, min: number): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw badRequest(`"${name}" must be an integer ≥ ${min}, got ${typeof v === 'number' ? v : kind(v)}`, name);
  return v;
}

export function optString(body: JsonBody, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`"${name}" must be a string, got ${kind(v)}`, name);
  return v;
}

/** A string field restricted to some values; matched case-insensitively, returned as listed. */
export function optEnum<T extends string>(body: JsonBody, name: string, values: readonly T[], dflt: T): T {
  const v = optString(body, name);
  if (v === undefined) return dflt;
  const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
  if (!hit) throw badRequest(`"${name}" must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`, name);
  return hit;
}

function isIdList(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
}

function checkIds(ids: number[], where: string, vocabSize: number, field: string): number[] {
  ids.forEach((x, j) => {
    if (!Number.isInteger(x) || x < 0 || x >= vocabSize) throw badRequest(`${where}: token id ${x} at position ${j} is not an integer in [0, ${vocabSize}) (the model's vocabulary)`, field);
  });
  return ids;
}

/**
 * The inputs of a request field: a string, a non-empty list of strings, a list of token ids
 * (one input), or a non-empty list of token-id lists. Empty strings, an empty list, mixed lists
 * and more than `maxInputs` inputs are refused, each naming the field and the position.
 */
export function readInputs(body: JsonBody, field: string, opts: { maxInputs: number; vocabSize: number }): Input[] {
  const v = body[field];
  if (v === undefined || v === null) throw badRequest(`"${field}" is required: a string or a list of strings`, field);
  let out: Input[];
  if (typeof v === 'string') out = [{ text: v }];
  else if (isIdList(v)) out = [{ ids: checkIds(v, `"${field}"`, opts.vocabSize, field) }];
  else if (Array.isArray(v)) {
    if (v.length === 0) throw badRequest(`"${field}" is an empty list; give at least one input`, field);
    if (v.length > opts.maxInputs) throw tooLarge(`"${field}" has ${v.length} inputs, more than this server's limit of ${opts.maxInputs} a request (--max-client-batch-size); split the request`, field);
    out = v.map((x, i): Input => {
      if (typeof x === 'string') return { text: x };
      if (isIdList(x)) return { ids: checkIds(x, `"${field}"[${i}]`, opts.vocabSize, field) };
      throw badRequest(`"${field}"[${i}] must be a string (or a list of token ids), got ${Array.isArray(x) && x.length === 0 ? 'an empty list' : kind(x)}`, field);
    });
  } else throw badRequest(`"${field}" must be a string or a list of strings, got ${kind(v)}`, field);
  if (out.length > opts.maxInputs) throw tooLarge(`"${field}" has ${out.length} inputs, more than this server's limit of ${opts.maxInputs} (--max-client-batch-size)`, field);
  out.forEach((x, i) => {
    if ('text' in x && x.text.length === 0) throw badRequest(`"${field}"${Array.isArray(v) ? `[${i}]` : ''} is an empty string; there is nothing to embed`, field);
  });
  return out;
}
