/**
 * The client's durable spool: batches the endpoint could not take, one JSON-lines file per batch,
 * written atomically (temp file, fsync, rename, fsync the folder) so a crash leaves a whole batch or
 * none. Never wiped at start (ISStreamer's failover file is): the files are resubmitted, oldest first,
 * and deleted only after the endpoint accepted them. Resubmitting twice is harmless: events keep the
 * ids they were given at `log()`, and the server deduplicates by id.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/write-file-atomic.ts';
import type { PushedEvent } from './pushed-event.ts';

export interface SpooledBatch {
  readonly file: string;
  readonly events: PushedEvent[];
}

export class EventSpool {
  private sequence = 0;

  /** The spool in exactly this folder (the one a client names when it closes with batches left). */
  constructor(readonly folder: string) {}

  /** Each access key has its own folder under `spoolDir`, so a client resubmits only what it may send. */
  static forKey(spoolDir: string, accessKey: string): EventSpool {
    return new EventSpool(join(spoolDir, createHash('sha256').update(accessKey).digest('hex').slice(0, 16)));
  }

  /** Writes one batch durably; resolves once it is on disk. */
  async write(events: readonly PushedEvent[]): Promise<string> {
    await mkdir(this.folder, { recursive: true });
    const file = join(this.folder, this.nextName());
    await writeFileAtomic(file, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
    return file;
  }

  /**
   * The same, synchronously: `log()` uses it when events arrive faster than the loop can spool them
   * (a tight loop never yields to it), so memory stays bounded without dropping anything.
   */
  writeSync(events: readonly PushedEvent[]): string {
    mkdirSync(this.folder, { recursive: true });
    const file = join(this.folder, this.nextName());
    const temporary = `${file}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    const folder = openSync(this.folder, 'r');
    try {
      fsyncSync(folder);
    } finally {
      closeSync(folder);
    }
    return file;
  }

  private nextName(): string {
    // Time first, so a listing is oldest first; the sequence orders batches of one millisecond.
    this.sequence += 1;
    return `${Date.now().toString().padStart(15, '0')}-${String(this.sequence).padStart(9, '0')}-${randomBytes(4).toString('hex')}.jsonl`;
  }

  /** Spooled batch files, oldest first. */
  async files(): Promise<string[]> {
    const names = await readdir(this.folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    return names
      .filter((name) => name.endsWith('.jsonl'))
      .sort()
      .map((name) => join(this.folder, name));
  }

  /** A spooled batch; a line that is not an event (a file edited by hand) is named. */
  async read(file: string): Promise<SpooledBatch> {
    const text = await readFile(file, 'utf8');
    const events: PushedEvent[] = [];
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        events.push(JSON.parse(line) as PushedEvent);
      } catch (error) {
        throw new Error(`${file}:${index + 1}: not a spooled event (${(error as Error).message})`, {
          cause: error,
        });
      }
    });
    return { file, events };
  }

  async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  async count(): Promise<number> {
    return (await this.files()).length;
  }
}
