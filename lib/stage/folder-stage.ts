import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';
import { writeFileAtomic } from '../state/write-file-atomic.ts';
import { ChunkNotFoundError, type Stage } from './stage.ts';

const METADATA_SUFFIX = '.meta.json';

/**
 * The local stage: chunk keys are paths under a folder. The metadata sidecar is written before the
 * chunk appears (both by atomic rename), so a visible chunk always has its metadata.
 */
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

  /** Local chunks are kept until the folder is cleaned; nothing to record yet. */
  async markLoaded(_key: string): Promise<void> {}

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
