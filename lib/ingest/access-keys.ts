/**
 * Ingest access keys. Only a key's SHA-256 is ever stored; a presented key is hashed and the stored
 * hash compared in constant time. A key maps to one ingest tap; a revoked key is kept (so `list`
 * shows it) and answered with 403 ACCESS_DENIED_KEY, an unknown one with 401.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface IngestKey {
  /** A short public id (the first characters of the hash), for lists and logs; never the key. */
  readonly id: string;
  readonly hash: string;
  readonly tap: string;
  readonly createdAt: string;
  readonly label?: string;
  readonly revokedAt?: string;
}

/** Where keys are looked up: a file locally, the state table in AWS, the pipeline file's `ingest.keys`. */
export interface AccessKeyStore {
  findByHash(hash: string): Promise<IngestKey | undefined>;
}

export type RevokeResult =
  | { readonly status: 'revoked'; readonly key: IngestKey }
  | { readonly status: 'already-revoked'; readonly key: IngestKey }
  | { readonly status: 'not-found' };

/** A store `trib ingest keys` manages: a local file, or the deployed stack's state table. */
export interface ManagedAccessKeys extends AccessKeyStore {
  readonly description: string;
  /** Creates a key for `tap`; the plain key is returned once and never stored. */
  create(tap: string, label?: string): Promise<{ readonly plain: string; readonly key: IngestKey }>;
  list(): Promise<IngestKey[]>;
  revoke(id: string): Promise<RevokeResult>;
}

export type KeyCheck =
  | { readonly status: 'allowed'; readonly key: IngestKey }
  | { readonly status: 'revoked'; readonly key: IngestKey }
  | { readonly status: 'unknown' };

export function hashAccessKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function keyIdOf(hash: string): string {
  return hash.slice(0, 12);
}

/** A new key: 32 random bytes, prefixed so it is recognisable in a leaked-secret scan. */
export function newAccessKey(): string {
  return `trib_${randomBytes(32).toString('base64url')}`;
}

/** A new key and its stored form: the plain key is for the user, once; only the hash is kept. */
export function mintAccessKey(
  tap: string,
  label?: string,
): { readonly plain: string; readonly key: IngestKey } {
  const plain = newAccessKey();
  const hash = hashAccessKey(plain);
  return {
    plain,
    key: {
      id: keyIdOf(hash),
      hash,
      tap,
      createdAt: new Date().toISOString(),
      ...(label === undefined ? {} : { label }),
    },
  };
}

export async function checkAccessKey(
  stores: readonly AccessKeyStore[],
  presented: string,
): Promise<KeyCheck> {
  if (presented === '') return { status: 'unknown' };
  const hash = hashAccessKey(presented);
  for (const store of stores) {
    const key = await store.findByHash(hash);
    if (key === undefined) continue;
    // The lookup is by hash, which tells an attacker nothing; the comparison is constant-time anyway.
    if (!timingSafeEqual(Buffer.from(key.hash, 'hex'), Buffer.from(hash, 'hex'))) continue;
    return key.revokedAt === undefined ? { status: 'allowed', key } : { status: 'revoked', key };
  }
  return { status: 'unknown' };
}

/** The pipeline file's `ingest.keys` (local development): plain keys, hashed when the file is read. */
export class PipelineAccessKeys implements AccessKeyStore {
  private readonly keys: ReadonlyMap<string, IngestKey>;

  constructor(tap: string, plainKeys: readonly string[]) {
    this.keys = new Map(
      plainKeys.map((plain) => {
        const hash = hashAccessKey(plain);
        return [hash, { id: keyIdOf(hash), hash, tap, createdAt: '-', label: 'pipeline file' }];
      }),
    );
  }

  async findByHash(hash: string): Promise<IngestKey | undefined> {
    return this.keys.get(hash);
  }
}
