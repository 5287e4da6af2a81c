/**
 * A fake Drift API, written from shared/reference/sources/drift.md: Bearer tokens that expire on the
 * fake's clock, `POST /oauth2/token` (form-encoded) for the authorization-code and refresh-token grants
 * with rotating refresh tokens (a used one answers 400 invalid_grant), the browser step at
 * `/authorize` that redirects with a code, conversations newest-updated first with a `next` cursor and
 * no pagination on the last page (limit 50 at most), messages nested under `data.messages`, contacts
 * only by id or email (no list-all: 400), accounts by index/size with a `data.next` URL and a deleted
 * one, users in one response, epoch-millisecond timestamps, 429 with or without Retry-After, and both
 * error body shapes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLocalServer } from './local-server.ts';

type Json = Record<string, unknown>;

export class DriftApi {
  readonly clientId = 'drift-client-1';
  readonly clientSecret = 'drift-secret-1';
  readonly conversations: Json[] = [];
  readonly messages = new Map<number, Json[]>();
  readonly contacts = new Map<number, Json>();
  readonly accounts: Json[] = [];
  readonly users: Json[] = [
    {
      id: 1204417,
      orgId: 2817745,
      name: 'Jonas Feld',
      email: 'jonas@harbourline.io',
      role: 'admin',
      createdAt: 1690891200000,
      updatedAt: 1729001873220,
    },
    {
      id: 1204418,
      orgId: 2817745,
      name: 'Mira Okafor',
      email: 'mira@harbourline.io',
      role: 'agent',
      bot: false,
      createdAt: 1690891300000,
      updatedAt: 1729001873999,
    },
  ];
  readonly requests: string[] = [];
  /** Access tokens that work, with their expiry on the fake's clock (epoch ms). */
  readonly accessTokens = new Map<string, number>();
  /** The one refresh token that works now; each refresh replaces it (Drift may rotate them). */
  refreshToken = 'refresh-0';
  readonly codes = new Set<string>();
  refreshes = 0;
  readonly faults: Array<{ status: number; retryAfter?: string }> = [];
  now = Date.parse('2026-11-01T00:00:00Z');
  baseUrl = '';
  private issued = 0;
  private server: Awaited<ReturnType<typeof startLocalServer>> | undefined;

  constructor(conversations = 60) {
    for (let i = 0; i < conversations; i += 1) this.addConversation();
    for (let i = 0; i < 3; i += 1)
      this.accounts.push({
        accountId: `2817745_company${i}.example`,
        ownerId: 1204417,
        name: `Company ${i}`,
        domain: `company${i}.example`,
        customProperties: [{ label: 'Seats', name: 'seats', value: 40 + i, type: 'NUMBER' }],
        deleted: i === 2,
        targeted: true,
        createDateTime: 1718262000114 + i,
        updateDateTime: 1730300125009 + i,
      });
  }

  /** A token the API accepts for `lifetimeMs` from now (`0`: never expires, as an app install's). */
  issueAccessToken(lifetimeMs = 7_200_000): string {
    this.issued += 1;
    const token = `access-${this.issued}`;
    this.accessTokens.set(token, lifetimeMs === 0 ? Number.POSITIVE_INFINITY : this.now + lifetimeMs);
    return token;
  }

  addConversation(): Json {
    const id = 4150026000 + this.conversations.length;
    const contactId = 19770034000 + this.conversations.length;
    this.tick();
    const conversation: Json = {
      id,
      status: 'open',
      contactId,
      inboxId: 73120,
      participants: [1204417],
      createdAt: this.now,
      updatedAt: this.now,
      conversationTags: [],
    };
    this.conversations.push(conversation);
    this.contacts.set(contactId, {
      id: contactId,
      createdAt: this.now,
      attributes: { email: `c${id}@example.com`, name: `Contact ${id}`, tags: [], last_active: this.now },
    });
    this.messages.set(id, []);
    this.addMessage(id, 'contact');
    return conversation;
  }

  /** A new message bumps its conversation to the top of the list, as on Drift. */
  addMessage(conversationId: number, author: 'contact' | 'user' = 'user', type = 'chat'): Json {
    this.tick();
    const list = this.messages.get(conversationId) ?? [];
    const message: Json = {
      id: 8731950000 + [...this.messages.values()].reduce((sum, items) => sum + items.length, 0),
      orgId: 2817745,
      conversationId,
      type,
      body: `<p>message ${list.length + 1}</p>`,
      author: { type: author, id: author === 'user' ? 1204417 : 19770034512, bot: false },
      createdAt: this.now,
    };
    list.push(message);
    this.messages.set(conversationId, list);
    const conversation = this.conversations.find((candidate) => candidate.id === conversationId);
    if (conversation !== undefined) conversation.updatedAt = this.now;
    return message;
  }

  private tick(): void {
    this.now += 1_000;
  }

  async start(): Promise<this> {
    this.server = await startLocalServer((request, response) => this.handle(request, response));
    this.baseUrl = this.server.url;
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    this.requests.push(`${request.method} ${url.pathname}${url.search}`);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    const error = (status: number, type: string, message: string) =>
      send(status, { error: { type, message } });
    if (url.pathname === '/authorize') {
      // The browser step: consent is given at once, and Drift redirects back with a single-use code.
      const code = `code-${this.codes.size + 1}`;
      this.codes.add(code);
      const target = new URL(url.searchParams.get('redirect_uri') ?? '');
      target.searchParams.set('code', code);
      target.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: target.toString() });
      return void response.end();
    }
    if (url.pathname === '/oauth2/token' && request.method === 'POST') {
      let text = '';
      for await (const piece of request) text += String(piece);
      const form = new URLSearchParams(text);
      if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret)
        return send(401, { error: 'invalid_client', error_description: 'client authentication failed' });
      const grant = form.get('grant_type');
      if (grant === 'authorization_code') {
        const code = form.get('code') ?? '';
        if (!this.codes.delete(code))
          return send(400, { error: 'invalid_grant', error_description: 'code is invalid or used' });
      } else if (grant === 'refresh_token') {
        if (form.get('refresh_token') !== this.refreshToken)
          return send(400, {
            error: 'invalid_grant',
            error_description: 'refresh token is invalid or was used',
          });
        this.refreshes += 1;
      } else {
        return send(400, { error: 'unsupported_grant_type' });
      }
      this.refreshToken = `refresh-${this.refreshes}-${this.codes.size}-${this.issued + 1}`;
      return send(200, {
        access_token: this.issueAccessToken(),
        refresh_token: this.refreshToken,
        token_type: 'bearer',
        expires_in: 7200,
        orgId: 2817745,
      });
    }
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const expiry = token === undefined ? undefined : this.accessTokens.get(token);
    if (expiry === undefined || expiry <= this.now)
      return error(401, 'authentication_error', 'Invalid or expired access token');
    const fault = this.faults.shift();
    if (fault !== undefined)
      return send(
        fault.status,
        { error: { type: 'rate_limit', message: 'Too Many Requests' } },
        fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
      );
    const path = url.pathname;
    if (path === '/users/list') return send(200, { data: this.users });
    if (path === '/conversations/list') {
      const limit = Number(url.searchParams.get('limit') ?? 25);
      if (!Number.isInteger(limit) || limit < 1 || limit > 50)
        return send(400, {
          errors: [{ type: 'validation_error', message: 'limit must be between 1 and 50', param: 'limit' }],
        });
      const ordered = [...this.conversations].sort(
        (a, b) => Number(b.updatedAt) - Number(a.updatedAt) || Number(b.id) - Number(a.id),
      );
      const after = url.searchParams.get('next');
      const start =
        after === null ? 0 : ordered.findIndex((conversation) => String(conversation.id) === after) + 1;
      const page = ordered.slice(start, start + limit);
      const more = start + limit < ordered.length;
      return send(200, {
        data: page,
        ...(more ? { pagination: { more: true, next: String(page.at(-1)?.id) } } : {}),
      });
    }
    const messages = /^\/conversations\/(\d+)\/messages$/.exec(path);
    if (messages !== null) {
      const list = this.messages.get(Number(messages[1]));
      if (list === undefined)
        return send(404, { errors: [{ type: 'not_found', message: 'conversation not found' }] });
      const start = Number(url.searchParams.get('next') ?? 0);
      const page = list.slice(start, start + 50);
      return send(200, {
        data: { messages: page },
        pagination: start + 50 < list.length ? { more: true, next: String(start + 50) } : { more: false },
      });
    }
    const contact = /^\/contacts\/(\d+)$/.exec(path);
    if (contact !== null) {
      const found = this.contacts.get(Number(contact[1]));
      return found === undefined
        ? send(404, { errors: [{ type: 'not_found', message: 'contact not found' }] })
        : send(200, { data: found });
    }
    if (path === '/contacts') {
      const email = url.searchParams.get('email');
      if (email === null && url.searchParams.get('id') === null)
        return send(400, {
          errors: [{ type: 'validation_error', message: 'email or id is required', param: 'email' }],
        });
      return send(200, {
        data: [...this.contacts.values()].filter((item) => (item.attributes as Json).email === email),
      });
    }
    if (path === '/accounts') {
      const index = Number(url.searchParams.get('index') ?? 0);
      const size = Number(url.searchParams.get('size') ?? 10);
      const page = this.accounts.slice(index, index + size);
      const next =
        index + size < this.accounts.length
          ? `${this.baseUrl}/accounts?index=${index + size}&size=${size}`
          : undefined;
      return send(200, {
        data: { total: this.accounts.length, accounts: page, ...(next === undefined ? {} : { next }) },
      });
    }
    return send(404, { errors: [{ type: 'not_found', message: `no route ${path}` }] });
  }
}
