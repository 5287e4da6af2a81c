/** A stage whose next puts fail, as an S3 outage mid-run would. */
import type { Readable } from 'node:stream';
import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';
import type { Stage } from '../stage/stage.ts';
import { InjectedFault } from './faulty-destination.ts';

export class FaultyStage implements Stage {
  readonly description: string;
  private failPuts = 0;
  private putsBeforeFailure = 0;

  constructor(private readonly inner: Stage) {
    this.description = `faulty(${inner.description})`;
  }

  /** After `afterPuts` successful puts, the next `count` fail. */
  failNextPuts(count = 1, afterPuts = 0): void {
    this.failPuts = count;
    this.putsBeforeFailure = afterPuts;
  }

  async put(key: string, gzipBody: Buffer, metadata: ChunkMetadata): Promise<void> {
    if (this.failPuts > 0 && this.putsBeforeFailure-- <= 0) {
      this.failPuts -= 1;
      throw new InjectedFault(`injected fault: the stage refused ${key} (503 Slow Down)`);
    }
    await this.inner.put(key, gzipBody, metadata);
  }

  open(key: string): Promise<Readable> {
    return this.inner.open(key);
  }

  markLoaded(key: string): Promise<void> {
    return this.inner.markLoaded(key);
  }

  metadata(key: string): Promise<ChunkMetadata | undefined> {
    return this.inner.metadata(key);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  uriOf(key: string): string {
    return this.inner.uriOf(key);
  }
}
