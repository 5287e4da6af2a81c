/**
 * The local inbox: `<stage>/inbox/<tap>/`. An entry is written to a temp file, fsynced, and renamed to
 * a name taken just before the rename, so the settle time only has to cover a rename (2 s is ample).
 * Buckets are one file each, created exclusively, so two servers agree on "created" vs "exists".
 */
import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/write-file-atomic.ts';
import {
  type BucketRegistry,
  type EventInbox,
  type InboxEntry,
  type IngestTapStore,
  inboxEntryName,
  inboxEntryOf,
} from './event-inbox.ts';

export class FolderInbox implements EventInbox {
  readonly settleMs = 2_000;
  readonly description: string;

  constructor(readonly folder: string) {
    this.description = folder;
  }

  async append(lines: readonly string[], _receivedAt: number): Promise<InboxEntry> {
    await mkdir(this.folder, { recursive: true });
    const unique = randomUUID();
    const temporary = join(this.folder, `.${unique}.tmp`);
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(`${lines.join('\n')}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    const receivedAt = Date.now();
    const name = inboxEntryName(receivedAt, unique);
    await rename(temporary, join(this.folder, name));
    const folder = await open(this.folder, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
    return { name, receivedAt };
  }

  async list(): Promise<InboxEntry[]> {
    const names = await readdir(this.folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    return names
      .map(inboxEntryOf)
      .filter((entry): entry is InboxEntry => entry !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async read(name: string): Promise<string> {
    return readFile(join(this.folder, name), 'utf8');
  }

  async remove(names: readonly string[]): Promise<void> {
    for (const name of names) await rm(join(this.folder, name), { force: true });
  }
}

export class FolderBuckets implements BucketRegistry {
  constructor(readonly folder: string) {}

  async create(bucketKey: string, bucketName: string): Promise<'created' | 'exists'> {
    await mkdir(this.folder, { recursive: true });
    const path = this.pathOf(bucketKey);
    const temporary = `${path}.${randomUUID()}.tmp`;
    await writeFileAtomic(
      temporary,
      JSON.stringify({ bucketKey, bucketName, createdAt: new Date().toISOString() }),
    );
    try {
      // link() fails if the name exists: an exclusive create of a whole file.
      await link(temporary, path);
      return 'created';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw error;
    } finally {
      await rm(temporary, { force: true });
    }
  }

  async nameOf(bucketKey: string): Promise<string | undefined> {
    try {
      return (JSON.parse(await readFile(this.pathOf(bucketKey), 'utf8')) as { bucketName: string })
        .bucketName;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private pathOf(bucketKey: string): string {
    return join(this.folder, `${createHash('sha256').update(bucketKey).digest('hex').slice(0, 32)}.json`);
  }
}

/** An ingest tap's local store, under the stage folder. */
export function folderIngestStore(stageRoot: string, tap: string): IngestTapStore {
  return {
    inbox: new FolderInbox(join(stageRoot, 'inbox', tap)),
    buckets: new FolderBuckets(join(stageRoot, 'inbox-buckets', tap)),
  };
}
