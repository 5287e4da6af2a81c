import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes a file so that a crash leaves either the old content or the new, never a mix:
 * a temp file beside it, fsync, rename over the target, fsync the folder.
 */
export async function writeFileAtomic(
  path: string,
  content: string | Buffer,
  options: { readonly mode?: number } = {},
): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  // `mode` is set at creation, so a secret is never readable by others, not even for a moment.
  const file = await open(temporary, 'w', options.mode ?? 0o666);
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
