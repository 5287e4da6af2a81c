/**
 * Per-tap state in DynamoDB, one item per tap. Every move is a conditional write: `staged` and
 * `committed` only move forward (positions are `run/seq` strings that sort in (run, seq) order), and
 * the lease is taken only when free, expired, ours, or held by a known-dead owner. A bookmark too big
 * for an item (they may reach 1 MB; an item holds 400 KB) is written to S3 and the item keeps its key.
 */

import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { BookmarkAt, LastRun, StateStore, TapState } from '../state/state-store.ts';

/** Bookmarks larger than this (serialised) go to S3. */
const INLINE_BOOKMARK_BYTES = 150 * 1024;

export interface SpillTarget {
  readonly s3: S3Client;
  readonly bucket: string;
  /** SSE-KMS with this key (the stack's key under `-c encryption=kms`); otherwise SSE-S3. */
  readonly kmsKeyId?: string;
  /** @default 150 KiB */
  readonly inlineBookmarkBytes?: number;
}

interface StoredBookmark {
  run: string;
  seq: number;
  at: string;
  bookmark?: string;
  bookmark_s3_key?: string;
}

export class DynamoStateStore implements StateStore {
  readonly description: string;
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly table: string,
    private readonly spill?: SpillTarget,
    private readonly clock: () => number = Date.now,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.description = `dynamodb:${table}`;
  }

  async read(tap: string): Promise<TapState> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { tap }, ConsistentRead: true }),
    );
    if (Item === undefined) return { tap };
    const [staged, committed] = await Promise.all([this.load(Item.staged), this.load(Item.committed)]);
    return {
      tap,
      ...(staged === undefined ? {} : { staged }),
      ...(committed === undefined ? {} : { committed }),
      ...(typeof Item.lease_owner === 'string'
        ? { lease: { owner: Item.lease_owner, expiresAt: Number(Item.lease_expires) } }
        : {}),
      ...(Item.last_run === undefined ? {} : { lastRun: Item.last_run as LastRun }),
    };
  }

  markStaged(tap: string, at: BookmarkAt): Promise<boolean> {
    return this.moveForward(tap, 'staged', at);
  }

  markCommitted(tap: string, at: BookmarkAt): Promise<boolean> {
    return this.moveForward(tap, 'committed', at);
  }

  async acquireLease(tap: string, owner: string, ttlMs: number, takeOverFrom?: string): Promise<boolean> {
    const now = this.clock();
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        UpdateExpression: 'SET lease_owner = :owner, lease_expires = :expires',
        ConditionExpression:
          'attribute_not_exists(lease_owner) OR lease_expires <= :now OR lease_owner = :owner OR lease_owner = :previous',
        ExpressionAttributeValues: {
          ':owner': owner,
          ':expires': now + ttlMs,
          ':now': now,
          ':previous': takeOverFrom ?? owner,
        },
      }),
    );
  }

  async releaseLease(tap: string, owner: string): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        UpdateExpression: 'REMOVE lease_owner, lease_expires',
        ConditionExpression: 'lease_owner = :owner',
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  }

  async recordLastRun(tap: string, lastRun: LastRun): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        UpdateExpression: 'SET last_run = :run',
        ExpressionAttributeValues: { ':run': lastRun },
      }),
    );
  }

  async taps(): Promise<string[]> {
    const taps: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({ TableName: this.table, ProjectionExpression: 'tap', ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) taps.push(String(item.tap));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return taps.sort();
  }

  /**
   * A spilled bookmark goes to a new object key first; the item then points at it only if the
   * conditional write succeeds. The object the item pointed at before is removed after the write, and
   * the new one is removed if the write was refused, so a refused write never touches what a reader
   * of the current item would fetch.
   */
  private async moveForward(tap: string, field: 'staged' | 'committed', at: BookmarkAt): Promise<boolean> {
    const position = positionKey(at);
    const stored: StoredBookmark = { run: at.run, seq: at.seq, at: at.at };
    const text = JSON.stringify(at.bookmark ?? null);
    if (Buffer.byteLength(text) > (this.spill?.inlineBookmarkBytes ?? INLINE_BOOKMARK_BYTES)) {
      if (this.spill === undefined)
        throw new Error(
          `tap ${tap}: a ${Buffer.byteLength(text)}-byte bookmark needs an S3 bucket to spill to`,
        );
      stored.bookmark_s3_key = `state/${tap}/${field}/${position.replace('/', '-')}-${randomBytes(4).toString('hex')}.json`;
      await this.spill.s3.send(
        new PutObjectCommand({
          Bucket: this.spill.bucket,
          Key: stored.bookmark_s3_key,
          Body: text,
          ContentType: 'application/json',
          ...(this.spill.kmsKeyId === undefined
            ? { ServerSideEncryption: 'AES256' as const }
            : { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.spill.kmsKeyId }),
        }),
      );
    } else {
      stored.bookmark = text;
    }
    let previous: StoredBookmark | undefined;
    const written = await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        UpdateExpression: `SET ${field} = :stored, ${field}_position = :position`,
        ConditionExpression: `attribute_not_exists(${field}_position) OR ${field}_position < :position`,
        ExpressionAttributeValues: { ':stored': stored, ':position': position },
        ReturnValues: 'UPDATED_OLD',
      }),
      (attributes) => {
        previous = attributes?.[field] as StoredBookmark | undefined;
      },
    );
    const orphan = written ? previous?.bookmark_s3_key : stored.bookmark_s3_key;
    if (orphan !== undefined && this.spill !== undefined)
      await this.spill.s3.send(new DeleteObjectCommand({ Bucket: this.spill.bucket, Key: orphan }));
    return written;
  }

  private async load(stored: StoredBookmark | undefined): Promise<BookmarkAt | undefined> {
    if (stored === undefined) return undefined;
    let text = stored.bookmark;
    if (stored.bookmark_s3_key !== undefined && this.spill !== undefined) {
      const object = await this.spill.s3.send(
        new GetObjectCommand({ Bucket: this.spill.bucket, Key: stored.bookmark_s3_key }),
      );
      text = await object.Body?.transformToString();
    }
    const bookmark = text === undefined ? undefined : JSON.parse(text);
    return {
      run: stored.run,
      seq: Number(stored.seq),
      at: stored.at,
      bookmark: bookmark === null ? undefined : bookmark,
    };
  }

  /** Runs a conditional write; false when its condition did not hold. */
  private async conditional(
    command: UpdateCommand,
    onWritten?: (old: Record<string, unknown> | undefined) => void,
  ): Promise<boolean> {
    try {
      const output = await this.documents.send(command);
      onWritten?.(output.Attributes);
      return true;
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as { name?: string }).name === 'ConditionalCheckFailedException'
      )
        return false;
      throw error;
    }
  }
}

/** `run/seq` with seq zero-padded: compares as strings in (run, seq) order, as DynamoDB conditions do. */
export function positionKey(position: { run: string; seq: number }): string {
  return `${position.run}/${String(position.seq).padStart(9, '0')}`;
}
