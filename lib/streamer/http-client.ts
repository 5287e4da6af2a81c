/**
 * The HTTP client every connector uses, on Node's fetch (gzip handled by it). It retries 429, 5xx and
 * network errors with exponential backoff and full jitter, honours `retry-after`, waits out a spent
 * rate-limit budget (`x-ratelimit-*`, `ratelimit-*`) before sending rather than after failing, refreshes
 * OAuth once on a 401, and fails at once on any other 4xx with the body's message. Counts go to metrics.
 *
 * Retry and rate-limit handling are written here rather than taken from a retry library because they
 * are part of what a sync promises: waits must respect the run's deadline and each API's headers.
 */
import type { Auth } from './auth.ts';
import type { Redactor } from './redact.ts';

export interface HttpMetrics {
  requests: number;
  retries: number;
  waits: number;
  waitedMs: number;
  bytes: number;
}

export function emptyHttpMetrics(): HttpMetrics {
  return { requests: 0, retries: 0, waits: 0, waitedMs: 0, bytes: 0 };
}

export interface HttpClientOptions {
  readonly baseUrl: string;
  readonly auth?: Auth;
  readonly headers?: Record<string, string>;
  /** Per request. @default 30 s */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. @default 6 */
  readonly maxRetries?: number;
  /** First backoff step; doubles each retry, with full jitter. @default 1 s */
  readonly backoffBaseMs?: number;
  /** Longest single wait (backoff, retry-after, or rate-limit reset). @default 15 min */
  readonly maxWaitMs?: number;
  /** Wait for the reset when fewer than this many requests remain. @default 1 */
  readonly rateLimitReserve?: number;
  /** Epoch ms; a wait that would pass it fails instead, so the run stops at its last STATE. */
  readonly deadline?: number;
  readonly redact?: Redactor;
  readonly log?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /**
   * Decides whether a response is a rate limit (beyond 429): GitHub answers 403 when the budget is
   * spent. Gets a clone, so it may read the body.
   */
  readonly isRateLimited?: (response: Response) => boolean | Promise<boolean>;
  /** Shortest wait for a rate limit that says neither retry-after nor a reset (GitHub: 60 s). @default 0 */
  readonly rateLimitMinWaitMs?: number;
}

