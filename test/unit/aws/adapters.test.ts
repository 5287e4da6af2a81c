/** The AWS adapters' requests and error handling, with the SDK clients mocked (aws-sdk-client-mock). */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DynamoStateStore, positionKey } from '../../../lib/aws/dynamo-state-store.ts';
import { fromObjectMetadata, parseS3Uri, S3Stage, toObjectMetadata } from '../../../lib/aws/s3-stage.ts';
import { ChunkMessageError, parseChunkMessage, SqsChunkQueue } from '../../../lib/aws/sqs-chunk-queue.ts';

const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
afterEach(() => {
  s3.reset();
  sqs.reset();
  dynamo.reset();
});

const metadata = {
  tap: 'github-acme',
  run: '20260101T000000000Z-abcdef',
  seq: 0,
  records: 12,
  streams: ['commits', 'issues'],
  previous: { run: '20251231T000000000Z-000000', seq: 4 },
};

describe('S3Stage', () => {
  it('puts a gzip chunk, encrypted, with its metadata; SSE-KMS when given a key', async () => {
    s3.on(PutObjectCommand).resolves({});
    await new S3Stage(new S3Client({}), 'stage-bucket').put(
      'stage/t/r/000000.jsonl.gz',
      Buffer.from('x'),
      metadata,
    );
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'stage-bucket',
      Key: 'stage/t/r/000000.jsonl.gz',
      ContentEncoding: 'gzip',
      ServerSideEncryption: 'AES256',
      Metadata: {
        tap: 'github-acme',
        seq: '0',
        records: '12',
        streams: 'commits,issues',
        previous: '20251231T000000000Z-000000/4',
      },
    });
    await new S3Stage(new S3Client({}), 'stage-bucket', { kmsKeyId: 'key-1' }).put(
      'k.jsonl.gz',
      Buffer.from('x'),
      metadata,
    );
    expect(s3.commandCalls(PutObjectCommand)[1]?.args[0].input).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'key-1',
    });
  });

  it('round-trips metadata, lists only chunks in order, and names a missing chunk', async () => {
    expect(fromObjectMetadata(toObjectMetadata(metadata))).toEqual(metadata);
    s3.on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: 'stage/t/r/000001.jsonl.gz' }, { Key: 'stage/t/r/notes.txt' }],
        IsTruncated: true,
        NextContinuationToken: 'n',
      })
      .resolvesOnce({ Contents: [{ Key: 'stage/t/r/000000.jsonl.gz' }] });
    const stage = new S3Stage(new S3Client({}), 'b');
    expect(await stage.list('stage/t/')).toEqual(['stage/t/r/000000.jsonl.gz', 'stage/t/r/000001.jsonl.gz']);
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('missing'), { name: 'NoSuchKey' }));
    await expect(stage.open('stage/t/r/000009.jsonl.gz')).rejects.toThrow(
      'no chunk at s3://b/stage/t/r/000009.jsonl.gz',
    );
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('missing'), { name: 'NotFound' }));
    expect(await stage.metadata('x')).toBeUndefined();
    expect(parseS3Uri('s3://b/stage/t/r/000000.jsonl.gz')).toEqual({
      bucket: 'b',
      key: 'stage/t/r/000000.jsonl.gz',
    });
    expect(() => parseS3Uri('/tmp/x')).toThrow(/is not an s3:\/\/ URI/);
  });
});

describe('SqsChunkQueue', () => {
  it('sends to the tap group with run:seq as the deduplication id, and the chunk URI in the body', async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new SqsChunkQueue(new SQSClient({}), 'https://q', 's3://b/').send({
      ...metadata,
      key: 'stage/github-acme/r/000000.jsonl.gz',
    });
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      QueueUrl: 'https://q',
      MessageGroupId: 'github-acme',
      MessageDeduplicationId: '20260101T000000000Z-abcdef:0',
    });
    expect(JSON.parse(input?.MessageBody ?? '')).toMatchObject({
      uri: 's3://b/stage/github-acme/r/000000.jsonl.gz',
      seq: 0,
      records: 12,
    });
    expect(input?.MessageBody).not.toContain('"record"');
  });

  it('refuses a message body that names no chunk', () => {
    expect(() => parseChunkMessage('{"tap":"t"}')).toThrow(ChunkMessageError);
    expect(() => parseChunkMessage('nope')).toThrow(/queue message is not JSON/);
  });
});

