/**
 * Ingest access keys and buckets in the state table, beside the taps' items (a `#` in the partition
 * key keeps them apart: no tap name has one). A key item is `ingest-key#<sha256>`; the plain key is
 * never stored. A bucket item is `ingest-bucket#<tap>#<hash of its key>`, created with a condition so
 * that the first request gets 201 and every other 204, however many functions answer at once.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type IngestKey,
  type ManagedAccessKeys,
  mintAccessKey,
  type RevokeResult,
} from '../ingest/access-keys.ts';
import type { BucketRegistry } from '../ingest/event-inbox.ts';

export const KEY_ITEM_PREFIX = 'ingest-key#';
export const BUCKET_ITEM_PREFIX = 'ingest-bucket#';

export class DynamoAccessKeys implements ManagedAccessKeys {
  private readonly documents: DynamoDBDocumentClient;
  readonly description: string;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.description = `DynamoDB table ${table}`;
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async findByHash(hash: string): Promise<IngestKey | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.table,
        Key: { tap: `${KEY_ITEM_PREFIX}${hash}` },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : (Item.key as IngestKey);
  }

  async create(tap: string, label?: string): Promise<{ readonly plain: string; readonly key: IngestKey }> {
    const { plain, key } = mintAccessKey(tap, label);
    await this.documents.send(
      new PutCommand({
        TableName: this.table,
        Item: { tap: `${KEY_ITEM_PREFIX}${key.hash}`, key },
        ConditionExpression: 'attribute_not_exists(tap)',
      }),
    );
    return { plain, key };
  }

  async list(): Promise<IngestKey[]> {
    const keys: IngestKey[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(tap, :prefix)',
          ExpressionAttributeValues: { ':prefix': KEY_ITEM_PREFIX },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) keys.push(item.key as IngestKey);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(id: string): Promise<RevokeResult> {
    const key = (await this.list()).find((candidate) => candidate.id === id);
    if (key === undefined) return { status: 'not-found' };
    if (key.revokedAt !== undefined) return { status: 'already-revoked', key };
    const revokedAt = new Date().toISOString();
    await this.documents.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap: `${KEY_ITEM_PREFIX}${key.hash}` },
        UpdateExpression: 'SET #key.revokedAt = :at',
        ExpressionAttributeNames: { '#key': 'key' },
        ExpressionAttributeValues: { ':at': revokedAt },
      }),
    );
    return { status: 'revoked', key: { ...key, revokedAt } };
  }
}

export function bucketItemPrefix(tap: string): string {
  return `${BUCKET_ITEM_PREFIX}${tap}#`;
}

export class DynamoBuckets implements BucketRegistry {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly tap: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async create(bucketKey: string, bucketName: string): Promise<'created' | 'exists'> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: { tap: this.itemKey(bucketKey), bucketKey, bucketName, createdAt: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(tap)',
        }),
      );
      return 'created';
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === 'ConditionalCheckFailedException'
      )
        return 'exists';
      throw error;
    }
  }

  async nameOf(bucketKey: string): Promise<string | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { tap: this.itemKey(bucketKey) } }),
    );
    return Item === undefined ? undefined : String(Item.bucketName);
  }

  private itemKey(bucketKey: string): string {
    return `${bucketItemPrefix(this.tap)}${createHash('sha256').update(bucketKey).digest('hex').slice(0, 32)}`;
  }
}