export interface HttpRequest {
  /** A path under the base URL, or a full URL (a `next` link). */
  readonly path: string;
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent as it is (JSON already written, e.g. with exact numbers). */
  readonly rawBody?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly url: string;
  readonly body: unknown;
}

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export class RateLimitDeadlineError extends Error {
  override readonly name = 'RateLimitDeadlineError';
  constructor(
    message: string,
    /** Epoch ms when the source will answer again. */
    readonly resumeAt: number,
  ) {
    super(message);
  }
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

export class HttpClient {
  readonly metrics: HttpMetrics = emptyHttpMetrics();
  private remaining: number | undefined;
  private resetAt: number | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly redact: Redactor;

  constructor(private readonly options: HttpClientOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.redact = options.redact ?? ((text) => text);
  }

  url(request: HttpRequest): string {
    const url = /^https?:\/\//.test(request.path)
      ? new URL(request.path)
      : new URL(
          request.path.replace(/^\//, ''),
          this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`,
        );
    for (const [key, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    const url = this.url(request);
    const fetchFn = this.options.fetch ?? fetch;
    const maxRetries = this.options.maxRetries ?? 6;
    let refreshed = false;
    for (let attempt = 0; ; attempt += 1) {
      await this.waitForBudget();
      const headers = new Headers({
        accept: 'application/json',
        'accept-encoding': 'gzip',
        ...this.options.headers,
        ...request.headers,
      });
      await this.options.auth?.authorize(headers);
      let response: Response;
      this.metrics.requests += 1;
      try {
        response = await fetchFn(url, {
          method: request.method ?? 'GET',
          headers,
          ...(request.rawBody !== undefined
            ? { body: request.rawBody }
            : request.body === undefined
              ? {}
              : { body: JSON.stringify(request.body) }),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        });
      } catch (error) {
        if (attempt >= maxRetries) {
          throw new HttpError(
            this.redact(
              `${request.method ?? 'GET'} ${url}: ${(error as Error).message} after ${attempt + 1} attempts`,
            ),
            0,
            this.redact(url),
            undefined,
          );
        }
        await this.retryWait(attempt, undefined, `network error: ${(error as Error).message}`, url);
        continue;
      }
      this.readRateLimit(response.headers);
      if (response.status === 401 && this.options.auth?.refresh !== undefined && !refreshed) {
        refreshed = true;
        await response.body?.cancel();
        this.options.log?.('HTTP 401: refreshing the access token once');
        await this.options.auth.refresh(fetchFn);
        continue;
      }
      const rateLimited =
        response.status === 429 ||
        (this.options.isRateLimited !== undefined &&
          !response.ok &&
          (await this.options.isRateLimited(response.clone())));
      if ((rateLimited || RETRYABLE.has(response.status)) && attempt < maxRetries) {
        const text = await response.text().catch(() => '');
        this.metrics.bytes += text.length;
        await this.retryWait(
          attempt,
          response,
          `HTTP ${response.status}${rateLimited ? ' (rate limited)' : ''}`,
          url,
          rateLimited,
        );
        continue;
      }
      const text = await response.text();
      this.metrics.bytes += text.length;
      const body = parseBody(text, response.headers.get('content-type'));
      if (!response.ok) {
        throw new HttpError(
          this.redact(
            `${request.method ?? 'GET'} ${url} failed with HTTP ${response.status}: ${describeBody(body)}`,
          ),
          response.status,
          this.redact(url),
          body,
        );
      }
      return { status: response.status, headers: response.headers, url, body };
    }
  }

  private async retryWait(
    attempt: number,
    response: Response | undefined,
    reason: string,
    url: string,
    rateLimited = false,
  ): Promise<void> {
    this.metrics.retries += 1;
    const retryAfter = response === undefined ? undefined : retryAfterMs(response.headers, this.now());
    const reset =
      response !== undefined && this.remaining === 0 && this.resetAt !== undefined
        ? this.resetAt - this.now()
        : undefined;
    const backoff = Math.random() * (this.options.backoffBaseMs ?? 1_000) * 2 ** attempt;
    // A rate limit that names no wait gets at least the API's minimum (GitHub: a minute), doubling.
    const floor = rateLimited ? (this.options.rateLimitMinWaitMs ?? 0) * 2 ** attempt : 0;
    const wait = Math.max(
      0,
      retryAfter ?? (reset !== undefined && reset > 0 ? reset : undefined) ?? Math.max(floor, backoff),
    );
    this.options.log?.(this.redact(`${reason} from ${url}; retry ${attempt + 1} in ${Math.round(wait)} ms`));
    await this.pause(wait);
    // The wait covered any reset; the next response says what the budget is now.
    this.remaining = undefined;
  }

  private async waitForBudget(): Promise<void> {
    if (this.remaining === undefined || this.resetAt === undefined) return;
    if (this.remaining >= (this.options.rateLimitReserve ?? 1)) return;
    const wait = this.resetAt - this.now();
    if (wait <= 0) return;
    this.options.log?.(`rate-limit budget spent; waiting ${Math.round(wait / 1000)} s for it to reset`);
    await this.pause(wait);
    this.remaining = undefined;
  }

  private async pause(ms: number): Promise<void> {
    const capped = Math.min(ms, this.options.maxWaitMs ?? 15 * 60_000);
    if (this.options.deadline !== undefined && this.now() + capped > this.options.deadline) {
      throw new RateLimitDeadlineError(
        `a wait of ${Math.round(capped / 1000)} s would pass the run's deadline; stopping at the last STATE`,
        this.now() + capped,
      );
    }
    this.metrics.waits += 1;
    this.metrics.waitedMs += capped;
    await this.sleep(capped);
  }

  /** The budget as the latest response tells it; a response without the headers says nothing. */
  private readRateLimit(headers: Headers): void {
    const remaining = headers.get('x-ratelimit-remaining') ?? headers.get('ratelimit-remaining');
    const epochReset = headers.get('x-ratelimit-reset');
    const deltaReset = headers.get('ratelimit-reset');
    this.remaining = remaining === null || remaining === '' ? undefined : Number(remaining);
    if (epochReset !== null && epochReset !== '') this.resetAt = Number(epochReset) * 1000;
    else if (deltaReset !== null && deltaReset !== '') this.resetAt = this.now() + Number(deltaReset) * 1000;
    else this.resetAt = undefined;
  }
}

function retryAfterMs(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return undefined;
  if (contentType?.includes('json') || /^[[{]/.test(text.trimStart())) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** The message an API put in its error body, in one line. */
export function describeBody(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 300) || '(empty body)';
  if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>;
    const error = record.error;
    const nested =
      typeof error === 'object' && error !== null ? (error as Record<string, unknown>).message : undefined;
    const message = record.message ?? nested ?? error;
    // The code to look up and the parameter it is about, where the API names them (Chargebee does).
    const code = typeof record.api_error_code === 'string' ? record.api_error_code : undefined;
    const param = typeof record.param === 'string' ? record.param : undefined;
    const detail = [code, param === undefined ? undefined : `param ${param}`].filter(
      (part) => part !== undefined,
    );
    if (typeof message === 'string')
      return `${message.slice(0, 300)}${detail.length === 0 ? '' : ` (${detail.join(', ')})`}`;
    return JSON.stringify(body).slice(0, 300);
  }
  return '(empty body)';
}
