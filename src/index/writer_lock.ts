// One writer per index folder: a file `writer.lock` created exclusively (O_EXCL) holding the
// writer's process id. A lock whose process is gone (killed, crashed) is taken over; a live one
// is an error naming the process. Readers take no lock: they read the last committed manifest
// and never write. Takes the folder.

import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'writer.lock';

export class IndexLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder's writer lock; returns the function that releases it. */
export async function lockForWriting(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = await open(path, 'wx');
      await fd.writeFile(String(process.pid));
      await fd.close();
      return async () => {
        await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new IndexLockedError(`${dir}: another process (pid ${pid}) is writing this index; wait for it to finish (or, if it is gone, remove ${path})`);
      }
      await rm(path, { force: true }); // left by a process that no longer runs
    }
  }
  throw new IndexLockedError(`${dir}: could not take the writer lock ${path}`);
}
