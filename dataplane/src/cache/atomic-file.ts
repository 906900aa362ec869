/**
 * The data plane's one way to replace a file durably (the generation cache, the apply
 * journal): write `text` to `temp` (mode 0600), fsync it, rename it over `path`, fsync the
 * directory so the rename itself survives a power loss. A reader sees the old file or the
 * new one, never a torn one. On failure the temp file is removed and the error rethrown.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeFileAtomically(path: string, temp: string, text: string): Promise<void> {
  try {
    const fh = await open(temp, 'w', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** fsync of the directory makes a rename in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
