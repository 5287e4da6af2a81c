/**
 * Vitest global setup: local AWS emulators on random loopback ports — s3rver (S3), fauxqs (SQS) and
 * dynalite (DynamoDB) — used with the real SDK clients. Each test file creates its own bucket, queue
 * and table. s3rver accepts only the S3RVER/S3RVER credentials and path-style addressing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import S3rver from 's3rver';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoints: { s3: string; sqs: string; dynamodb: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const folder = await mkdtemp(join(tmpdir(), 'tributary-s3rver-'));
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: folder });
  const s3Address = await s3.run();
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  const sqs = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  project.provide('awsEndpoints', {
    s3: `http://127.0.0.1:${s3Address.port}`,
    sqs: `http://127.0.0.1:${sqs.port}`,
    dynamodb: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
  });
  return async () => {
    await sqs.stop();
    await s3.close();
    await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    await rm(folder, { recursive: true, force: true });
  };
}
