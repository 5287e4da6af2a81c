import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';
import { writeFileAtomic } from '../state/write-file-atomic.ts';
import { ChunkNotFoundError, type Stage } from './stage.ts';

const METADATA_SUFFIX = '.meta.json';
const LOADED_SUFFIX = '.loaded';

/**
 * The local stage: chunk keys are paths under a folder. The metadata sidecar is written before the
 * chunk appears (both by atomic rename), so a visible chunk always has its metadata.
 */
export class StageNotWritableError extends Error {
  override readonly name = 'StageNotWritableError';
}

export class FolderStage implements Stage {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.description = this.root;
  }

  async put(key: string, gzipBody: Buffer, metadata: ChunkMetadata): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(`${path}${METADATA_SUFFIX}`, `${JSON.stringify(metadata)}\n`);
    await writeFileAtomic(path, gzipBody);
  }

  async open(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    await stat(path).catch((error: unknown) => {
      throw new ChunkNotFoundError(`no chunk at ${path}`, { cause: error });
    });
    return createReadStream(path, { highWaterMark: 1 << 20 });
  }

  /**
   * Fails at once, saying what to fix, when chunks could not be written here: before a run reads its
   * source, not after (a stage path that is a file, a folder without write permission).
   */
  async checkWritable(): Promise<void> {
    const probe = join(this.root, `.write-check-${process.pid}`);
    try {
      await mkdir(this.root, { recursive: true });
      await writeFile(probe, '');
      await rm(probe, { force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOTDIR' || code === 'EEXIST'
          ? 'it (or a folder above it) is a file, not a folder'
          : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
            ? 'this user may not write there'
            : (error as Error).message;
      throw new StageNotWritableError(
        `the stage ${this.root} cannot hold chunks: ${why}. Point stage.path in the pipeline file at a folder you can write to.`,
        { cause: error },
      );
    }
  }

  /** A marker beside the chunk: only marked chunks may be pruned (as S3's lifecycle expires tagged ones). */
  async markLoaded(key: string): Promise<void> {
    await writeFile(`${this.pathOf(key)}${LOADED_SUFFIX}`, '');
  }

  /**
   * Deletes the chunks under `prefix` that were loaded more than `keepMs` ago; a chunk not loaded is
   * never deleted, however old. Returns how many went.
   */
  async prune(prefix: string, keepMs: number, now = Date.now()): Promise<number> {
    let pruned = 0;
    for (const key of await this.list(prefix)) {
      const path = this.pathOf(key);
      const loaded = await stat(`${path}${LOADED_SUFFIX}`).catch(() => undefined);
      if (loaded === undefined || now - loaded.mtimeMs < keepMs) continue;
      await rm(path, { force: true });
      await rm(`${path}${METADATA_SUFFIX}`, { force: true });
      await rm(`${path}${LOADED_SUFFIX}`, { force: true });
      pruned += 1;
      await rmdir(dirname(path)).catch(() => {}); // the run's folder, once empty
    }
    return pruned;
  }

  async metadata(key: string): Promise<ChunkMetadata | undefined> {
    try {
      return JSON.parse(await readFile(`${this.pathOf(key)}${METADATA_SUFFIX}`, 'utf8')) as ChunkMetadata;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (folder: string): Promise<void> => {
      const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      for (const entry of entries) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.name.endsWith('.jsonl.gz')) keys.push(relative(this.root, path).split(sep).join('/'));
      }
    };
    await walk(this.pathOf(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix));
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  uriOf(key: string): string {
    return this.pathOf(key);
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) {
      throw new Error(`chunk key ${JSON.stringify(key)} leaves the stage folder ${this.root}`);
    }
    return path;
  }
}
