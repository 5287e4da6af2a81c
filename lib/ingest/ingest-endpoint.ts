/**
 * The Initial State Events API, served by Tributary (shared/reference/ingest/initial-state-events.md):
 * `GET /api/versions`, `POST /api/buckets`, `POST /api/events` and the query-string forms, under any
 * base path. Framework-free: the local HTTP server and the Lambda function URL adapt their requests to
 * `IngestRequest`. A 204 is answered only after the events are durable in the tap's inbox; a request
 * that is refused stores nothing.
 */
import { parseJsonExactly, stringifyExact } from '../protocol/exact-json.ts';
import { bucketKeyProblem, bucketNameProblem, MAX_BODY_BYTES } from '../push/event-rules.ts';
import { acceptEvents, acceptQueryEvents, type EventsParse } from './accepted-event.ts';
import { type AccessKeyStore, checkAccessKey, type IngestKey } from './access-keys.ts';
import type { IngestTapStore } from './event-inbox.ts';
import { RateLimiter } from './rate-limiter.ts';

export interface IngestRequest {
  readonly method: string;
  /** The path without the query, e.g. `/api/events`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  /** The adapter stopped reading past the limit: the body is incomplete and must be refused. */
  readonly bodyTooLarge?: boolean;
}

export interface IngestResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface IngestEndpointOptions {
  readonly keys: readonly AccessKeyStore[];
  /** The store of each ingest tap this endpoint serves. */
  readonly storeOf: (tap: string) => IngestTapStore | undefined;
  /** Requests per access key per 10 s. @default 300 */
  readonly requestsPer10s?: number;
  readonly now?: () => number;
  /** One line per refused request (never the key). */
  readonly log?: (line: string) => void;
}

export const API_VERSIONS = ['0.0.1', '0.0.2', '0.0.3', '0.0.4'];

export type IngestEndpoint = (request: IngestRequest) => Promise<IngestResponse>;

