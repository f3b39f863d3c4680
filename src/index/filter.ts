// Metadata filters, one meaning on every backend: checked against the fields the index holds
// (a field no stored document has, or a condition of the wrong type for the field, is an
// error), evaluated in JS for the embedded backends and compiled to a SQL WHERE clause over a
// jsonb column for pgvector. A field a document lacks reads as null:
//   {f: v} / {f: {$eq: v}}   value(f) = v          {f: {$ne: v}}   value(f) ≠ v
//   {f: {$in: [..]}}         value(f) ∈ list        {f: {$nin: [..]}} value(f) ∉ list
//   {f: {$gt|$gte|$lt|$lte: x}}  value(f) is a number and compares so (several keys: all hold)
//   {$and: [..]} all hold     {$or: [..]} one holds  (several keys in one object: all hold)
// Takes a Filter (types.ts) and the index's field types (field → the JSON types seen in it).

import type { FieldCondition, Filter, Metadata, MetadataValue } from './types.js';

export type MetadataType = 'string' | 'number' | 'boolean' | 'null';

/** Per field, the JSON types its stored values have (with counts, so that removals can retract a field). */
export type FieldTypes = ReadonlyMap<string, ReadonlySet<MetadataType>>;

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

const OPS = new Set(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte']);
const RANGE = new Set(['$gt', '$gte', '$lt', '$lte']);

export function typeOf(v: MetadataValue): MetadataType {
  return v === null ? 'null' : (typeof v as MetadataType);
}

function isPrimitive(v: unknown): v is MetadataValue {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describeTypes(t: ReadonlySet<MetadataType>): string {
  return [...t].filter((x) => x !== 'null').join(' or ') || 'null';
}

function checkValue(v: unknown, field: string, op: string, types: ReadonlySet<MetadataType>, at: string): void {
  if (!isPrimitive(v)) {
    throw new FilterError(`filter ${at}: ${op} on field "${field}" needs a string, finite number, boolean or null, got ${JSON.stringify(v) ?? String(v)}`);
  }
  const t = typeOf(v);
  if (t !== 'null' && !types.has(t)) {
    throw new FilterError(`filter ${at}: field "${field}" holds ${describeTypes(types)} values, the filter compares it with the ${t} ${JSON.stringify(v)}; give a ${describeTypes(types)}`);
  }
}

function knownFields(fields: FieldTypes): string {
  const names = [...fields.keys()].sort();
  if (names.length === 0) return 'the index has no metadata fields';
  return `known fields: ${names.slice(0, 20).join(', ')}${names.length > 20 ? `, … (${names.length})` : ''}`;
}

/** Throws a FilterError naming the place (e.g. `$and[1].year`) and what to do when `filter` is malformed or does not fit the fields. */
export function validateFilter(filter: unknown, fields: FieldTypes, at = 'filter'): asserts filter is Filter {
  if (!isPlainObject(filter)) throw new FilterError(`${at}: a filter is a JSON object ({"field": value, "$and": [...], ...}), got ${JSON.stringify(filter) ?? String(filter)}`);
  for (const [key, cond] of Object.entries(filter)) {
    const here = at === 'filter' ? key : `${at}.${key}`;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(cond) || cond.length === 0) throw new FilterError(`filter ${here}: needs a non-empty array of filters`);
      cond.forEach((c, i) => validateFilter(c, fields, `${here}[${i}]`));
      continue;
    }
    if (key.startsWith('$')) throw new FilterError(`filter ${here}: unknown operator "${key}" (at the top level: $and, $or, or a field name)`);
    const types = fields.get(key);
    if (types === undefined || types.size === 0) throw new FilterError(`filter ${here}: unknown field "${key}": no stored document has it (${knownFields(fields)})`);
    if (!isPlainObject(cond)) {
      checkValue(cond, key, 'equality', types, here);
      continue;
    }
    const ops = Object.keys(cond);
    if (ops.length === 0) throw new FilterError(`filter ${here}: an empty condition; give a value or one of ${[...OPS].join(', ')}`);
    for (const op of ops) {
      const v = cond[op];
      if (!OPS.has(op)) throw new FilterError(`filter ${here}: unknown operator "${op}" (allowed: ${[...OPS].join(', ')})`);
      if (op === '$eq' || op === '$ne') checkValue(v, key, op, types, here);
      else if (op === '$in' || op === '$nin') {
        if (!Array.isArray(v) || v.length === 0) throw new FilterError(`filter ${here}: ${op} needs a non-empty array of values`);
        for (const x of v) checkValue(x, key, op, types, here);
      } else if (RANGE.has(op)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new FilterError(`filter ${here}: ${op} needs a finite number, got ${JSON.stringify(v) ?? String(v)}`);
        if (!types.has('number')) throw new FilterError(`filter ${here}: ${op} compares numbers, but field "${key}" holds ${describeTypes(types)} values`);
      }
    }
  }
}

