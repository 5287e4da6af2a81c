/** A real ingest endpoint on a loopback port, over a folder inbox, for client and endpoint tests. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineAccessKeys } from '../../lib/ingest/access-keys.ts';
import type { IngestTapStore } from '../../lib/ingest/event-inbox.ts';
import { folderIngestStore } from '../../lib/ingest/folder-inbox.ts';
import {
  createIngestEndpoint,
  type IngestEndpoint,
  type IngestRequest,
} from '../../lib/ingest/ingest-endpoint.ts';
import { type RunningIngestServer, startIngestServer } from '../../lib/ingest/ingest-http-server.ts';

export const TEST_ACCESS_KEY = 'test-access-key-0123456789';

export interface TestEndpoint {
  readonly url: string;
  readonly port: number;
  readonly store: IngestTapStore;
  readonly root: string;
  /** Every request the endpoint answered, with its status. */
  readonly requests: { readonly request: IngestRequest; readonly status: number }[];
  /** Events in the inbox, in arrival order. */
  events(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
  /** Serves again on the same port (after `stop`). */
  restart(): Promise<void>;
}

export async function startTestEndpoint(
  options: {
    readonly root?: string;
    readonly requestsPer10s?: number;
    readonly port?: number;
    /** Runs before the endpoint: return a response to answer instead (a fault), or undefined. */
    readonly intercept?: (
      request: IngestRequest,
      endpoint: IngestEndpoint,
    ) => Promise<{ status: number; headers?: Record<string, string>; body?: string } | undefined>;
  } = {},
): Promise<TestEndpoint> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'trib-ingest-')));
  const store = folderIngestStore(root, 'events');
  const endpoint = createIngestEndpoint({
    keys: [new PipelineAccessKeys('events', [TEST_ACCESS_KEY])],
    storeOf: (tap) => (tap === 'events' ? store : undefined),
    ...(options.requestsPer10s === undefined ? {} : { requestsPer10s: options.requestsPer10s }),
  });
  const requests: { readonly request: IngestRequest; status: number }[] = [];
  const answer: IngestEndpoint = async (request) => {
    // Recorded on arrival, its status once answered: a test that sees the stored events must also
    // see the request that stored them.
    const recorded = { request, status: 0 };
    requests.push(recorded);
    const fault = await options.intercept?.(request, endpoint);
    const response =
      fault === undefined
        ? await endpoint(request)
        : { status: fault.status, headers: fault.headers ?? {}, body: fault.body ?? '' };
    recorded.status = response.status;
    return response;
  };
  let server: RunningIngestServer = await startIngestServer(
    answer,
    options.port === undefined ? {} : { port: options.port },
  );
  const port = server.port;
  return {
    get url() {
      return server.url;
    },
    port,
    store,
    root,
    requests,
    async events() {
      const events: Record<string, unknown>[] = [];
      for (const entry of await store.inbox.list())
        for (const line of (await store.inbox.read(entry.name)).split('\n'))
          if (line !== '') events.push(JSON.parse(line) as Record<string, unknown>);
      return events;
    },
    stop: () => server.close(),
    async restart() {
      server = await startIngestServer(answer, { port });
    },
  };
}

/** Waits until `condition` holds, polling; fails with `what` after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
