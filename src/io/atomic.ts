// Atomic file output: data goes to a temporary file next to the target, is
// fsynced, then renamed over the target, so readers never see a half-written
// file and a crash leaves the previous version (or nothing) in place.

import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A temporary file that becomes `path` on commit() and disappears on abort(). */
export interface AtomicFile {
  /** Handle of the temporary file; positioned writes (e.g. rewriting a header) are allowed. */
  readonly fd: FileHandle;
  /** Final destination. */
  readonly path: string;
  /** Temporary file the data is written to until commit(). */
  readonly tempPath: string;
  /** Appends a chunk at the current position (handles short writes). */
  write(chunk: Uint8Array | string): Promise<void>;
  /** fsync, close, rename onto `path`, fsync the directory. */
  commit(): Promise<void>;
  /** Closes and removes the temporary file; a no-op after commit() or abort(). */
  abort(): Promise<void>;
}

function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function wrapError(action: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  let hint = 'check that the directory exists, is writable and has free space';
  if (code === 'ENOENT') hint = 'create the output directory first';
  else if (code === 'EACCES' || code === 'EPERM') hint = 'choose a location you are allowed to write to';
  else if (code === 'ENOSPC') hint = 'free some disk space or write elsewhere';
  else if (code === 'EISDIR') hint = 'give a file name, not a directory';
  return new Error(`cannot ${action} ${JSON.stringify(path)}: ${describe(err)}; ${hint}`, { cause: err });
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // already gone or never created
  }
}

/** fsync a directory so a rename inside it is durable; silently skipped where unsupported. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms/filesystems (Windows, some network mounts) cannot fsync directories.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function writeAll(fd: FileHandle, chunk: Uint8Array | string): Promise<void> {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await fd.write(bytes, offset, bytes.byteLength - offset, null);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    offset += bytesWritten;
  }
}

/** Writes `data` to `path` atomically (temp file + fsync + rename + directory fsync). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const file = await openAtomic(path);
  try {
    await file.write(data);
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/**
 * Opens a temporary file next to `path` for streamed output. Call commit() to
 * move it into place or abort() to discard it.
 */
export async function openAtomic(path: string): Promise<AtomicFile> {
  const tempPath = tempPathFor(path);
  let fd: FileHandle;
  try {
    fd = await open(tempPath, 'wx');
  } catch (err) {
    throw wrapError('create a temporary file for', path, err);
  }
  let state: 'open' | 'committed' | 'aborted' = 'open';
  let closed = false;

  const closeFd = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await fd.close();
  };

  const abort = async (): Promise<void> => {
    if (state !== 'open') return;
    state = 'aborted';
    await closeFd().catch(() => undefined);
    await removeQuietly(tempPath);
  };

  return {
    fd,
    path,
    tempPath,
    async write(chunk: Uint8Array | string): Promise<void> {
      if (state !== 'open') throw new Error(`cannot write ${JSON.stringify(path)}: the file was already ${state}`);
      try {
        await writeAll(fd, chunk);
      } catch (err) {
        throw wrapError('write', path, err);
      }
    },
    async commit(): Promise<void> {
      if (state !== 'open') throw new Error(`cannot commit ${JSON.stringify(path)}: the file was already ${state}`);
      try {
        await fd.sync();
        await closeFd();
        await rename(tempPath, path);
      } catch (err) {
        await abort();
        throw wrapError('write', path, err);
      }
      state = 'committed';
      await syncDirectory(dirname(path));
    },
    abort,
  };
}
