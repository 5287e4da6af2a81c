/**
 * A fake PagerDuty REST API v2, written from shared/reference/sources/pagerduty.md: `Token token=`
 * auth (401, code 2006), offset/limit paging with `more` and the offset cap (400, code 2002), the
 * incident window on creation time with the 6-month maximum (400, code 2001), `time_zone`, rate
 * limits with `ratelimit-*` headers (seconds until reset) and the 429 body (code 2020). Incidents change
 * after their creation (acknowledged, resolved, reassigned) and each change writes a log entry;
 * `include[]=incidents` on /log_entries expands each entry's incident reference into the incident as it
 * is now, and `GET /incidents/{id}` returns one incident (404, code 5001, for an unknown id).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLocalServer } from './local-server.ts';

type Json = Record<string, unknown>;
const HOUR = 3_600_000;
const START = Date.parse('2025-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export class PagerdutyApi {
  readonly incidents: Json[] = [];
  readonly logEntries: Json[] = [];
  readonly lists: Record<string, Json[]> = {
    services: [
      { id: 'PSVC1', type: 'service', name: 'Checkout API', status: 'active' },
      { id: 'PSVC2', type: 'service', name: 'Search', status: 'active' },
    ],
    users: [{ id: 'PUSR1', type: 'user', name: 'Jonas Feld', email: 'jonas@example.com' }],
    escalation_policies: [
      { id: 'PEP1', type: 'escalation_policy', name: 'Payments on-call', escalation_rules: [] },
    ],
    teams: [{ id: 'PTM1', type: 'team', name: 'Payments' }],
  };
  readonly requests: string[] = [];
  token = 'pd-token-abc123';
  /** offset + limit may not pass this (10,000 on the real API). */
  offsetCap = 10_000;
  /** Next responses answered 429, with or without the rate-limit headers. */
  readonly rateLimits: Array<{ headers: boolean }> = [];
  private server: Awaited<ReturnType<typeof startLocalServer>> | undefined;
  baseUrl = '';

  constructor(incidentCount = 60) {
    for (let i = 0; i < incidentCount; i += 1) this.addIncident(START + i * 12 * HOUR);
  }

  addIncident(createdAt: number): Json {
    const number = this.incidents.length + 1;
    const incident: Json = {
      id: `Q${String(number).padStart(6, '0')}`,
      type: 'incident',
      incident_number: number,
      title: `Incident ${number}`,
      created_at: iso(createdAt),
      updated_at: iso(createdAt),
      status: 'triggered',
      urgency: 'high',
      service: { id: 'PSVC1', type: 'service_reference' },
      assignments: [],
      last_status_change_at: iso(createdAt),
      resolved_at: null,
    };
    this.incidents.push(incident);
    this.logEntries.push({
      id: `R${number}`,
      type: 'trigger_log_entry',
      created_at: iso(createdAt),
      incident: { id: incident.id, type: 'incident_reference' },
    });
    return incident;
  }

  resolve(incident: Json, at: number): void {
    incident.status = 'resolved';
    incident.resolved_at = iso(at);
    this.changed(incident, at, 'resolve_log_entry', true);
  }

  acknowledge(incident: Json, at: number): void {
    incident.status = 'acknowledged';
    this.changed(incident, at, 'acknowledge_log_entry', true);
  }

  /** A change that is not a status change: the incident is reassigned. */
  reassign(incident: Json, at: number, user: string): void {
    incident.assignments = [{ at: iso(at), assignee: { id: user, type: 'user_reference' } }];
    this.changed(incident, at, 'assign_log_entry', false);
  }

  private changed(incident: Json, at: number, type: string, statusChange: boolean): void {
    if (statusChange) incident.last_status_change_at = iso(at);
    incident.updated_at = iso(at);
    this.logEntries.push({
      id: `R${this.logEntries.length + 1}x`,
      type,
      created_at: iso(at),
      incident: { id: incident.id, type: 'incident_reference' },
    });
  }

  async start(): Promise<this> {
    this.server = await startLocalServer((request, response) => this.handle(request, response));
    this.baseUrl = `${this.server.url}`;
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  private handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://fake');
    this.requests.push(`${url.pathname}${url.search}`);
    const rateHeaders = { 'ratelimit-limit': '960', 'ratelimit-remaining': '900', 'ratelimit-reset': '30' };
    const send = (status: number, body: unknown, headers: Record<string, string> = rateHeaders) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    const fail = (status: number, message: string, code: number, errors?: string[]) =>
      send(status, { error: { message, code, ...(errors === undefined ? {} : { errors }) } });
    if (request.headers.authorization !== `Token token=${this.token}`)
      return fail(401, 'Authentication failed', 2006);
    const limited = this.rateLimits.shift();
    if (limited !== undefined) {
      return limited.headers
        ? send(
            429,
            { error: { message: 'Rate Limit Exceeded', code: 2020 } },
            { 'ratelimit-limit': '960', 'ratelimit-remaining': '0', 'ratelimit-reset': '12' },
          )
        : send(429, 'Too Many Requests', {});
    }
    const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 25));
    const offset = Number(url.searchParams.get('offset') ?? 0);
    if (offset + limit > this.offsetCap) {
      return fail(400, 'Arguments Caused Error', 2002, [
        `Offset+limit exceeds the maximum allowed value of ${this.offsetCap}. Use a narrower filter, such as a date range.`,
      ]);
    }
    const one = /^\/incidents\/([^/]+)$/.exec(url.pathname);
    if (one !== null) {
      const incident = this.incidents.find((row) => row.id === decodeURIComponent(one[1] ?? ''));
      return incident === undefined
        ? fail(404, 'Not Found', 5001, ['Incident Not Found'])
        : send(200, { incident });
    }
    const collection = url.pathname.slice(1);
    let rows: Json[];
    if (collection === 'incidents' || collection === 'log_entries') {
      const since = url.searchParams.get('since');
      const until = url.searchParams.get('until');
      const from = since === null ? Date.now() - 30 * 24 * HOUR : Date.parse(since);
      const to = until === null ? Date.now() : Date.parse(until);
      if (Number.isNaN(from) || Number.isNaN(to))
        return fail(400, 'Invalid Input Provided', 2004, ['since and until must be dates']);
      if (collection === 'incidents' && to - from > 183 * 24 * HOUR)
        return fail(400, 'Invalid Input Provided', 2001, ['Date range cannot exceed 6 months']);
      const source = collection === 'incidents' ? this.incidents : this.logEntries;
      rows = source.filter(
        (row) => Date.parse(String(row.created_at)) >= from && Date.parse(String(row.created_at)) < to,
      );
      rows.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
    } else if (collection in this.lists) {
      rows = this.lists[collection] ?? [];
    } else {
      return fail(404, 'Not Found', 2100);
    }
    let items = rows.slice(offset, offset + limit);
    if (collection === 'log_entries' && url.searchParams.getAll('include[]').includes('incidents'))
      items = items.map((entry) => ({
        ...entry,
        incident:
          this.incidents.find((incident) => incident.id === (entry.incident as Json).id) ?? entry.incident,
      }));
    return send(200, { [collection]: items, limit, offset, more: offset + limit < rows.length, total: null });
  }
}
