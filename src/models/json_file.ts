// Reading the JSON configuration files of a model directory with errors that name the file
// and the problem, and typed field accessors that name the key and what was expected.

import { readFile } from 'node:fs/promises';

export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

export type JsonObject = Record<string, unknown>;

/** Reads and parses a JSON object; `optional` returns null when the file does not exist. */
export async function readJsonObject(path: string, optional: true): Promise<JsonObject | null>;
export async function readJsonObject(path: string, optional?: false): Promise<JsonObject>;
export async function readJsonObject(path: string, optional = false): Promise<JsonObject | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && optional) return null;
    if (code === 'ENOENT') throw new ModelFormatError(`${path}: file not found (is this a sentence-transformers model directory?)`);
    throw new ModelFormatError(`${path}: cannot read (${(e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${path}: not valid JSON (${(e as Error).message}); fix or regenerate the file`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ModelFormatError(`${path}: expected a JSON object, found ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  return parsed as JsonObject;
}

export class Fields {
  constructor(readonly obj: JsonObject, readonly file: string) {}

  private bad(key: string, want: string): never {
    const got = this.obj[key];
    throw new ModelFormatError(`${this.file}: "${key}" must be ${want}, found ${JSON.stringify(got)}`);
  }

  /** Whether the key is present (and not null). */
  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  int(key: string, dflt?: number, min = 0): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (dflt === undefined) throw new ModelFormatError(`${this.file}: required key "${key}" is missing`);
      return dflt;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.bad(key, `an integer ≥ ${min}`);
    return v;
  }

  num(key: string, dflt?: number): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (dflt === undefined) throw new ModelFormatError(`${this.file}: required key "${key}" is missing`);
      return dflt;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.bad(key, 'a finite number');
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') this.bad(key, 'true or false');
    return v;
  }

  str(key: string, dflt?: string): string {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (dflt === undefined) throw new ModelFormatError(`${this.file}: required key "${key}" is missing`);
      return dflt;
    }
    if (typeof v !== 'string') this.bad(key, 'a string');
    return v;
  }

  optStr(key: string): string | null {
    const v = this.obj[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') this.bad(key, 'a string or null');
    return v;
  }

  strMap(key: string): Record<string, string> {
    const v = this.obj[key];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) this.bad(key, 'an object of strings');
    return v as Record<string, string>;
  }
}
