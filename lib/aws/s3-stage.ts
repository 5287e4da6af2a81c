/**
 * The stage in AWS: chunks as S3 objects, `Content-Encoding: gzip`, server-side encrypted, with the
 * chunk's metadata on the object. Large chunks go up in parts (lib-storage); a failed upload leaves
 * no object, so a reader never sees half a chunk.
 */

import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NotFound,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type ChunkMetadata, formatPrevious, parsePrevious } from '../chunks/chunk-metadata.ts';
import { ChunkNotFoundError, type Stage } from '../stage/stage.ts';

export interface S3StageOptions {
  /** KMS key for SSE-KMS; without one, S3-managed keys (SSE-S3). */
  readonly kmsKeyId?: string;
  /** Chunks at least this big are uploaded in parts. @default 16 MiB */
  readonly multipartThreshold?: number;
}

/** The tag the persister puts on a chunk once it is loaded; the stage bucket expires only tagged chunks. */
export const LOADED_TAG = 'tributary-loaded';

export class S3Stage implements Stage {
  readonly description: string;

  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly options: S3StageOptions = {},
  ) {
    this.description = `s3://${bucket}`;
  }

  async put(key: string, gzipBody: Buffer, metadata: ChunkMetadata): Promise<void> {
    const params = {
      Bucket: this.bucket,
      Key: key,
      Body: gzipBody,
      ContentType: 'application/x-ndjson',
      ContentEncoding: 'gzip',
      Metadata: toObjectMetadata(metadata),
      ...(this.options.kmsKeyId === undefined
        ? { ServerSideEncryption: 'AES256' as const }
        : { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.options.kmsKeyId }),
    };
    if (gzipBody.length >= (this.options.multipartThreshold ?? 16 * 1024 * 1024)) {
      await new Upload({ client: this.client, params, leavePartsOnError: false }).done();
    } else {
      await this.client.send(new PutObjectCommand(params));
    }
  }

  async open(key: string): Promise<Readable> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return object.Body as Readable;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey')
        throw new ChunkNotFoundError(`no chunk at ${this.uriOf(key)}`, { cause: error });
      throw error;
    }
  }

  async metadata(key: string): Promise<ChunkMetadata | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return fromObjectMetadata(head.Metadata ?? {});
    } catch (error) {
      if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return undefined;
      throw error;
    }
  }

  async markLoaded(key: string): Promise<void> {
    await this.client.send(
      new PutObjectTaggingCommand({
        Bucket: this.bucket,
        Key: key,
        Tagging: { TagSet: [{ Key: LOADED_TAG, Value: 'true' }] },
      }),
    );
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key?.endsWith('.jsonl.gz')) keys.push(object.Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}

/** S3 user metadata is string to string; keys come back lower-cased. */
export function toObjectMetadata(metadata: ChunkMetadata): Record<string, string> {
  return {
    tap: metadata.tap,
    run: metadata.run,
    seq: String(metadata.seq),
    records: String(metadata.records),
    streams: metadata.streams.join(','),
    previous: formatPrevious(metadata.previous),
    ...(metadata.sha256 === undefined ? {} : { sha256: metadata.sha256 }),
    ...(metadata.bytes === undefined ? {} : { bytes: String(metadata.bytes) }),
  };
}

export function fromObjectMetadata(object: Record<string, string>): ChunkMetadata | undefined {
  if (object.tap === undefined || object.run === undefined || object.seq === undefined) return undefined;
  return {
    tap: object.tap,
    run: object.run,
    seq: Number(object.seq),
    records: Number(object.records ?? 0),
    streams: object.streams ? object.streams.split(',') : [],
    previous: parsePrevious(object.previous, `chunk ${object.tap}/${object.run}/${object.seq}`),
    ...(object.sha256 === undefined ? {} : { sha256: object.sha256 }),
    ...(object.bytes === undefined ? {} : { bytes: Number(object.bytes) }),
  };
}

export { parseS3Uri } from './s3-uri.ts';