describe('DynamoStateStore', () => {
  const store = (spill?: boolean) =>
    new DynamoStateStore(
      new DynamoDBClient({ region: 'us-east-1' }),
      'state',
      spill ? { s3: new S3Client({}), bucket: 'b' } : undefined,
      () => 1_000,
    );

  it('moves a bookmark forward with a condition on its position, and says why a refused write was refused', async () => {
    dynamo
      .on(UpdateCommand)
      .resolvesOnce({})
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    dynamo
      .on(GetCommand)
      .resolves({ Item: { tap: 't', committed: { run: 'r2', seq: 3, at: 'now', bookmark: '{}' } } });
    expect(await store().markCommitted('t', { run: 'r2', seq: 3, bookmark: { a: 1 }, at: 'now' })).toEqual({
      ok: true,
    });
    expect(await store().markCommitted('t', { run: 'r1', seq: 9, bookmark: {}, at: 'now' })).toEqual({
      ok: false,
      reason: 'chunk r1/9 is not after the committed chunk r2/3',
    });
    const input = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      '(attribute_not_exists(committed_position) OR committed_position < :position)',
    );
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':position': 'r2/000000003',
      ':stored': { bookmark: '{"a":1}' },
    });
    expect(positionKey({ run: 'r1', seq: 10 }) > positionKey({ run: 'r1', seq: 9 })).toBe(true);
  });

  it('a spilled bookmark goes to a new key: a refused write removes it, a successful one removes the old', async () => {
    const big = { bookmarks: { blob: 'x'.repeat(200_000) } };
    s3.on(PutObjectCommand).resolves({});
    s3.on(DeleteObjectCommand).resolves({});
    dynamo
      .on(UpdateCommand)
      .rejectsOnce(Object.assign(new Error('no'), { name: 'ConditionalCheckFailedException' }));
    dynamo.on(GetCommand).resolves({
      Item: { tap: 't', lease_holder: 'h', lease_token: 7, lease_run: 'r', lease_expires: 9e12 },
    });
    expect((await store(true).markStaged('t', 7, { run: 'r', seq: 1, bookmark: big, at: 'now' })).ok).toBe(
      false,
    );
    const refusedKey = s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key;
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input.Key)).toEqual([refusedKey]);
    dynamo.on(UpdateCommand).resolves({
      Attributes: { staged: { run: 'r', seq: 0, at: 'then', bookmark_s3_key: 'state/t/staged/old.json' } },
    });
    expect(await store(true).markStaged('t', 7, { run: 'r', seq: 2, bookmark: big, at: 'now' })).toEqual({
      ok: true,
    });
    const newKey = s3.commandCalls(PutObjectCommand)[1]?.args[0].input.Key;
    expect(newKey).not.toBe(refusedKey);
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input.Key)).toEqual([
      refusedKey,
      'state/t/staged/old.json',
    ]);
  });

  it('spills a bookmark too big for an item to S3 and reads it back', async () => {
    s3.on(PutObjectCommand).resolves({});
    dynamo.on(UpdateCommand).resolves({});
    const big = { bookmarks: { blob: 'x'.repeat(200_000) } };
    await store(true).markStaged('t', 7, { run: 'r', seq: 1, bookmark: big, at: 'now' });
    const stored =
      dynamo.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':stored'];
    expect(stored).toMatchObject({
      bookmark_s3_key: expect.stringMatching(/^state\/t\/staged\/r-000000001-[0-9a-f]{8}\.json$/),
    });
    expect(stored).not.toHaveProperty('bookmark');
    dynamo.on(GetCommand).resolves({ Item: { tap: 't', staged: stored } });
    s3.on(GetObjectCommand).resolves({
      Body: { transformToString: async () => JSON.stringify(big) } as never,
    });
    expect((await store(true).read('t')).staged?.bookmark).toEqual(big);
    await expect(
      store(false).markStaged('t', 7, { run: 'r', seq: 2, bookmark: big, at: 'now' }),
    ).rejects.toThrow(/needs an S3 bucket to spill to/);
  });
});

describe('secrets', () => {
  const text = `destination: { type: postgres, url: "\${secret:prod/pg-url}" }
taps:
  gh:
    streamer: github
    config: { access_token: "\${secret:prod/github}", repositories: [a/b], start_date: "2024-01-01T00:00:00Z" }
  pd:
    streamer: pagerduty
    config: { api_token: "\${secret:prod/pagerduty}", start_date: "2024-01-01T00:00:00Z" }
`;

  it('each function reads only its own secrets: a tap its section, the persister the destination', async () => {
    const { secretsFor } = await import('../../../lib/aws/function-secrets.ts');
    expect(secretsFor(text, { kind: 'streamer', tap: 'gh' })).toEqual({
      needed: ['prod/github'],
      placeholders: { 'prod/pg-url': '${secret:prod/pg-url}', 'prod/pagerduty': '${secret:prod/pagerduty}' },
    });
    expect(secretsFor(text, { kind: 'persister' }).needed).toEqual(['prod/pg-url']);
  });

  it('reads secrets from Secrets Manager once per max age, and names the one it cannot read', async () => {
    const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const { SecretsCache } = await import('../../../lib/aws/secrets.ts');
    const { parsePipeline } = await import('../../../lib/pipeline/load-pipeline.ts');
    const { secretsFor } = await import('../../../lib/aws/function-secrets.ts');
    const secrets = mockClient(SecretsManagerClient);
    secrets
      .on(GetSecretValueCommand, { SecretId: 'prod/github' })
      .resolves({ SecretString: 'ghp_fromSecretsManager' });
    secrets
      .on(GetSecretValueCommand, { SecretId: 'missing' })
      .rejects(Object.assign(new Error('x'), { name: 'ResourceNotFoundException' }));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const cache = new SecretsCache(new SecretsManagerClient({ region: 'us-east-1' }), 60);
      const split = secretsFor(text, { kind: 'streamer', tap: 'gh' });
      const values = await cache.read(split.needed);
      expect(
        parsePipeline(text, 'pipeline.yaml', { secrets: { ...split.placeholders, ...values } }).taps.get('gh')
          ?.config.access_token,
      ).toBe('ghp_fromSecretsManager');
      await cache.read(split.needed);
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
      vi.setSystemTime(Date.now() + 61_000);
      await cache.read(split.needed);
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
      await expect(cache.read(['missing'])).rejects.toThrow(
        /secret missing: ResourceNotFoundException: cannot be read from Secrets Manager/,
      );
    } finally {
      vi.useRealTimers();
      secrets.restore();
    }
  });
});
