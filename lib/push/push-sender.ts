/**
 * Sends one batch (or creates one bucket) over the Initial State Events API, through the HTTP client
 * every connector uses: retries 5xx, 429 and network errors with backoff and full jitter, honouring
 * `Retry-After`. The answer is an outcome the caller must act on, never an exception to forget:
 * `sent`, `unreachable` (spool and try later), `refused` (401/402/403: a key or account problem that
 * retrying will not fix) or `invalid` (400/409/413: this batch will never be taken as it is).
 */
import { HttpClient, HttpError, RateLimitDeadlineError } from '../streamer/http-client.ts';
import type { PushedEvent } from './pushed-event.ts';

export type SendOutcome =
  | { readonly status: 'sent' }
  | { readonly status: 'unreachable'; readonly reason: string }
  | { readonly status: 'refused'; readonly httpStatus: number; readonly reason: string }
  | { readonly status: 'invalid'; readonly httpStatus: number; readonly reason: string };

export interface PushSenderOptions {
  /** The endpoint's base, e.g. `http://127.0.0.1:8080` (`/api/...` is appended, as ISStreamer does). */
  readonly endpoint: string;
  readonly accessKey: string;
  /** Attempts per shipment before it counts as unreachable. @default 3 */
  readonly attempts?: number;
  /** @default 500 ms */
  readonly backoffBaseMs?: number;
  /** Longest wait between attempts (a long `Retry-After` means: spool it, come back later). @default 30 s */
  readonly maxWaitMs?: number;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

export class PushSender {
  private readonly base: string;

  constructor(private readonly options: PushSenderOptions) {
    const trimmed = options.endpoint.replace(/\/+$/, '');
    this.base = trimmed.endsWith('/api') ? trimmed : `${trimmed}/api`;
  }

  async createBucket(bucketKey: string, bucketName: string, deadline?: number): Promise<SendOutcome> {
    return this.post('buckets', { bucketKey, bucketName }, {}, deadline);
  }

  async send(bucketKey: string, events: readonly PushedEvent[], deadline?: number): Promise<SendOutcome> {
    const body = events.map((event) => ({
      key: event.key,
      value: event.value,
      epoch: event.epoch,
      event_id: event.id,
    }));
    return this.post('events', body, { 'x-is-bucketkey': bucketKey }, deadline);
  }

  private async post(
    path: string,
    body: unknown,
    headers: Record<string, string>,
    deadline: number | undefined,
  ): Promise<SendOutcome> {
    const client = new HttpClient({
      baseUrl: this.base,
      headers: { 'x-is-accesskey': this.options.accessKey, 'accept-version': '~0', ...headers },
      maxRetries: (this.options.attempts ?? 3) - 1,
      backoffBaseMs: this.options.backoffBaseMs ?? 500,
      maxWaitMs: this.options.maxWaitMs ?? 30_000,
      timeoutMs: this.options.timeoutMs ?? 10_000,
      // The access key is a header, never in a URL or a message; nothing here needs redacting.
      ...(deadline === undefined ? {} : { deadline }),
      ...(this.options.fetch === undefined ? {} : { fetch: this.options.fetch }),
      ...(this.options.sleep === undefined ? {} : { sleep: this.options.sleep }),
      ...(this.options.log === undefined ? {} : { log: this.options.log }),
    });
    try {
      await client.request({ path, method: 'POST', body, headers: { 'content-type': 'application/json' } });
      return { status: 'sent' };
    } catch (error) {
      if (error instanceof RateLimitDeadlineError) return { status: 'unreachable', reason: error.message };
      if (!(error instanceof HttpError)) return { status: 'unreachable', reason: (error as Error).message };
      const status = error.status;
      if (status === 401 || status === 402 || status === 403)
        return { status: 'refused', httpStatus: status, reason: error.message };
      if (status === 400 || status === 409 || status === 413)
        return { status: 'invalid', httpStatus: status, reason: error.message };
      return { status: 'unreachable', reason: error.message };
    }
  }
}
