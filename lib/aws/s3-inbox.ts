/**
 * An ingest tap's inbox in S3: `inbox/<tap>/<received>-<uuid>.jsonl`, one object per accepted request,
 * server-side encrypted. The name is taken before the PUT starts, and a PUT can take up to the ingest
 * function's timeout to land, so the settle time is longer than that timeout (a minute).
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type EventInbox, type InboxEntry, inboxEntryName, inboxEntryOf } from '../ingest/event-inbox.ts';

/** Longer than the ingest function's timeout, so no PUT that took its name earlier is still landing. */
export const S3_INBOX_SETTLE_MS = 60_000;

export function inboxPrefix(tap: string): string {
  return `inbox/${tap}/`;
}

export class S3EventInbox implements EventInbox {
  readonly settleMs = S3_INBOX_SETTLE_MS;
  readonly description: string;
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    tap: string,
    private readonly kmsKeyId?: string,
  ) {
    this.prefix = inboxPrefix(tap);
    this.description = `s3://${bucket}/${this.prefix}`;
  }

  async append(lines: readonly string[], receivedAt: number): Promise<InboxEntry> {
    const name = inboxEntryName(receivedAt, randomUUID());
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `${this.prefix}${name}`,
        Body: `${lines.join('\n')}\n`,
        ContentType: 'application/x-ndjson',
        ...(this.kmsKeyId === undefined
          ? { ServerSideEncryption: 'AES256' as const }
          : { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.kmsKeyId }),
      }),
    );
    return { name, receivedAt };
  }

  async list(): Promise<InboxEntry[]> {
    const entries: InboxEntry[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const entry = inboxEntryOf((object.Key ?? '').slice(this.prefix.length));
        if (entry !== undefined) entries.push(entry);
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async read(name: string): Promise<string> {
    const object = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${name}` }),
    );
    return (await object.Body?.transformToString('utf8')) ?? '';
  }

  async remove(names: readonly string[]): Promise<void> {
    for (const name of names)
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${name}` }));
  }
}
