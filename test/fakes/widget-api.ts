/**
 * A small fake HTTP API for the streamer SDK's tests: one dataset of widgets (and parts per widget)
 * served with each pagination style, Bearer auth with token rotation and an OAuth refresh endpoint,
 * `x-ratelimit-*` budgets, and faults that a test queues per path (429 with or without retry-after, 5xx).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Widget {
  id: number;
  name: string;
  updated_at: string;
}

export interface Fault {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export class WidgetApi {
  widgets: Widget[] = [];
  /** Widget ids whose parts endpoint answers 404. */
  readonly missingParts = new Set<number>();
  readonly faults = new Map<string, Fault[]>();
  readonly requests: string[] = [];
  /** The token the API accepts now; `rotateToken` makes the old one answer 401. */
  token = 'token-1';
  refreshes = 0;
  /** Requests that came after the budget was spent (a client that paces itself sends none). */
  overBudget = 0;
  /** Requests per budget window; undefined means no rate-limit headers. */
  budget: number | undefined;
  private used = 0;
  private windowEndsAt = 0;
  private server: Server | undefined;
  baseUrl = '';

  constructor(count = 25, start = Date.parse('2024-01-01T00:00:00Z')) {
    for (let id = 1; id <= count; id += 1)
      this.widgets.push({
        id,
        name: `widget ${id}`,
        updated_at: new Date(start + id * 60_000).toISOString(),
      });
  }

  /** Changes one widget (a later updated_at) and adds a new one, as a real source would between runs. */
  mutate(now = Date.parse('2024-06-01T00:00:00Z')): void {
    const changed = this.widgets[2];
    if (changed !== undefined) changed.updated_at = new Date(now).toISOString();
    this.widgets.push({
      id: this.widgets.length + 1,
      name: 'new widget',
      updated_at: new Date(now + 1000).toISOString(),
    });
  }

  fail(path: string, ...faults: Fault[]): void {
    this.faults.set(path, [...(this.faults.get(path) ?? []), ...faults]);
  }

  rotateToken(): void {
    this.token = `token-${Number(this.token.split('-')[1]) + 1}`;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', this.baseUrl);
    this.requests.push(`${url.pathname}${url.search}`);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        ...headers,
        ...this.rateLimitHeaders(),
      });
      response.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (url.pathname === '/oauth/token') {
      let text = '';
      request.on('data', (piece) => {
        text += piece;
      });
      request.on('end', () => {
        const form = new URLSearchParams(text);
        if (form.get('refresh_token') !== 'refresh-me' || form.get('client_id') !== 'client')
          return send(400, { error: 'invalid_grant' });
        this.refreshes += 1;
        send(200, { access_token: this.token, token_type: 'bearer' });
      });
      return;
    }
    const fault = this.faults.get(url.pathname)?.shift();
    if (fault !== undefined)
      return send(fault.status, fault.body ?? { message: `injected ${fault.status}` }, fault.headers);
    if (request.headers.authorization !== `Bearer ${this.token}`)
      return send(401, { message: 'Bad credentials' });
    if (this.budget !== undefined) {
      if (Date.now() >= this.windowEndsAt) {
        this.used = 0;
        this.windowEndsAt = Date.now() + 1_000;
      }
      if (this.used >= this.budget) {
        this.overBudget += 1;
        return send(403, { message: 'API rate limit exceeded' });
      }
      this.used += 1;
    }
    const since = url.searchParams.get('since');
    const sorted = [...this.widgets].sort((a, b) => a.updated_at.localeCompare(b.updated_at) || a.id - b.id);
    const matching = since === null ? sorted : sorted.filter((widget) => widget.updated_at >= since);
    const parts = /^\/widgets\/(\d+)\/parts$/.exec(url.pathname);
    if (parts !== null) {
      const id = Number(parts[1]);
      if (this.missingParts.has(id)) return send(404, { message: `widget ${id} not found` });
      return send(
        200,
        [1, 2].map((n) => ({
          widget_id: id,
          part: n,
          updated_at: this.widgets.find((w) => w.id === id)?.updated_at,
        })),
      );
    }
    switch (url.pathname) {
      case '/link/widgets': {
        const page = Number(url.searchParams.get('page') ?? 1);
        const perPage = Number(url.searchParams.get('per_page') ?? 10);
        const items = matching.slice((page - 1) * perPage, page * perPage);
        const next = new URL(url);
        next.searchParams.set('page', String(page + 1));
        const hasNext = page * perPage < matching.length;
        return send(200, items, hasNext ? { link: `<${next}>; rel="next", <${url}>; rel="first"` } : {});
      }
      case '/cursor/widgets': {
        const start = Number(url.searchParams.get('cursor') ?? 0);
        const items = matching.slice(start, start + 7);
        return send(200, { items, next_cursor: start + 7 < matching.length ? String(start + 7) : null });
      }
      case '/offset/widgets': {
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 5);
        const items = matching.slice(offset, offset + limit);
        return send(200, { widgets: items, more: offset + limit < matching.length, offset, limit });
      }
      case '/page/widgets': {
        const page = Number(url.searchParams.get('page') ?? 1);
        return send(200, matching.slice((page - 1) * 6, page * 6));
      }
      case '/window/widgets': {
        const until = url.searchParams.get('until');
        if (since === null || until === null) return send(400, { message: 'since and until are required' });
        if (Date.parse(until) - Date.parse(since) > 7 * 86_400_000)
          return send(400, { message: 'the range may be at most 7 days' });
        return send(
          200,
          matching.filter((widget) => widget.updated_at < until),
        );
      }
      case '/stuck/widgets':
        // A buggy API whose next link points at the same page forever.
        return send(200, matching.slice(0, 2), { link: `<${url}>; rel="next"` });
      default:
        return send(404, { message: `no route ${url.pathname}` });
    }
  }

  private rateLimitHeaders(): Record<string, string> {
    if (this.budget === undefined) return {};
    return {
      'x-ratelimit-remaining': String(Math.max(0, this.budget - this.used)),
      'x-ratelimit-reset': String(Math.ceil(this.windowEndsAt / 1000)),
    };
  }
}
