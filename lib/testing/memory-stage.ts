/** A stage in memory, for tests that run thousands of schedules; the same contract as FolderStage. */
import { Readable } from 'node:stream';
import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';
import { ChunkNotFoundError, type Stage } from '../stage/stage.ts';

export class MemoryStage implements Stage {
  readonly description = 'memory stage';
  readonly objects = new Map<string, { body: Buffer; metadata: ChunkMetadata; loaded: boolean }>();

  async put(key: string, gzipBody: Buffer, metadata: ChunkMetadata): Promise<void> {
    this.objects.set(key, {
      body: Buffer.from(gzipBody),
      metadata: structuredClone(metadata),
      loaded: false,
    });
  }

  async open(key: string): Promise<Readable> {
    const object = this.objects.get(key);
    if (object === undefined) throw new ChunkNotFoundError(`no chunk at ${key}`);
    return Readable.from([object.body]);
  }

  async metadata(key: string): Promise<ChunkMetadata | undefined> {
    const object = this.objects.get(key);
    return object === undefined ? undefined : structuredClone(object.metadata);
  }

  async markLoaded(key: string): Promise<void> {
    const object = this.objects.get(key);
    if (object !== undefined) object.loaded = true;
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  uriOf(key: string): string {
    return `memory:${key}`;
  }
}
