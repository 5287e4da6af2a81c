/**
 * `drift`: conversations, their messages and contacts, accounts and users from the Drift API. Drift
 * has no "changed since" filter; see README.md in this folder for how changes are found, and what
 * cannot be synced.
 */
import type { JsonObject } from '../../protocol/messages.ts';
import { type Auth, bearerToken } from '../../streamer/auth.ts';
import { defineStream } from '../../streamer/define-stream.ts';
import { defineStreamer, type StreamerRuntime } from '../../streamer/define-streamer.ts';
import { HttpError } from '../../streamer/http-client.ts';
import { bodyCursor, type Paginator, singlePage } from '../../streamer/pagination.ts';
import { StreamerConfigError } from '../../streamer/streamer.ts';
import { storedOAuth, tokenFile } from '../../streamer/token-store.ts';
import { driftSchemas, MILLISECOND_ATTRIBUTES } from './drift-schemas.ts';

export interface DriftConfig {
  access_token?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  token_file?: string;
  refresh_token_secret?: string;
  base_url: string;
  conversation_lookback: string;
}

const CONVERSATIONS_PAGE = 50; // the API's maximum

/** A record with Drift's epoch-millisecond times as ISO date-times. */
function withDateTimes(raw: unknown): JsonObject | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const record: JsonObject = { ...(raw as JsonObject) };
  for (const [name, value] of Object.entries(record))
    if (MILLISECOND_ATTRIBUTES.has(name) && typeof value === 'number')
      record[name] = new Date(value).toISOString();
  return record;
}

/** `data.next`: the full URL of the next page (accounts). */
function nextUrlInBody(): Paginator {
  return {
    next(response, records) {
      const next = (response.body as { data?: { next?: unknown } })?.data?.next;
      return records.length > 0 && typeof next === 'string' && next !== '' ? { url: next } : undefined;
    },
    apply(request, state) {
      return state === undefined ? request : { ...request, path: String(state.url), query: {} };
    },
  };
}

const conversations = defineStream<DriftConfig>({
  name: 'conversations',
  schema: driftSchemas.conversations ?? {},
  keyProperties: ['id'],
  // Newest-updated first and no time filter: read until past the bookmark minus the lookback. A new
  // message bumps a conversation to the top, so its messages are read again below.
  replication: {
    method: 'INCREMENTAL',
    key: 'updatedAt',
    filter: 'none',
    order: 'desc',
    lookback: (config: DriftConfig) => config.conversation_lookback,
  },
  request: () => ({ path: '/conversations/list', query: { limit: CONVERSATIONS_PAGE } }),
  paginate: bodyCursor({ path: ['pagination', 'next'], param: 'next' }),
  extract: (body) => (body as { data?: unknown[] }).data ?? [],
  parse: withDateTimes,
});

const messages = defineStream<DriftConfig, { conversation: number }>({
  name: 'messages',
  schema: driftSchemas.messages ?? {},
  keyProperties: ['id'],
  // Read whole for each conversation that changed; messages never change once written.
  replication: { method: 'FULL_TABLE' },
  parent: {
    stream: 'conversations',
    partition: (conversation) => ({ conversation: Number(conversation.id) }),
  },
  request: ({ partition }) => ({
    path: `/conversations/${partition.conversation}/messages`,
    query: { limit: 50 },
  }),
  paginate: {
    // The cursor is documented at the top level and seen under data: look at both.
    next(response, records, current) {
      const body = response.body as {
        pagination?: { next?: unknown };
        data?: { pagination?: { next?: unknown } };
      };
      const next = body.pagination?.next ?? body.data?.pagination?.next;
      return records.length === 0 ||
        next === undefined ||
        next === null ||
        next === '' ||
        next === current?.next
        ? undefined
        : { next: String(next) };
    },
    apply: (request, state) =>
      state === undefined ? request : { ...request, query: { ...request.query, ...state } },
  },
  extract: (body) => (body as { data?: { messages?: unknown[] } }).data?.messages ?? [],
  parse: withDateTimes,
  treatAsEmpty: (status) => status === 404, // a conversation deleted between the list and this call
});

const contacts = defineStream<DriftConfig, { contact: number | null }>({
  name: 'contacts',
  schema: driftSchemas.contacts ?? {},
  keyProperties: ['id'],
  // Drift lists no contacts: each one comes by id from the conversations that changed.
  replication: { method: 'FULL_TABLE' },
  parent: {
    stream: 'conversations',
    partition: (conversation) => ({
      contact: typeof conversation.contactId === 'number' ? conversation.contactId : null,
    }),
  },
  request: ({ partition }) => ({ path: `/contacts/${partition.contact ?? 0}` }),
  paginate: singlePage(),
  extract: (body) => {
    const data = (body as { data?: unknown }).data;
    return data === undefined || data === null ? [] : [data];
  },
  parse: withDateTimes,
  treatAsEmpty: (status) => status === 404,
});

