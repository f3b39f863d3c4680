// What to tell a user whose file could not be opened, from the operating system's error code.

export function openHint(err: unknown, folderWord = 'folder'): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'check the path';
  if (code === 'EISDIR') return `give a file, not a ${folderWord}`;
  if (code === 'EACCES') return 'check the file permissions';
  return 'check that the file is readable';
}