function fieldMatches(value: MetadataValue, cond: MetadataValue | FieldCondition): boolean {
  if (!isPlainObject(cond)) return value === cond;
  const c = cond as FieldCondition;
  if (c.$eq !== undefined && value !== c.$eq) return false;
  if (c.$ne !== undefined && value === c.$ne) return false;
  if (c.$in !== undefined && !c.$in.includes(value)) return false;
  if (c.$nin !== undefined && c.$nin.includes(value)) return false;
  if (RANGE_KEYS.some((k) => c[k] !== undefined)) {
    if (typeof value !== 'number') return false;
    if (c.$gt !== undefined && !(value > c.$gt)) return false;
    if (c.$gte !== undefined && !(value >= c.$gte)) return false;
    if (c.$lt !== undefined && !(value < c.$lt)) return false;
    if (c.$lte !== undefined && !(value <= c.$lte)) return false;
  }
  return true;
}

const RANGE_KEYS = ['$gt', '$gte', '$lt', '$lte'] as const;

/** Whether a document's metadata satisfies a validated filter. */
export function matchesFilter(filter: Filter, metadata: Metadata | undefined): boolean {
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and') {
      if (!(cond as Filter[]).every((f) => matchesFilter(f, metadata))) return false;
    } else if (key === '$or') {
      if (!(cond as Filter[]).some((f) => matchesFilter(f, metadata))) return false;
    } else {
      const value = metadata !== undefined && Object.hasOwn(metadata, key) ? metadata[key] : null;
      if (!fieldMatches(value, cond as MetadataValue | FieldCondition)) return false;
    }
  }
  return true;
}

/**
 * A validated filter as a SQL boolean expression over the jsonb column `column`, with its
 * values appended to `params` ($n placeholders continue from params.length). Missing fields
 * read as JSON null, as in {@link matchesFilter}; numeric comparisons apply to JSON numbers only.
 */
export function filterToSql(filter: Filter, column: string, params: unknown[]): string {
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const value = (field: string): string => `COALESCE(${column} -> ${p(field)}::text, 'null'::jsonb)`;
  const json = (v: MetadataValue): string => `${p(JSON.stringify(v))}::jsonb`;
  const parts: string[] = [];
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      const subs = (cond as Filter[]).map((f) => `(${filterToSql(f, column, params)})`);
      parts.push(`(${subs.join(key === '$and' ? ' AND ' : ' OR ')})`);
      continue;
    }
    if (!isPlainObject(cond)) {
      parts.push(`${value(key)} = ${json(cond as MetadataValue)}`);
      continue;
    }
    const c = cond as FieldCondition;
    if (c.$eq !== undefined) parts.push(`${value(key)} = ${json(c.$eq)}`);
    if (c.$ne !== undefined) parts.push(`${value(key)} <> ${json(c.$ne)}`);
    if (c.$in !== undefined) parts.push(`${value(key)} IN (${c.$in.map(json).join(', ')})`);
    if (c.$nin !== undefined) parts.push(`${value(key)} NOT IN (${c.$nin.map(json).join(', ')})`);
    const sqlOps: Record<(typeof RANGE_KEYS)[number], string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };
    for (const k of RANGE_KEYS) {
      if (c[k] === undefined) continue;
      const f = p(key);
      parts.push(`COALESCE((CASE WHEN jsonb_typeof(${column} -> ${f}::text) = 'number' THEN (${column} ->> ${f}::text)::float8 END) ${sqlOps[k]} ${p(c[k])}::float8, false)`);
    }
  }
  return parts.length === 0 ? 'true' : parts.join(' AND ');
}
