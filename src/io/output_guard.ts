// Guards for commands that write: a folder is written only when it is absent, empty, or the
// user said --overwrite; an output is never the input (same path, or the same file through a
// link: same device and inode). Every command that writes a folder or a file next to its input
// calls these before doing any work.

import { realpathSync, statSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

export class OutputGuardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputGuardError';
  }
}

/** What is already in `dir` (empty when absent); throws when `dir` is a file. */
export function listExisting(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return [];
  }
  if (!st.isDirectory()) throw new OutputGuardError(`${dir}: is a file, not a folder; give a folder to write into`);
  return readdirSync(dir);
}

export interface WritableFolderOptions {
  /** The user allowed replacing what the folder holds. */
  overwrite?: boolean;
  /** Names the command's output in the message ("the model", "the export", …). */
  what?: string;
  /** The option that allows it (default `--overwrite`). */
  flag?: string;
  /** Entries that do not count (e.g. the writer's own lock file). */
  ignore?: readonly string[];
  /** Said before the advice, e.g. what the folder holds and the other way to use it. */
  hint?: string;
}

/**
 * Refuses to write into a non-empty folder unless `overwrite` is set; `dir` may be absent.
 */
export function assertWritableFolder(dir: string, opts: WritableFolderOptions = {}): void {
  const entries = listExisting(dir).filter((e) => !(opts.ignore ?? []).includes(e)).sort();
  if (entries.length === 0 || opts.overwrite) return;
  const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, … (${entries.length} entries)` : '');
  throw new OutputGuardError(
    `${dir}: the folder is not empty (${shown}); writing ${opts.what ?? 'the output'} there would replace what it holds. ` +
      (opts.hint ? `${opts.hint}. ` : '') +
      `Choose an empty or new folder, or pass ${opts.flag ?? '--overwrite'} to replace it. Nothing was written`,
  );
}

function identity(path: string): { real: string; dev?: number; ino?: number; dir?: boolean } {
  let real = resolve(path);
  try {
    real = realpathSync(path);
  } catch {
    // does not exist yet: its resolved path is its identity
  }
  try {
    const st = statSync(path);
    return { real, dev: st.dev, ino: st.ino, dir: st.isDirectory() };
  } catch {
    return { real };
  }
}

/** True when `a` and `b` name the same file (same resolved path, or same device and inode). */
export function sameFile(a: string, b: string): boolean {
  const x = identity(a);
  const y = identity(b);
  if (x.real === y.real) return true;
  return x.ino !== undefined && x.ino === y.ino && x.dev === y.dev;
}

/** Refuses an output that is one of the inputs (`--output` over `--input`, `--out` over `--model`). */
export function assertNotInput(output: string, inputs: Record<string, string | undefined>, outFlag = '--output'): void {
  for (const [flag, input] of Object.entries(inputs)) {
    if (input !== undefined && sameFile(input, output)) {
      const kind = identity(output).dir ? 'folder' : 'file';
      throw new OutputGuardError(`${outFlag} ${output} is the same ${kind} as ${flag} ${input}: writing it would destroy the input; choose another output path. Nothing was written`);
    }
  }
}
