/**
 * Ingest keys in a local JSON file (`<state>/ingest-keys.json`, mode 0600), managed by
 * `trib ingest keys create|list|revoke`. Writes are atomic and under a lock, so two commands at once
 * lose neither key.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { writeFileAtomic } from '../state/write-file-atomic.ts';
import { type IngestKey, type ManagedAccessKeys, mintAccessKey, type RevokeResult } from './access-keys.ts';

interface KeyFile {
  readonly keys: IngestKey[];
}

export class FileAccessKeys implements ManagedAccessKeys {
  readonly description: string;

  constructor(readonly path: string) {
    this.description = path;
  }

  async findByHash(hash: string): Promise<IngestKey | undefined> {
    return (await this.read()).keys.find((key) => key.hash === hash);
  }

  async list(): Promise<IngestKey[]> {
    return (await this.read()).keys;
  }

  /** Creates a key for `tap`; the plain key is returned once and never stored. */
  async create(tap: string, label?: string): Promise<{ readonly plain: string; readonly key: IngestKey }> {
    const { plain, key } = mintAccessKey(tap, label);
    await this.update((file) => ({ keys: [...file.keys, key] }));
    return { plain, key };
  }

  async revoke(id: string): Promise<RevokeResult> {
    let result: RevokeResult = { status: 'not-found' };
    await this.update((file) => ({
      keys: file.keys.map((key) => {
        if (key.id !== id) return key;
        if (key.revokedAt !== undefined) {
          result = { status: 'already-revoked', key };
          return key;
        }
        const revoked = { ...key, revokedAt: new Date().toISOString() };
        result = { status: 'revoked', key: revoked };
        return revoked;
      }),
    }));
    return result;
  }

  private async read(): Promise<KeyFile> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as KeyFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
      throw new Error(`${this.path}: not a key file (${(error as Error).message})`, { cause: error });
    }
  }

  private async update(change: (file: KeyFile) => KeyFile): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const release = await lockfile.lock(dirname(this.path), {
      lockfilePath: `${this.path}.lock`,
      retries: { retries: 20, minTimeout: 20, maxTimeout: 200 },
    });
    try {
      const next = change(await this.read());
      await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    } finally {
      await release();
    }
  }
}