export function createIngestEndpoint(options: IngestEndpointOptions): IngestEndpoint {
  const limiter = new RateLimiter(options.requestsPer10s ?? 300);
  const now = options.now ?? Date.now;
  const bucketNames = new Map<string, string>(); // `${tap}\u0000${bucketKey}` → name, known to exist

  const route = (path: string): string | undefined => /\/api\/(versions|buckets|events)\/?$/.exec(path)?.[1];

  return async (request) => {
    const name = route(request.path);
    if (name === undefined)
      return json(404, { message: `no such route ${request.path}; try POST /api/events` });
    if (name === 'versions') {
      if (request.method !== 'GET') return methodNotAllowed('GET');
      return json(200, API_VERSIONS);
    }
    if (name === 'buckets' && request.method !== 'POST') return methodNotAllowed('POST');
    if (name === 'events' && request.method !== 'POST' && request.method !== 'GET')
      return methodNotAllowed('GET, POST');

    const presented = request.headers['x-is-accesskey'] ?? request.query.get('accessKey') ?? '';
    const check = await checkAccessKey(options.keys, presented);
    if (check.status === 'unknown') {
      options.log?.(
        `${request.method} ${request.path}: 401, ${presented === '' ? 'no access key' : 'unknown access key'}`,
      );
      return json(401, {
        message: 'unauthorized access_key: send X-IS-AccessKey with a key from trib ingest keys create',
      });
    }
    if (check.status === 'revoked') {
      options.log?.(`${request.method} ${request.path}: 403, revoked key ${check.key.id}`);
      return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'ACCESS_DENIED_KEY' };
    }
    const store = options.storeOf(check.key.tap);
    if (store === undefined) {
      options.log?.(
        `${request.method} ${request.path}: 403, key ${check.key.id} is for tap ${check.key.tap}, not served here`,
      );
      return { status: 403, headers: { 'content-type': 'text/plain' }, body: 'ACCESS_DENIED_KEY' };
    }
    if (request.bodyTooLarge === true || request.body.length > MAX_BODY_BYTES)
      return json(413, {
        message: `the body is over ${MAX_BODY_BYTES} bytes; send fewer events per request`,
      });

    if (name === 'buckets') return createBucket(request, check.key, store);

    const rate = limiter.take(check.key.id, now());
    const rateHeaders = {
      'x-ratelimit-limit': String(rate.limit),
      'x-ratelimit-remaining': String(rate.remaining),
      'x-ratelimit-reset': String(rate.reset),
    };
    if (!rate.allowed)
      return json(
        429,
        { message: `too many requests: ${rate.limit} per 10 s per access key` },
        {
          ...rateHeaders,
          'retry-after': String(rate.retryAfter),
        },
      );
    const response = await acceptAndStore(request, check.key, store);
    return { ...response, headers: { ...response.headers, ...rateHeaders } };
  };

  async function createBucket(
    request: IngestRequest,
    key: IngestKey,
    store: IngestTapStore,
  ): Promise<IngestResponse> {
    const body = request.body.length === 0 ? {} : parseBody(request.body);
    if (body instanceof Error) return json(400, { message: body.message });
    const fields = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<
      string,
      unknown
    >;
    const bucketKey = fields.bucketKey ?? request.query.get('bucketKey') ?? undefined;
    const bucketName = fields.bucketName ?? request.query.get('bucketName') ?? bucketKey;
    const keyProblem = bucketKeyProblem(bucketKey);
    if (keyProblem !== undefined) return json(400, { message: `bucketKey: ${keyProblem}` });
    const nameProblem = bucketNameProblem(bucketName);
    if (nameProblem !== undefined) return json(400, { message: `bucketName: ${nameProblem}` });
    const outcome = await store.buckets.create(bucketKey as string, bucketName as string);
    bucketNames.delete(`${key.tap}\u0000${bucketKey as string}`);
    return outcome === 'created'
      ? json(201, { bucketKey, bucketName })
      : { status: 204, headers: {}, body: '' };
  }

  async function acceptAndStore(
    request: IngestRequest,
    key: IngestKey,
    store: IngestTapStore,
  ): Promise<IngestResponse> {
    const bucketKey = request.headers['x-is-bucketkey'] ?? request.query.get('bucketKey') ?? undefined;
    const keyProblem = bucketKeyProblem(bucketKey);
    if (keyProblem !== undefined)
      return json(400, {
        message: `bucket key (X-IS-BucketKey header or bucketKey parameter): ${keyProblem}`,
      });
    const receivedAt = now();
    const bucketName = await bucketNameOf(key.tap, bucketKey as string, store);
    const context = { tap: key.tap, bucketKey: bucketKey as string, bucketName, receivedAt };
    let parsed: EventsParse;
    const pairs = [...request.query.entries()].filter(
      ([name]) => name !== 'accessKey' && name !== 'bucketKey',
    );
    if (request.method === 'GET' || (request.body.length === 0 && pairs.length > 0))
      parsed = acceptQueryEvents(pairs, context);
    else {
      const body = parseBody(request.body);
      if (body instanceof Error) return json(400, { message: body.message });
      parsed = acceptEvents(body, context);
    }
    if (!parsed.ok) return json(400, { message: parsed.problem });
    await store.inbox.append(
      parsed.events.map((event) => stringifyExact(event)),
      receivedAt,
    );
    return { status: 204, headers: {}, body: '' };
  }

  /** Events for a bucket never created create it, named by its key, as the devices' libraries expect. */
  async function bucketNameOf(tap: string, bucketKey: string, store: IngestTapStore): Promise<string> {
    const cacheKey = `${tap}\u0000${bucketKey}`;
    const cached = bucketNames.get(cacheKey);
    if (cached !== undefined) return cached;
    let name = await store.buckets.nameOf(bucketKey);
    if (name === undefined) {
      await store.buckets.create(bucketKey, bucketKey);
      name = (await store.buckets.nameOf(bucketKey)) ?? bucketKey;
    }
    if (bucketNames.size > 10_000) bucketNames.clear();
    bucketNames.set(cacheKey, name);
    return name;
  }
}

function parseBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return parseJsonExactly(text);
  } catch (error) {
    return new Error(
      `the body is not JSON (${(error as Error).message}); send an event object or an array of them`,
    );
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): IngestResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function methodNotAllowed(allow: string): IngestResponse {
  return json(405, { message: `method not allowed; use ${allow}` }, { allow });
}
