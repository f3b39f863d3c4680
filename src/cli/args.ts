// Small helpers over node:util parseArgs: typed option access with errors that name the flag
// and what it expects, and the usage text printed on a mistake.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string, readonly usage?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Options = ParseArgsConfig['options'];

export function parse(argv: string[], options: NonNullable<Options>, usage: string): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if (values.help) {
      process.stdout.write(usage + '\n');
      process.exit(0);
    }
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message, usage);
  }
}

export function required(values: Record<string, string | boolean | undefined>, name: string, usage: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`, usage);
  return v;
}

export function intOpt(values: Record<string, string | boolean | undefined>, name: string, dflt: number | undefined, usage: string, min = 1): number | undefined {
  const v = values[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${String(v)}"`, usage);
  return n;
}