const accounts = defineStream<DriftConfig>({
  name: 'accounts',
  schema: driftSchemas.accounts ?? {},
  keyProperties: ['accountId'],
  replication: { method: 'FULL_TABLE' },
  request: () => ({ path: '/accounts', query: { index: 0, size: 100 } }),
  paginate: nextUrlInBody(),
  extract: (body) => (body as { data?: { accounts?: unknown[] } }).data?.accounts ?? [],
  parse: withDateTimes,
  // Accounts (ABM) are a paid feature: without it there is nothing to sync, which is not a failure.
  treatAsEmpty: (status) => status === 403,
});

const users = defineStream<DriftConfig>({
  name: 'users',
  schema: driftSchemas.users ?? {},
  keyProperties: ['id'],
  replication: { method: 'FULL_TABLE' },
  request: () => ({ path: '/users/list' }),
  paginate: singlePage(),
  extract: (body) => (body as { data?: unknown[] }).data ?? [],
  parse: withDateTimes,
});

/** Bearer with a fixed token, or OAuth with the refresh token kept where it can be rewritten. */
function driftAuth(config: DriftConfig, runtime: StreamerRuntime): Auth {
  if (config.access_token !== undefined) return bearerToken(config.access_token);
  const { client_id: clientId, client_secret: clientSecret } = config;
  if (clientId === undefined || clientSecret === undefined)
    throw new StreamerConfigError(
      'streamer drift: give access_token (an app install token), or client_id and client_secret with token_file (locally) or refresh_token_secret (in AWS)',
    );
  const store =
    config.token_file !== undefined
      ? tokenFile(config.token_file)
      : config.refresh_token_secret !== undefined
        ? runtime.secretStore?.(config.refresh_token_secret)
        : undefined;
  if (store === undefined)
    throw new StreamerConfigError(
      config.refresh_token_secret !== undefined
        ? `streamer drift: refresh_token_secret ${config.refresh_token_secret} is written through Secrets Manager, which only the AWS runtime has; locally use token_file`
        : 'streamer drift: Drift rotates refresh tokens, so the new one must be kept: set token_file (locally; trib auth drift writes it) or refresh_token_secret (in AWS)',
    );
  return storedOAuth({
    tokenUrl: `${config.base_url.replace(/\/$/, '')}/oauth2/token`,
    clientId,
    clientSecret,
    store,
    ...(config.refresh_token === undefined ? {} : { refreshToken: config.refresh_token }),
  });
}

export const driftStreamer = defineStreamer<DriftConfig>({
  name: 'drift',
  description: 'Drift conversations, messages, contacts, accounts and users',
  configSchema: {
    type: 'object',
    properties: {
      access_token: {
        type: 'string',
        minLength: 1,
        secret: true,
        env: 'DRIFT_ACCESS_TOKEN',
        description: 'a token that does not expire (an app installed to your org)',
      },
      client_id: { type: 'string', minLength: 1, env: 'DRIFT_CLIENT_ID', description: 'the OAuth app' },
      client_secret: { type: 'string', minLength: 1, secret: true, env: 'DRIFT_CLIENT_SECRET' },
      refresh_token: {
        type: 'string',
        minLength: 1,
        secret: true,
        description: 'the first refresh token, when token_file or the secret holds none yet',
      },
      token_file: {
        type: 'string',
        minLength: 1,
        secret: false, // a path
        env: 'DRIFT_TOKEN_FILE',
        description: 'where the rotating refresh token is kept locally (trib auth drift writes it)',
      },
      refresh_token_secret: {
        type: 'string',
        minLength: 1,
        // The stack lets this tap's function read and write exactly this secret (PutSecretValue).
        writable_secret: true,
        secret: false, // the secret's name, not its value
        description:
          'in AWS: the Secrets Manager secret holding the refresh token, rewritten on each rotation',
      },
      base_url: { type: 'string', default: 'https://driftapi.com', env: 'DRIFT_API_URL' },
      conversation_lookback: {
        type: 'string',
        pattern: '^\\d+\\s*[smhd]$',
        default: '1h',
        description: 'the conversation scan goes this far past the bookmark, for updates that land late',
      },
    },
  },
  http: (config, runtime) => ({
    baseUrl: config.base_url,
    auth: driftAuth(config, runtime),
    // Drift publishes no limits or headers: back off from a few seconds.
    rateLimitMinWaitMs: 5_000,
  }),
  fatal: (error) => {
    if (error instanceof HttpError && error.status === 401)
      return 'Drift answered 401 (Invalid or expired access token): the token was revoked, or a refresh failed; authorize again with trib auth drift';
    if (error.name === 'AuthError' || error.name === 'TokenStoreError') return error.message;
    return undefined;
  },
  streams: [conversations, messages, contacts, accounts, users],
});
