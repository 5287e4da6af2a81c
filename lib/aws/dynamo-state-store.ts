/**
 * Per-tap state in DynamoDB, one item per tap, with the rules of lib/state/state-transitions.ts
 * written as condition expressions: a lease is granted only when free or expired (a new run, which
 * also takes the next run number) or to the continuation holding the current token; `staged` moves
 * only forward and only for the lease's token; `committed` moves only forward. A bookmark too big for
 * an item (they may reach 1 MB; an item holds 400 KB) is written to S3 and the item keeps its key.
 */
import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChunkPosition } from '../chunks/chunk-position.ts';
import { parseJsonExactly, stringifyExact } from '../protocol/exact-json.ts';
import type {
  BookmarkAt,
  ContinuationRequest,
  DroppedChunks,
  LastRun,
  LeaseGrant,
  LoadGuards,
  NewRunRequest,
  RunLease,
  SkippedChunk,
  StateStore,
  StateWrite,
  TapState,
} from '../state/state-store.ts';
import * as rules from '../state/state-transitions.ts';

/** Bookmarks larger than this (serialised) go to S3. */
const INLINE_BOOKMARK_BYTES = 150 * 1024;
/** A new run reads the item, then writes on condition that nothing changed; this many tries. */
const BEGIN_ATTEMPTS = 5;

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
    if (Item === undefined) return rules.normaliseState(tap, undefined);
    const [staged, committed] = await Promise.all([this.load(Item.staged), this.load(Item.committed)]);
    return {
      tap,
      runs: Number(Item.runs ?? 0),
      fence: Number(Item.fence ?? 0),
      ...(staged === undefined ? {} : { staged }),
      ...(committed === undefined ? {} : { committed }),
      ...(typeof Item.lease_holder === 'string'
        ? {
            lease: {
              holder: Item.lease_holder,
              token: Number(Item.lease_token),
              run: String(Item.lease_run),
              expiresAt: Number(Item.lease_expires),
            },
          }
        : {}),
      ...(Item.last_run === undefined ? {} : { lastRun: Item.last_run as LastRun }),
      ...(Array.isArray(Item.dropped) ? { dropped: Item.dropped as DroppedChunks[] } : {}),
      ...(Array.isArray(Item.skipped) ? { skipped: Item.skipped as SkippedChunk[] } : {}),
    };
  }

  async beginRun(tap: string, request: NewRunRequest): Promise<LeaseGrant> {
    for (let attempt = 1; ; attempt += 1) {
      const state = await this.read(tap);
      const now = this.clock();
      const decided = rules.beginRun(state, request, now);
      if (!decided.ok) return { ok: false, reason: decided.reason, state };
      const lease = decided.value;
      const written = await this.conditional(
        new UpdateCommand({
          TableName: this.table,
          Key: { tap },
          UpdateExpression:
            'SET runs = :runs, fence = :token, lease_holder = :holder, lease_token = :token, lease_run = :run, lease_expires = :expires',
          // Nothing changed since the read (so the run number and token are ours alone), and the lease is free.
          ConditionExpression:
            '(attribute_not_exists(runs) OR runs = :previousRuns) AND (attribute_not_exists(fence) OR fence = :previousFence) AND (attribute_not_exists(lease_token) OR lease_expires <= :now OR lease_holder = :takeOver)',
          ExpressionAttributeValues: {
            ':runs': state.runs + 1,
            ':previousRuns': state.runs,
            ':previousFence': state.fence,
            ':token': lease.token,
            ':holder': lease.holder,
            ':run': lease.run,
            ':expires': lease.expiresAt,
            ':now': now,
            ':takeOver': request.takeOverFrom ?? '\u0000none',
          },
        }),
      );
      if (written) return { ok: true, lease, state: decided.state };
      if (attempt >= BEGIN_ATTEMPTS) {
        const latest = await this.read(tap);
        return {
          ok: false,
          reason: `tap ${tap}: the state item kept changing while a run began`,
          state: latest,
        };
      }
    }
  }

  async continueRun(tap: string, request: ContinuationRequest): Promise<LeaseGrant> {
    const now = this.clock();
    let updated: Record<string, unknown> | undefined;
    const written = await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        // Both operands read the item before the update: the lease takes the next token.
        UpdateExpression:
          'SET fence = fence + :one, lease_token = fence + :one, lease_holder = :holder, lease_expires = :expires',
        ConditionExpression: 'lease_token = :token AND lease_run = :run',
        ExpressionAttributeValues: {
          ':one': 1,
          ':token': request.token,
          ':run': request.run,
          ':holder': request.holder,
          ':expires': now + request.ttlMs,
        },
        ReturnValues: 'ALL_NEW',
      }),
      (attributes) => {
        updated = attributes;
      },
    );
    const state = await this.read(tap);
    if (!written || updated === undefined) {
      const refused = rules.continueRun(state, request, now);
      return { ok: false, reason: refused.ok ? 'the lease changed while continuing' : refused.reason, state };
    }
    const lease: RunLease = {
      holder: request.holder,
      token: Number(updated.lease_token),
      run: request.run,
      expiresAt: now + request.ttlMs,
    };
    return { ok: true, lease, state };
  }

  renewLease(tap: string, token: number, ttlMs: number): Promise<StateWrite> {
    return this.fencedWrite(tap, token, 'SET lease_expires = :expires', { ':expires': this.clock() + ttlMs });
  }

  releaseLease(tap: string, token: number): Promise<StateWrite> {
    return this.fencedWrite(tap, token, 'REMOVE lease_holder, lease_token, lease_run, lease_expires', {});
  }

  async recordLastRun(tap: string, lastRun: LastRun, token?: number): Promise<StateWrite> {
    if (token !== undefined) return this.fencedWrite(tap, token, 'SET last_run = :run', { ':run': lastRun });
    await this.documents.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        UpdateExpression: 'SET last_run = :run',
        ExpressionAttributeValues: { ':run': lastRun },
      }),
    );
    return { ok: true };
  }

  async loadGuards(tap: string): Promise<LoadGuards> {
    // Only what the guards need: no bookmark is fetched (inline or spilled), so no S3 read either.
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.table,
        Key: { tap },
        ConsistentRead: true,
        ProjectionExpression: '#dropped, #committed.#run, #committed.#seq',
        ExpressionAttributeNames: {
          '#dropped': 'dropped',
          '#committed': 'committed',
          '#run': 'run',
          '#seq': 'seq',
        },
      }),
    );
    const committed = Item?.committed as { run?: unknown; seq?: unknown } | undefined;
    return {
      dropped: Array.isArray(Item?.dropped) ? (Item.dropped as DroppedChunks[]) : [],
      ...(typeof committed?.run === 'string' && committed.seq !== undefined
        ? { committed: { run: committed.run, seq: Number(committed.seq) } }
        : {}),
    };
  }

  async recordSkip(tap: string, skip: SkippedChunk): Promise<StateWrite> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        UpdateExpression: 'SET skipped = list_append(if_not_exists(skipped, :none), :skip)',
        ExpressionAttributeValues: { ':none': [], ':skip': [skip] },
      }),
    );
    return { ok: true };
  }

  markStaged(tap: string, token: number, at: BookmarkAt): Promise<StateWrite> {
    return this.moveForward(tap, 'staged', at, token);
  }

  markCommitted(tap: string, at: BookmarkAt): Promise<StateWrite> {
    return this.moveForward(tap, 'committed', at);
  }

  async taps(): Promise<string[]> {
    const taps: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({ TableName: this.table, ProjectionExpression: 'tap', ExclusiveStartKey: start }),
      );
      // Ingest keys and buckets share the table under names with a '#', which no tap name has.
      for (const item of page.Items ?? []) if (!String(item.tap).includes('#')) taps.push(String(item.tap));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return taps.sort();
  }

  private async fencedWrite(
    tap: string,
    token: number,
    update: string,
    values: Record<string, unknown>,
  ): Promise<StateWrite> {
    const written = await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        UpdateExpression: update,
        ConditionExpression: 'lease_token = :token',
        ExpressionAttributeValues: { ...values, ':token': token },
      }),
    );
    return written ? { ok: true } : this.refusal(tap, (state) => rules.releaseLease(state, token));
  }

  /** Why a conditional write was refused, in the words of the shared rules. */
  private async refusal(tap: string, rule: (state: TapState) => rules.Transition): Promise<StateWrite> {
    const outcome = rule(await this.read(tap));
    return { ok: false, reason: outcome.ok ? 'the state changed while it was written' : outcome.reason };
  }

  /**
   * A spilled bookmark goes to a new object key first; the item then points at it only if the
   * conditional write succeeds. The object the item pointed at before is removed after the write, and
   * the new one is removed if the write was refused, so a refused write never touches what a reader
   * of the current item would fetch.
   */
  private async moveForward(
    tap: string,
    field: 'staged' | 'committed',
    at: BookmarkAt,
    token?: number,
  ): Promise<StateWrite> {
    const position = positionKey(at);
    const stored = await this.stored(tap, field, at);
    let previous: StoredBookmark | undefined;
    const fenced = token === undefined ? '' : ' AND lease_token = :token';
    const written = await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        UpdateExpression: `SET ${field} = :stored, ${field}_position = :position`,
        ConditionExpression: `(attribute_not_exists(${field}_position) OR ${field}_position < :position)${fenced}`,
        ExpressionAttributeValues: {
          ':stored': stored,
          ':position': position,
          ...(token === undefined ? {} : { ':token': token }),
        },
        ReturnValues: 'UPDATED_OLD',
      }),
      (attributes) => {
        previous = attributes?.[field] as StoredBookmark | undefined;
      },
    );
    await this.removeSpilled(written ? previous : stored);
    if (written) return { ok: true };
    return this.refusal(tap, (state) =>
      field === 'staged' ? rules.markStaged(state, token ?? -1, at) : rules.markCommitted(state, at),
    );
  }

  /**
   * Removes a bookmark's S3 object, if it has one: the one the item no longer points at after a
   * write, or the new one a refused write left behind.
   */
  private async removeSpilled(stored: StoredBookmark | undefined): Promise<void> {
    const key = stored?.bookmark_s3_key;
    if (key !== undefined && this.spill !== undefined)
      await this.spill.s3.send(new DeleteObjectCommand({ Bucket: this.spill.bucket, Key: key }));
  }

  /** A bookmark as the item holds it: inline, or spilled to a new S3 object when it is large. */
  private async stored(tap: string, field: 'staged' | 'committed', at: BookmarkAt): Promise<StoredBookmark> {
    const position = positionKey(at);
    const stored: StoredBookmark = { run: at.run, seq: at.seq, at: at.at };
    const text = stringifyExact(at.bookmark ?? null);
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
    return stored;
  }

  async rewind(
    tap: string,
    token: number,
    expected: ChunkPosition | undefined,
    to: BookmarkAt | undefined,
  ): Promise<StateWrite> {
    const checked = rules.rewind(await this.read(tap), token, expected, to, this.clock());
    if (!checked.ok) return checked;
    const target =
      to === undefined
        ? undefined
        : { stored: await this.stored(tap, 'staged', to), position: positionKey(to) };
    const dropped = checked.state.dropped;
    const sets = [
      ...(target === undefined ? [] : ['staged = :stored', 'staged_position = :position']),
      ...(dropped === undefined ? [] : ['dropped = :dropped']),
    ];
    const values: Record<string, unknown> = {
      ':token': token,
      ...(target === undefined ? {} : { ':stored': target.stored, ':position': target.position }),
      ...(dropped === undefined ? {} : { ':dropped': dropped }),
      ...(expected === undefined ? {} : { ':expected': positionKey(expected) }),
    };
    let previous: StoredBookmark | undefined;
    const written = await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { tap },
        UpdateExpression:
          `${sets.length > 0 ? `SET ${sets.join(', ')}` : ''}${target === undefined ? ' REMOVE staged, staged_position' : ''}`.trim(),
        ConditionExpression: `lease_token = :token AND ${expected === undefined ? 'attribute_not_exists(staged_position)' : 'staged_position = :expected'}`,
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_OLD',
      }),
      (attributes) => {
        previous = attributes?.staged as StoredBookmark | undefined;
      },
    );
    await this.removeSpilled(written ? previous : target?.stored);
    return written ? { ok: true } : { ok: false, reason: 'the state changed while rewinding' };
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
    const bookmark = text === undefined ? undefined : parseJsonExactly(text);
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
    onWritten?: (attributes: Record<string, unknown> | undefined) => void,
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
