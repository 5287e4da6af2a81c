/**
 * A fake Stitch Import API, written from shared/reference/destinations/stitch-import-api.md: Bearer
 * tokens mapped to client ids (401 Not Authorized for a wrong token or region, the inactive-connection
 * 401 when paused), `GET /v2/import/status` without auth, `POST /v2/import/batch` with its validation
 * (unknown top-level keys, missing fields, schema not an object, records that break the schema with
 * their 0-based index, missing or null or nested keys, sequence past 2^63-1), the 4 MB (413) and
 * 20,000-record (400) limits, 415 for other content types, 201 (or 202) on success, injectable 5xx,
 * and a per-table store that keeps, per key, the row with the highest sequence (append-only without keys).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSafeNumber, parse } from 'lossless-json';
import { startLocalServer } from './local-server.ts';

type Json = Record<string, unknown>;
const MAX_BYTES = 4 * 1024 * 1024;
const MAX_RECORDS = 20_000;
const MAX_SEQUENCE = 9223372036854775807n;
const BATCH_KEYS = new Set(['table_name', 'schema', 'messages', 'key_names']);

export interface StoredRow {
  readonly sequence: bigint;
  readonly data: Json;
}

export class StitchImportApi {
  readonly tokens = new Map<string, number>([['at_stitch_token_1', 48112]]);
  /** client id → table → rows (keyed: one per key, the highest sequence; append-only: every row). */
  readonly tables = new Map<string, StoredRow[]>();
  readonly batches: Array<{ table: string; records: number; bytes: number }> = [];
  paused = false;
  acceptWith: 201 | 202 = 201;
  /** Next responses: this status (503, 504, a 400 with its body) instead of handling the batch. */
  readonly faults: Array<{ status: number; body?: unknown }> = [];
  /** The request body limit (4 MB on the real API). */
  maxBytes = MAX_BYTES;
  baseUrl = '';
  private server: Awaited<ReturnType<typeof startLocalServer>> | undefined;

  async start(): Promise<this> {
    this.server = await startLocalServer((request, response) => this.handle(request, response));
    this.baseUrl = this.server.url;
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  rows(table: string): Json[] {
    return (this.tables.get(table) ?? []).map((row) => row.data);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const send = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    const url = new URL(request.url ?? '/', 'http://fake');
    if (url.pathname === '/v2/import/status' && request.method === 'GET')
      return send(200, {
        name: 'pipeline.gate',
        version: '1.0.0',
        revision: 'fake',
        status: 'OK',
        reason: null,
      });
    if (url.pathname !== '/v2/import/batch') return send(404, { message: 'Not Found' });
    if (request.method !== 'POST') {
      response.writeHead(405);
      return void response.end('Method Not Allowed');
    }
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !this.tokens.has(token)) return send(401, { message: 'Not Authorized' });
    if (this.paused) return send(401, { error: 'Forbidden', errors: { error: 'Connection is not active.' } });
    const fault = this.faults.shift();
    if (fault !== undefined) return send(fault.status, fault.body ?? { message: 'Service Unavailable' });
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      response.writeHead(415);
      return void response.end('Content-Type must be application/json');
    }
    if (body.length > this.maxBytes)
      return send(413, {
        status: 'ERROR',
        message: `Request rejected: request size (${body.length} bytes) exceeds the maximum`,
      });
    let batch: Json;
    try {
      // Sequences may be 19 digits: read them exactly.
      batch = parse(body.toString('utf8'), null, (digits: string) =>
        isSafeNumber(digits) || !/^-?\d+$/.test(digits) ? Number(digits) : BigInt(digits),
      ) as Json;
    } catch (error) {
      return send(400, { error: `Request failed validation: malformed JSON: ${(error as Error).message}` });
    }
    for (const key of Object.keys(batch))
      if (!BATCH_KEYS.has(key))
        return send(400, { error: `Request failed validation:#: extraneous key [${key}] is not permitted` });
    for (const key of ['table_name', 'schema', 'messages'])
      if (!(key in batch))
        return send(400, { error: `Request failed validation:#: required key [${key}] not found` });
    const schema = batch.schema;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
      return send(400, {
        error: 'Request failed validation:#/schema: expected type: JSONObject, found: JSONArray',
      });
    const messages = batch.messages as Json[];
    if (!Array.isArray(messages))
      return send(400, { error: 'Request failed validation:#/messages: expected type: JSONArray' });
    if (messages.length < 1 || messages.length > MAX_RECORDS)
      return send(400, {
        error: `Request failed validation: between 1 and ${MAX_RECORDS} messages are allowed, received ${messages.length}`,
      });
    const keys = batch.key_names as string[] | undefined;
    if (keys !== undefined && !Array.isArray(keys))
      return send(400, {
        error: 'Request failed validation:#/key_names: expected type: JSONArray, found: String',
      });
    const properties = ((schema as Json).properties ?? {}) as Record<string, Json>;
    for (const key of keys ?? [])
      if (!(key in properties))
        return send(400, { error: `key_names: ${key} is not a top-level property of the schema` });
    for (const [index, message] of messages.entries()) {
      if (message.action !== 'upsert') return send(400, { error: `Record ${index}: action must be upsert` });
      const sequence = message.sequence;
      if (typeof sequence !== 'number' && typeof sequence !== 'bigint')
        return send(400, { error: `Record ${index}: sequence must be an integer` });
      if (BigInt(sequence) > MAX_SEQUENCE)
        return send(400, { error: `Record ${index}: sequence cannot exceed 9223372036854775807` });
      const data = message.data as Json | undefined;
      if (typeof data !== 'object' || data === null)
        return send(400, { error: `Record ${index}: data must be an object` });
      for (const key of keys ?? [])
        if (data[key] === undefined || data[key] === null)
          return send(400, { error: `Record is missing key property ${key}` });
      for (const [name, value] of Object.entries(data)) {
        const problem = typeProblem(properties[name], value);
        if (problem !== undefined)
          return send(400, { error: `Record ${index} did not conform to schema: #/${name}: ${problem}` });
      }
    }
    const client = String(this.tokens.get(token));
    const table = `${client}.${String(batch.table_name)}`;
    const stored = this.tables.get(table) ?? [];
    for (const message of messages) {
      const row = { sequence: BigInt(message.sequence as number | bigint), data: message.data as Json };
      if (keys === undefined || keys.length === 0) {
        stored.push(row);
        continue;
      }
      const key = JSON.stringify(keys.map((name) => String(row.data[name])));
      const existing = stored.findIndex(
        (candidate) => JSON.stringify(keys.map((name) => String(candidate.data[name]))) === key,
      );
      if (existing === -1) stored.push(row);
      else if ((stored[existing] as StoredRow).sequence < row.sequence) stored[existing] = row;
    }
    this.tables.set(table, stored);
    this.batches.push({ table: String(batch.table_name), records: messages.length, bytes: body.length });
    return send(
      this.acceptWith,
      this.acceptWith === 201
        ? { status: 'OK', message: 'Batch Accepted!' }
        : { status: 'Accepted', message: 'The batch is queued to be processed.' },
    );
  }
}

/** A small type check of the JSON Schema types Stitch enforces. */
function typeProblem(schema: Json | undefined, value: unknown): string | undefined {
  if (schema === undefined) return undefined;
  const declared = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (declared.length === 0) return undefined;
  const actual =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'array'
        : typeof value === 'bigint'
          ? 'integer'
          : typeof value === 'number'
            ? Number.isInteger(value)
              ? 'integer'
              : 'number'
            : typeof value;
  if (declared.includes(actual) || (actual === 'integer' && declared.includes('number'))) return undefined;
  return `expected type: ${declared.join(' or ')}, found: ${actual}`;
}
