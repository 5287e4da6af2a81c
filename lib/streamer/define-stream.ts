/**
 * A stream is a declaration: schema, keys, how it replicates, how to request and page. The SDK does
 * the paging, retries, bookmarks and STATE.
 *
 * @example
 * export const commits = defineStream<GithubConfig, { repository: string }>({
 *   name: 'commits',
 *   schema: commitsSchema, // import commitsSchema from './schemas/commits.json' with { type: 'json' };
 *   keyProperties: ['repository', 'sha'],
 *   replication: { method: 'INCREMENTAL', key: 'committed_at', lookback: '1h' },
 *   partitions: (config) => config.repositories.map((repository) => ({ repository })),
 *   request: ({ partition, since }) => ({ path: `/repos/${partition.repository}/commits`, query: { since, per_page: 100 } }),
 *   paginate: linkHeader(),
 *   parse: (commit, { partition }) => ({ ...commit, repository: partition.repository, committed_at: commit.commit.committer.date }),
 * });
 */
import type { JsonObject, JsonSchema } from '../protocol/messages.ts';
import type { HttpClient, HttpRequest } from './http-client.ts';
import type { Paginator } from './pagination.ts';

export type Replication =
  | { readonly method: 'FULL_TABLE' }
  | {
      readonly method: 'INCREMENTAL';
      /** The record property that orders changes (after `parse`). */
      readonly key: string;
      /**
       * How the API filters on `since`: 'gt' returns only newer records, 'gte' also those at the
       * bookmark (skipped when read already: same key and content), 'none' nothing (filtered here). @default 'gte'
       */
      readonly filter?: 'gt' | 'gte' | 'none';
      /** Re-read this far behind the bookmark for rows that arrive late, e.g. '1h', '2d'; or from config. */
      // biome-ignore lint/suspicious/noExplicitAny: the config type of the stream
      readonly lookback?: string | ((config: any) => string | undefined);
      /** Request bounded ranges of this size, e.g. '7d', for APIs that need them. */
      readonly window?: string;
      /**
       * Order of the records the API returns: 'asc' lets the bookmark advance page by page; 'desc'
       * stops paging at the first record older than `since`; 'none' advances only at the end. @default 'none'
       */
      readonly order?: 'asc' | 'desc' | 'none';
    };

export interface StreamContext<Config, Partition> {
  readonly config: Config;
  readonly partition: Partition;
  readonly http: HttpClient;
  readonly log: (line: string) => void;
  /**
   * How many records this stream reads in this run, where the source says (a first sync of a known
   * size, an API's total count): progress shows an ETA from it. Say nothing when it is not known.
   */
  readonly expectRecords: (records: number) => void;
}

export interface RequestContext<Config, Partition> extends StreamContext<Config, Partition> {
  /** Lower bound for incremental streams (bookmark minus lookback, or the start date). */
  readonly since?: string;
  /** Upper bound of the current window, when the stream is windowed. */
  readonly until?: string;
}

export interface RecordsContext<Config, Partition> extends StreamContext<Config, Partition> {
  /** This partition's bookmark from the last STATE, if any. */
  readonly bookmark: JsonObject | undefined;
  /** Sets the bookmark the next STATE carries (records yielded so far are covered by it). */
  advance(bookmark: JsonObject): void;
  /** Asks for a STATE now (the SDK also emits one every `stateEvery` records). */
  checkpoint(): void;
}

export interface StreamSpec<Config = JsonObject, Partition = Record<string, never>> {
  readonly name: string;
  readonly schema: JsonSchema;
  readonly keyProperties: readonly string[];
  readonly replication: Replication;
  readonly description?: string;
  /** Independent slices of the stream with bookmarks of their own (e.g. one per repository). */
  readonly partitions?: (config: Config) => readonly Partition[];
  /** A child stream: one partition per record of the parent stream. */
  readonly parent?: { readonly stream: string; readonly partition: (parentRecord: JsonObject) => Partition };
  readonly request?: (context: RequestContext<Config, Partition>) => HttpRequest;
  readonly paginate?: Paginator;
  /** The records in a response body. @default the body if it is an array, else body[stream name] */
  readonly extract?: (body: unknown) => readonly unknown[];
  /** Shapes one API record; returning undefined drops it. */
  // biome-ignore lint/suspicious/noExplicitAny: API records are whatever the API sends
  readonly parse?: (raw: any, context: StreamContext<Config, Partition>) => JsonObject | undefined;
  /** For sources that are not one paged HTTP endpoint: yields records and sets bookmarks itself. */
  readonly getRecords?: (context: RecordsContext<Config, Partition>) => AsyncIterable<JsonObject>;
  /** With getRecords: records between STATE messages. @default 1000 */
  readonly stateEvery?: number;
  /**
   * API answers that mean "this window holds too many records to page through" (PagerDuty's offset cap).
   * The window is then narrowed: it restarts just after the last record read, which needs `order: 'asc'`.
   */
  readonly narrowWindowOn?: (status: number, body: unknown) => boolean;
  /** API answers that mean "nothing here" rather than a failure, e.g. GitHub's 409 for an empty repository. */
  readonly treatAsEmpty?: (status: number, body: unknown) => boolean;
  /** Whether the stream is synced when no catalog or `streams:` list says otherwise. @default true */
  readonly selectedByDefault?: boolean;
}

export function defineStream<Config = JsonObject, Partition = Record<string, never>>(
  spec: StreamSpec<Config, Partition>,
): StreamSpec<Config, Partition> {
  if (spec.getRecords === undefined && spec.request === undefined) {
    throw new Error(`stream ${spec.name}: give either request (with paginate) or getRecords`);
  }
  const properties = Object.keys((spec.schema.properties ?? {}) as object);
  for (const key of spec.keyProperties) {
    if (!properties.includes(key))
      throw new Error(`stream ${spec.name}: key property "${key}" is not in its schema`);
  }
  if (spec.replication.method === 'INCREMENTAL' && !properties.includes(spec.replication.key)) {
    throw new Error(`stream ${spec.name}: replication key "${spec.replication.key}" is not in its schema`);
  }
  return spec;
}

/** '90s', '15m', '1h', '7d' in milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (match === null)
    throw new Error(
      `duration ${JSON.stringify(text)}: expected a number and s, m, h or d, e.g. '1h' or '7d'`,
    );
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
